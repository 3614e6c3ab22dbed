"""The one owner of a job's life: how it starts (`submit`) and how it stops (`end`).

Every path that creates GPU work (/imagine, Re-roll, the V buttons, and the coming upscale and
image prompts) calls `submit`; every way a job stops without being delivered (failed, cancelled,
expired, and the safety filter's blocked) goes through `end`. That gives quotas one place to debit
and refund, and content safety one place to check before admission.

`submit` order: validate -> (content safety) -> quota debit and insert, in one transaction ->
queue -> acknowledge. `end` refunds in the transaction that ends the job: a job that failed,
expired, was blocked or was cancelled before it started costs nothing; one cancelled while
rendering pays for the steps it used (the dispatcher knows how far its batch got).

The job enters the fair queue in admission order, *before* the front end replies: a member's own
jobs run in the order they were admitted, whatever order their replies come back from Discord in.
What the front end would show of the job (progress, result) waits until that first reply is out.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.models import INTERACTION_TOKEN_LIFETIME, Job, JobStatus, Requester, WorkRequest
from bot.services.admission import Admission
from bot.services.dispatcher import Dispatcher
from bot.services.jobs import ENDINGS, JobStore
from bot.services.quotas import QuotaService

if TYPE_CHECKING:
    from bot.services.safety import SafetyService

log = logging.getLogger(__name__)

# acknowledge(job, position or None when already rendering, eta) -> the id of the job's message
Acknowledge = Callable[[Job, "int | None", "float | None"], Awaitable["int | None"]]

TOKEN_SWEEP_INTERVAL = 60.0


class JobService:
    def __init__(self, admission: Admission, store: JobStore, dispatcher: Dispatcher,
                 clock: Callable[[], float] = time.time, quotas: QuotaService | None = None,
                 safety: SafetyService | None = None):
        self.admission = admission
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock
        self.quotas = quotas if quotas is not None and quotas.enabled else None
        self.safety = safety  # None only in tests of the serving layer alone
        dispatcher.lifecycle = self
        dispatcher.safety = safety
        self._sweeper: asyncio.Task | None = None

    async def start(self) -> None:
        await self.dispatcher.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_tokens(), name="token-sweep")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.dispatcher.stop()

    async def submit(self, requester: Requester, request: WorkRequest, acknowledge: Acknowledge) -> Job:
        """Admit `request` and queue it, then let the front end acknowledge it.

        Raises the admission's BotError (nothing stored, nothing queued) or whatever `acknowledge`
        raised (the job is then ended as cancelled, silently: there is no message to edit)."""
        plan = await self.admission.plan(requester, request)  # validation and price
        if self.safety is not None:  # the prompt filter: a refusal raises, nothing stored or charged
            plan = await self.safety.screen(requester, plan)
        job = await self.admission.admit(requester, plan, now=self.clock(), quotas=self.quotas)
        self.dispatcher.hold(job.id)
        self.dispatcher.enqueue(job, announced=True)
        position, eta = self.dispatcher.place(job)
        try:
            message_id = await acknowledge(job, position, eta)
        except BaseException:
            self.dispatcher.release(job.id, shown=False)
            await asyncio.shield(self.end(job, JobStatus.CANCELLED, "The request could not be acknowledged.",
                                          notify=False))
            raise
        job.message_id = message_id
        await self.store.set_message(job.id, message_id)
        self.dispatcher.release(job.id, shown=True)
        return job

    async def precheck(self, requester: Requester, request: WorkRequest) -> None:
        """The cheap checks of `submit` alone (validation, the prompt filter, whether the member's
        credits cover the price), before anything costly is fetched for the request (an image
        prompt's download). Raises what submit would raise; nothing is stored or charged, and
        submit checks everything again."""
        plan = await self.admission.plan(requester, request)
        if self.safety is not None:
            plan = await self.safety.screen(requester, plan)
        if self.quotas is not None:
            await self.quotas.check(requester, plan.cost, self.clock())

    async def cancel(self, job: Job) -> bool:
        """Cancel a queued job now, or a running one at its next step. False if already ended."""
        return await self.end(job, JobStatus.CANCELLED, "Cancelled.")

    async def end(self, job: Job, status: JobStatus, reason: str, *, notify: bool = True) -> bool:
        """The one way a job stops without being delivered. `reason` is what its owner is told.

        One transaction ends it and refunds its owner; then the job leaves the queue or its batch,
        and its message says why. False if the job had already ended (nothing changes then)."""
        if status not in ENDINGS:
            raise ValueError(f"{status} is not an ending")
        progress = self.dispatcher.progress(job.id)  # (step, total) while rendering, else None
        now = self.clock()
        async with self.store.db.transaction() as conn:
            changed = await self.store.end(conn, job.id, status, reason, now)
            if changed and self.quotas is not None:
                await self.quotas.refund(conn, job.id, status, progress, now)
        if not changed:
            return False
        job.status = status
        self.dispatcher.forget(job)
        if notify:
            await self.dispatcher.tell_ended(job, status, reason)
        return True

    async def cancel_queued(self, guild_id: int | None, user_id: int, reason: str) -> list[Job]:
        """End every queued (not yet rendering) job of a member in a server, refunded (a ban)."""
        ended = []
        for job in await self.store.active_for_user(user_id, guild_id or None):
            if self.dispatcher.is_running(job.id):
                continue
            if await self.end(job, JobStatus.CANCELLED, reason):
                ended.append(job)
        return ended

    async def _sweep_tokens(self) -> None:
        """Interaction tokens are credentials for 15 minutes: forget them once they expired."""
        while True:
            try:
                cleared = await self.store.clear_expired_tokens(self.clock() - INTERACTION_TOKEN_LIFETIME)
                if cleared:
                    log.debug("forgot %d expired interaction tokens", cleared)
                # Tokens cleared since the last pass (delivery, cancel, failure) also leave the WAL.
                await self.store.db.checkpoint()
            except Exception:
                log.warning("clearing expired interaction tokens failed", exc_info=True)
            await asyncio.sleep(TOKEN_SWEEP_INTERVAL)
