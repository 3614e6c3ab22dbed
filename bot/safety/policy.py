"""What a channel may receive: the policy table of README "Content safety", as code.

Only an age-restricted channel (threads take their parent's flag) of a server whose moderators
enabled NSFW (`/mod safety nsfw enabled:true`) may receive sexual content and gore. Everything else,
DMs and channels the bot cannot see included, is SFW: fail closed. Some categories are refused
everywhere, age-restricted channels included.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable

from bot.i18n import N_
from bot.safety.terms import Category


class ChannelKind(str, enum.Enum):
    SFW = "sfw"  # an ordinary channel, a DM, or one the bot cannot tell
    AGE_RESTRICTED = "age-restricted"  # but the server has not enabled NSFW
    NSFW = "nsfw"  # age-restricted, and the server enabled NSFW

    @property
    def allows_nsfw(self) -> bool:
        return self is ChannelKind.NSFW


def channel_kind(channel_nsfw: bool, server_allows_nsfw: bool) -> ChannelKind:
    if not channel_nsfw:
        return ChannelKind.SFW
    return ChannelKind.NSFW if server_allows_nsfw else ChannelKind.AGE_RESTRICTED


# Most severe first: a refusal names the first one found.
ALWAYS_REFUSED = (Category.SEXUAL_MINORS, Category.NONCONSENSUAL, Category.HATE, Category.CUSTOM)
NSFW_ONLY = (Category.SEXUAL, Category.GORE)


def refused_category(categories: Iterable[Category], kind: ChannelKind) -> Category | None:
    """The category that refuses a prompt in a channel of `kind`, or None if it may be rendered.
    MINORS alone is never refused ("a child flying a kite")."""
    found = set(categories)
    for category in ALWAYS_REFUSED:
        if category in found:
            return category
    if not kind.allows_nsfw:
        for category in NSFW_ONLY:
            if category in found:
                return category
    return None


def refusal(category: Category, kind: ChannelKind, delivering: bool = False) -> str:
    """The member's reason: the category, never the matched word, and where it would be allowed.
    `delivering`: the job was rendered, but its channel no longer allows it (checked again)."""
    if category in ALWAYS_REFUSED:
        where = N_("which this server does not allow anywhere") if category is Category.CUSTOM \
            else N_("which is never allowed, age-restricted channels included")
    elif kind is ChannelKind.AGE_RESTRICTED:
        where = N_("which this server's moderators have not enabled, even in age-restricted channels")
    else:
        where = N_("which this channel does not allow (only age-restricted channels may, where the "
                   "server's moderators enabled it)")
    if delivering:
        return N_("🚫 Not delivered: the prompt asks for {label}, {where}. Nothing was charged.",
                  label=category.label, where=where)
    return N_("🚫 Your prompt was refused: it asks for {label}, {where}. Nothing was queued or charged.",
              label=category.label, where=where)
