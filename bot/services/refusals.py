"""Per-member refusal rate limit: a member whose requests the content filter refused REFUSAL_LIMIT
times within REFUSAL_WINDOW_MINUTES is answered with a cooldown message for
REFUSAL_COOLDOWN_MINUTES instead of being checked again. Discord-free.

Why: every refusal is a row in the block log and a post in the moderators' log channel; someone
hammering the filter (probing for a spelling that slips through, or just flooding) would otherwise
grow both without bound. During the cooldown nothing is checked, stored or posted. Moderators are
exempt (they test the filter on purpose). The counts live in memory: a restart forgets them, which
costs at most one more round of REFUSAL_LIMIT refusals.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import ContentBlocked
from bot.i18n import N_

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefusalPolicy:
    limit: int = 5  # 0: no limit
    window: float = 600.0  # seconds
    cooldown: float = 900.0  # seconds

    @classmethod
    def from_settings(cls, settings) -> RefusalPolicy:
        return cls(settings.refusal_limit, settings.refusal_window_minutes * 60.0,
                   settings.refusal_cooldown_minutes * 60.0)


class RefusalLimiter:
    def __init__(self, policy: RefusalPolicy, clock: Callable[[], float] = time.time):
        self.policy = policy
        self.clock = clock
        self._recent: dict[tuple[int, int], deque[float]] = {}
        self._cooling: dict[tuple[int, int], float] = {}  # member -> end of their cooldown

    def check(self, guild_id: int | None, user_id: int, is_moderator: bool = False) -> None:
        """Raise ContentBlocked with the cooldown message while the member cools down."""
        if is_moderator or self.policy.limit <= 0:
            return
        key = (guild_id or 0, user_id)
        until = self._cooling.get(key)
        if until is None:
            return
        now = self.clock()
        if now >= until:
            del self._cooling[key]
            return
        minutes = max(1, round((until - now) / 60))
        raise ContentBlocked(N_(
            "🚫 Your last {limit} requests here were refused by the content filter, so the bot "
            "is not checking new ones from you for a while. Try again in about {minutes} min (<t:{until}:R>). "
            "Nothing was queued or charged.", limit=self.policy.limit, minutes=minutes, until=int(until)))

    def refused(self, guild_id: int | None, user_id: int) -> bool:
        """Count one refusal; True if it started the member's cooldown."""
        if self.policy.limit <= 0:
            return False
        key, now = (guild_id or 0, user_id), self.clock()
        recent = self._recent.setdefault(key, deque(maxlen=self.policy.limit))
        recent.append(now)
        self._forget_idle(now)
        if len(recent) == self.policy.limit and now - recent[0] <= self.policy.window:
            self._cooling[key] = now + self.policy.cooldown
            recent.clear()
            log.info("content safety: user %s in server %s refused %d times within %.0f min: cooling down %.0f min",
                     user_id, guild_id, self.policy.limit, self.policy.window / 60, self.policy.cooldown / 60)
            return True
        return False

    def _forget_idle(self, now: float) -> None:
        """Drop members with no refusal inside the window (keeps memory bounded by active members)."""
        if len(self._recent) < 1024:
            return
        for key in [k for k, times in self._recent.items() if not times or now - times[-1] > self.policy.window]:
            del self._recent[key]
        for key in [k for k, until in self._cooling.items() if until <= now]:
            del self._cooling[key]
