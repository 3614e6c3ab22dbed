"""A Discord-compatible test server for driving an unmodified discord.py bot.

    server = FakeDiscord(token="test-token")
    await server.start()
    # point discord.http.Route.BASE at server.api_base and
    # discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY at server.gateway_url
"""

from .models import (
    ADMINISTRATOR,
    ATTACH_FILES,
    DEFAULT_APP_PERMISSIONS,
    DEFAULT_USER_PERMISSIONS,
    EMBED_LINKS,
    MANAGE_MESSAGES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    USE_APPLICATION_COMMANDS,
    VIEW_CHANNEL,
    Attachment,
    Channel,
    Guild,
    Interaction,
    Message,
    User,
)
from .server import FakeDiscord

__all__ = [
    "FakeDiscord", "Guild", "Channel", "User", "Message", "Attachment", "Interaction",
    "ADMINISTRATOR", "ATTACH_FILES", "DEFAULT_APP_PERMISSIONS", "DEFAULT_USER_PERMISSIONS", "EMBED_LINKS",
    "MANAGE_MESSAGES", "READ_MESSAGE_HISTORY", "SEND_MESSAGES", "USE_APPLICATION_COMMANDS", "VIEW_CHANNEL",
]
