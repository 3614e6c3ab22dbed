"""What the front end uses from the Discord client: the services it built and the few client
calls that reach channels. Buttons, flows, the presenter, the safety front and the cogs depend on
this protocol, never on the client class (bot/frontend/app.py), which is the top floor of the
front end: it builds everything and imports the others, and nothing imports it back."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import discord

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.database import Database
    from bot.models import Job, StoredImage
    from bot.services.admission import Admission
    from bot.services.audit import AuditLog
    from bot.services.authz import JobAuthorizer
    from bot.services.dispatcher import Dispatcher
    from bot.services.history import HistoryService
    from bot.services.image_input import ImageInputs
    from bot.services.jobs import JobStore
    from bot.services.lifecycle import JobService
    from bot.services.moderation import ModerationService
    from bot.services.quotas import QuotaService
    from bot.services.retention import RetentionService
    from bot.services.safety import SafetyService
    from bot.services.settings_store import SettingsStore


class JobMessages(Protocol):
    """What flows and views ask of the job's message (bot/frontend/presenter.py); the rest of the
    presenter is the dispatcher's JobEvents."""

    def add_note(self, job_id: int, note: str) -> None: ...

    async def first_reply(self, interaction: discord.Interaction, job: Job, position: int | None,
                          eta: float | None, extra: str | None = None) -> int: ...

    def upscalable(self, images: list[StoredImage], model: str | None = None) -> list[bool]: ...


class BotContext(Protocol):
    """The client as the front end sees it. `dispatcher`, `jobs` and `moderation` are built in
    setup_hook, which discord.py runs before the first interaction arrives."""

    settings: Settings

    # The services: read-only here (the client delegates them to its bot.wiring.Services).
    @property
    def db(self) -> Database: ...

    @property
    def store(self) -> JobStore: ...

    @property
    def safety(self) -> SafetyService: ...

    @property
    def admission(self) -> Admission: ...

    @property
    def history(self) -> HistoryService: ...

    @property
    def member_settings(self) -> SettingsStore: ...

    @property
    def inputs(self) -> ImageInputs: ...

    @property
    def retention(self) -> RetentionService: ...

    @property
    def authz(self) -> JobAuthorizer: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def quotas(self) -> QuotaService: ...

    @property
    def dispatcher(self) -> Dispatcher: ...

    @property
    def jobs(self) -> JobService: ...

    @property
    def moderation(self) -> ModerationService: ...

    @property
    def presenter(self) -> JobMessages: ...  # read-only here: the client's is the DiscordPresenter

    def get_channel(self, id: int, /) -> Any: ...

    def get_guild(self, id: int, /) -> discord.Guild | None: ...

    async def fetch_channel(self, channel_id: int, /) -> Any: ...

    def get_partial_messageable(self, id: int, *, guild_id: int | None = None) -> discord.PartialMessageable: ...


def bot_of(interaction: discord.Interaction) -> BotContext:
    return interaction.client  # type: ignore[return-value]
