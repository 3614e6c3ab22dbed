"""The discord.py client: builds the services, starts the renderer, loads the cogs."""
from __future__ import annotations

import gc
import hashlib
import json
import logging
from typing import TYPE_CHECKING

import discord
import yarl
from discord.ext import commands

from bot import logsafety
from bot.config import Settings
from bot.frontend.flows import guard, reply_error
from bot.frontend.moderation import MOD
from bot.frontend.presenter import DiscordPresenter
from bot.frontend.safety import DiscordSafetyFront
from bot.frontend.translator import CatalogueTranslator
from bot.models import INTERACTION_TOKEN_LIFETIME
from bot.wiring import Services

if TYPE_CHECKING:
    from bot.database import Database
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
    from bot.web.server import WebServer

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.imagine", "cogs.queue", "cogs.quota", "cogs.moderation", "cogs.safety", "cogs.history",
              "cogs.settings", "cogs.storage", "cogs.help")


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at a Discord-compatible server (tests, REST proxies)."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class PixelBot(commands.Bot):
    def __init__(self, settings: Settings):
        intents = discord.Intents.none()
        intents.guilds = True  # channel and role cache; no message content needed
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            # Prompts are echoed back: nothing the bot says may ever ping anyone.
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        # The services are shared with the web front end (bot/wiring.py); this client claims the
        # jobs no other front end claims, and answers content safety's questions about channels.
        self.core = Services(settings, on_fatal=self.close)
        self.presenter = DiscordPresenter(self)
        self.core.events.default = self.presenter
        self.core.safety_front.discord = DiscordSafetyFront(self)
        self.web: WebServer | None = None  # WEB_ENABLED=true: the web front end beside this client (bot/web/server.py)
        self.tree.on_error = reply_error  # type: ignore[method-assign]
        self.tree.interaction_check = guard  # type: ignore[method-assign]  # bans: the same check runs before every button (buttons._Guarded)

    async def setup_hook(self) -> None:
        if self.settings.web_enabled:  # the port first: a taken one stops here, before anything starts
            from bot.web.server import WebServer

            self.web = WebServer(self.core, discord_client=self)  # claims the web's jobs before recovery
            self.web.bind_or_refuse()
        await self.core.open()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if MOD.commands:  # cogs attached their /mod subcommands while loading
            self.tree.add_command(MOD, override=True)
        await self.tree.set_translator(CatalogueTranslator())  # names and descriptions in fr, de (bot/locale)
        await self.sync_commands_if_changed()
        await self.core.start()
        if self.web is not None:
            await self.web.start()
        # Everything imported and built so far lives as long as the bot: out of the collector's full
        # passes, which otherwise walk it all on the event-loop thread (a 0.41 s stall under load).
        gc.freeze()

    # The shared services as the front end reads them (BotContext, bot/frontend/context.py): always
    # the ones self.core holds now.
    @property
    def db(self) -> Database:
        return self.core.db

    @property
    def store(self) -> JobStore:
        return self.core.store

    @property
    def safety(self) -> SafetyService:
        return self.core.safety

    @property
    def admission(self) -> Admission:
        return self.core.admission

    @property
    def history(self) -> HistoryService:
        return self.core.history

    @property
    def member_settings(self) -> SettingsStore:
        return self.core.member_settings

    @property
    def inputs(self) -> ImageInputs:
        return self.core.inputs

    @property
    def retention(self) -> RetentionService:
        return self.core.retention

    @property
    def authz(self) -> JobAuthorizer:
        return self.core.authz

    @property
    def audit(self) -> AuditLog:
        return self.core.audit

    @property
    def quotas(self) -> QuotaService:
        return self.core.quotas

    @property
    def dispatcher(self) -> Dispatcher:
        # Built by core.open() in setup_hook, which discord.py runs before any interaction arrives;
        # AttributeError before that, so getattr(bot, "dispatcher", None) still reads None then.
        if self.core.dispatcher is None:
            raise AttributeError("dispatcher: setup_hook has not opened the services yet")
        return self.core.dispatcher

    @property
    def jobs(self) -> JobService:
        # Built by core.open() in setup_hook, which discord.py runs before any interaction arrives;
        # AttributeError before that, so getattr(bot, "jobs", None) still reads None then.
        if self.core.jobs is None:
            raise AttributeError("jobs: setup_hook has not opened the services yet")
        return self.core.jobs

    @property
    def moderation(self) -> ModerationService:
        # Built by core.open() in setup_hook, which discord.py runs before any interaction arrives;
        # AttributeError before that, so getattr(bot, "moderation", None) still reads None then.
        if self.core.moderation is None:
            raise AttributeError("moderation: setup_hook has not opened the services yet")
        return self.core.moderation

    @property
    def exit_code(self) -> int:
        return self.core.exit_code

    @exit_code.setter
    def exit_code(self, value: int) -> None:
        self.core.exit_code = value

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        # The token is a credential for 15 minutes: from now on it never reaches the log.
        logsafety.register_secret(interaction.token, INTERACTION_TOKEN_LIFETIME)

    async def sync_commands_if_changed(self) -> None:
        """Sync only when the command definitions changed: Discord allows 200 creates a day."""
        guild = discord.Object(self.settings.discord_guild_id) if self.settings.discord_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        # With the translations: a changed catalogue syncs again.
        translator = self.tree.translator
        payload = [await command.get_translated_payload(self.tree, translator) if translator
                   else command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"commands:{self.application_id}:{guild.id if guild else 'global'}"
        if await self.store.get_state(key) == digest:
            log.info("application commands unchanged; not syncing")
            return
        await self.tree.sync(guild=guild)
        await self.store.set_state(key, digest)
        log.info("synced %d application commands", len(payload))

    async def close(self) -> None:
        if self.web is not None:
            await self.web.close()
            self.web = None
        await self.core.close()
        await super().close()
