"""Live previews on the way to the front end: the newest one per job, shown with the job's next
progress edit (so previews ride the ProgressNotifier's PROGRESS_EDIT_INTERVAL throttle and never add
edits of their own), and only where the safety rule allows.

The safety rule: a preview is shown only where delivery would post the finished image WITHOUT an
image check (bot/services/safety.py `showable`): an age-restricted channel of a server with NSFW
enabled, a prompt that suggests no minor, and no uploaded image prompt. Everywhere else (every SFW
channel, DMs) the image checker decides about the result, and a preview cannot be checked cheaply
at every step, so none is shown: members there see the text progress as before. Fails closed: a
failed check shows no preview.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.models import Job

if TYPE_CHECKING:
    from bot.services.safety import SafetyService

log = logging.getLogger(__name__)


async def preview_allowed(safety: SafetyService | None, job: Job) -> bool:
    """True where the job's result will be posted unchecked (the rule above)."""
    if safety is None or job.params.init_image and job.params.init_image.startswith("inputs/"):
        return False
    r = job.requester
    channel_nsfw = await safety.front.channel_nsfw(r.channel_id) if safety.front is not None else False
    kind, _guild = await safety._kind(r.guild_id, channel_nsfw)
    if not kind.allows_nsfw:
        return False
    text = await safety._read_text(job.params, r.guild_id, kind, delivering=True)
    return text.category is None and not text.suggests_minor


class PreviewRelay:
    def __init__(self) -> None:
        self._latest: dict[int, bytes] = {}  # job id -> newest preview not shown yet
        self._allowed: dict[int, bool] = {}  # job id -> the safety rule's answer, asked once per job

    def keep(self, previews: dict[int, bytes]) -> None:
        self._latest.update(previews)

    def drop(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            self._latest.pop(job_id, None)
            self._allowed.pop(job_id, None)

    async def rendering(self, events: Any, safety: SafetyService | None, job: Job, step: int, total: int,
                        eta: float | None) -> None:
        """The progress edit, with the newest preview when there is one, the front end shows
        previews (`rendering_preview`; the web's JobEvents has none) and the rule allows it."""
        data = self._latest.pop(job.id, None)
        show = getattr(events, "rendering_preview", None)
        if data is not None and show is not None and (await self._may_show(safety, job)
                                                      or await self._checked(events, safety, job, data)):
            await show(job, step, total, eta, data)
        else:
            await events.rendering(job, step, total, eta)

    async def _checked(self, events: Any, safety: SafetyService | None, job: Job, data: bytes) -> bool:
        """Where the rule says no: a front end that asks for checked previews (the web) gets this
        one if the image checker passes it (bot/services/preview_check.py)."""
        wants = getattr(events, "checks_previews", None)
        if wants is None or not wants(job):
            return False
        from bot.services.preview_check import preview_passes

        try:
            return await preview_passes(safety, job, data)
        except Exception:
            log.warning("job %s: checking a live preview failed; not shown", job.id, exc_info=True)
            return False

    async def _may_show(self, safety: SafetyService | None, job: Job) -> bool:
        if job.id not in self._allowed:
            try:
                self._allowed[job.id] = await preview_allowed(safety, job)
            except Exception:
                log.warning("job %s: the preview safety rule failed; no previews", job.id, exc_info=True)
                self._allowed[job.id] = False
            log.info("job %s: live previews %s", job.id, "shown" if self._allowed[job.id] else
                     "not shown (the result needs the image check here)")
        return self._allowed[job.id]
