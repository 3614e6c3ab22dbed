"""Building INTERACTION_CREATE payloads the way the Discord client would.

The client only lets a user invoke what was synced, with values that fit the option definitions,
and only click buttons that exist and are enabled; these builders raise ValueError where the
client would refuse, so a test cannot send the bot something Discord never would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import (
    ADMINISTRATOR,
    USE_APPLICATION_COMMANDS,
    VIEW_CHANNEL,
    Attachment,
    Channel,
    Guild,
    Message,
    User,
    attachment_json,
    channel_json,
    guess_content_type,
    role_json,
    user_json,
    walk_components,
)

if TYPE_CHECKING:
    from .server import FakeDiscord

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
MAX_SAFE_INT = 2 ** 53


def find_command(server: FakeDiscord, guild_id: int, name: str, ctype: int = 1) -> dict[str, Any]:
    for cmd in server.guild_commands.get(guild_id, []) + server.global_commands:
        if cmd["name"] == name and cmd.get("type", 1) == ctype:
            return cmd
    synced = sorted({c["name"] for c in server.commands})
    raise ValueError(f"no synced command /{name} (synced: {synced}); the Discord client would not offer it")


def check_command_access(cmd: dict[str, Any], user: User, channel: Channel, admin_override: bool) -> None:
    contexts = cmd.get("contexts")
    if channel.is_dm:
        # A bot DM (context 1): only global commands that allow it; no member permissions there.
        if cmd.get("guild_id") or cmd.get("dm_permission") is False or (contexts is not None and 1 not in contexts):
            raise ValueError(f"/{cmd['name']} is not available in DMs (the client does not offer it)")
        return
    if not user.is_member(channel.guild_id):
        raise ValueError(f"{user.username} is not a member of the guild of #{channel.name}")
    perms = user.effective_permissions(channel.guild_id)
    if not perms & VIEW_CHANNEL or not perms & USE_APPLICATION_COMMANDS:
        raise ValueError(f"{user.username} cannot use application commands in #{channel.name}")
    if contexts is not None and 0 not in contexts:
        raise ValueError(f"/{cmd['name']} is not available in guilds (contexts={contexts})")
    if cmd.get("nsfw") and not channel.nsfw:
        raise ValueError(f"/{cmd['name']} is age-restricted and #{channel.name} is not: the client hides it")
    needed = cmd.get("default_member_permissions")
    # Server admins can override default_member_permissions; admin_override simulates that, so
    # tests can prove the bot's own runtime check.
    if (needed not in (None, "") and not admin_override and not perms & ADMINISTRATOR
            and int(needed) & perms != int(needed)):
        raise ValueError(f"{user.username} lacks default_member_permissions={needed} for /{cmd['name']} "
                         "(pass admin_override=True to simulate an admin granting it)")


def build_options(server: FakeDiscord, cmd: dict[str, Any], path: list[str], values: dict[str, Any],
                  guild: Guild | None, perms: int, resolved: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Options payload for `/cmd path... values`, nested under the subcommand(s) in `path`."""
    defs = cmd.get("options") or []
    if not path:
        if any(o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in defs):
            subs = [o["name"] for o in defs]
            raise ValueError(f"/{cmd['name']} needs a subcommand, one of {subs}")
        return _leaf_options(server, cmd["name"], defs, values, guild, perms, resolved)
    head, rest = path[0], path[1:]
    for opt in defs:
        if opt["name"] == head and opt.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            inner = build_options(server, opt, rest, values, guild, perms, resolved)
            return [{"name": head, "type": opt["type"], "options": inner}]
    raise ValueError(f"/{cmd['name']} has no subcommand {head!r}")


def _leaf_options(server: FakeDiscord, cmd_name: str, defs: list[dict[str, Any]], values: dict[str, Any],
                  guild: Guild | None, perms: int, resolved: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    known = {o["name"]: o for o in defs}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"/{cmd_name} has no option(s) {sorted(unknown)}; options: {sorted(known)}")
    out = []
    for opt in defs:
        name = opt["name"]
        if name not in values or values[name] is None:
            if opt.get("required"):
                raise ValueError(f"/{cmd_name}: required option {name!r} is missing")
            continue
        value = _option_value(server, cmd_name, opt, values[name], guild, perms, resolved)
        out.append({"name": name, "type": opt["type"], "value": value})
    return out


def _option_value(server: FakeDiscord, cmd_name: str, opt: dict[str, Any], value: Any, guild: Guild | None,
                  perms: int, resolved: dict[str, dict[str, Any]]) -> Any:
    otype, where = opt["type"], f"/{cmd_name} option {opt['name']!r}"
    if otype == STRING:
        if not isinstance(value, str):
            raise ValueError(f"{where} expects a string, got {value!r}")
        lo, hi = opt.get("min_length"), opt.get("max_length", 6000)
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise ValueError(f"{where}: length {len(value)} outside [{lo}, {hi}]")
    elif otype in (INTEGER, NUMBER):
        ok = isinstance(value, int) if otype == INTEGER else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            raise ValueError(f"{where} expects {'an integer' if otype == INTEGER else 'a number'}, got {value!r}")
        lo, hi = opt.get("min_value", -MAX_SAFE_INT), opt.get("max_value", MAX_SAFE_INT)
        if not lo <= value <= hi:
            raise ValueError(f"{where}: {value} outside [{lo}, {hi}]")
    elif otype == BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError(f"{where} expects a bool, got {value!r}")
    elif otype in (USER, MENTIONABLE) and (isinstance(value, User) or _as_id(value) in server.users):
        user = value if isinstance(value, User) else server.users[_as_id(value)]
        resolved.setdefault("users", {})[str(user.id)] = user_json(user)
        if guild is not None and user.is_member(guild.id):  # member data only for members of this guild
            member = server.member_json(user, guild, permissions=user.effective_permissions(guild.id))
            member.pop("user")
            resolved.setdefault("members", {})[str(user.id)] = member
        return str(user.id)
    elif otype in (ROLE, MENTIONABLE) and guild is not None and _as_id(value) in server.roles(guild):
        role = server.roles(guild)[_as_id(value)]
        resolved.setdefault("roles", {})[role["id"]] = role
        return role["id"]
    elif otype == CHANNEL:
        channel = value if isinstance(value, Channel) else server.channels.get(_as_id(value))
        if channel is None or guild is None or channel.guild_id != guild.id:
            raise ValueError(f"{where}: unknown channel {value!r}")
        if opt.get("channel_types") and channel.type not in opt["channel_types"]:
            raise ValueError(f"{where}: channel type {channel.type} not in {opt['channel_types']}")
        data = channel_json(channel)
        data["permissions"] = str(perms)  # the invoking user's permissions there
        resolved.setdefault("channels", {})[str(channel.id)] = data
        return str(channel.id)
    elif otype == ATTACHMENT:
        att = _attachment_option(server, value)
        resolved.setdefault("attachments", {})[str(att.id)] = attachment_json(att, server.base_url, 0, ephemeral=True)
        return str(att.id)
    else:
        raise ValueError(f"{where} (type {otype}) cannot take {value!r}")
    choices = opt.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"{where}: {value!r} is not one of the choices {[c['value'] for c in choices]}")
    return value


def _as_id(value: Any) -> int | None:
    try:
        return int(getattr(value, "id", value))
    except (TypeError, ValueError):
        return None


def _attachment_option(server: FakeDiscord, value: Any) -> Attachment:
    """An uploaded file for an ATTACHMENT option: (filename, bytes) or an Attachment record."""
    if isinstance(value, Attachment):
        att = value
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], (bytes, bytearray)):
        filename, data = value
        att = Attachment(id=server.ids.next(), filename=filename, content_type=guess_content_type(filename),
                         size=len(data), data=bytes(data))
    else:
        raise ValueError(f"attachment options take (filename, bytes), got {type(value).__name__}")
    if att.size > server.attachment_size_limit:
        raise ValueError(f"attachment {att.filename!r} is over the {server.attachment_size_limit} byte upload limit")
    server.attachments[att.id] = att
    return att


def add_focused(cmd: dict[str, Any], path: list[str], options: list[dict[str, Any]], focused: str,
                typed: str) -> None:
    """Put the option being typed into `options` (nested under `path`), marked focused. Its value is
    what was typed so far, unchecked (the client sends partial input); the option must have
    autocomplete on."""
    defs = cmd.get("options") or []
    for head in path:
        sub = next((o for o in defs if o["name"] == head), None)
        if sub is None:
            raise ValueError(f"/{cmd['name']} has no subcommand {head!r}")
        defs = sub.get("options") or []
        options = next(o for o in options if o["name"] == head).setdefault("options", [])
    opt = next((o for o in defs if o["name"] == focused), None)
    if opt is None or not opt.get("autocomplete"):
        raise ValueError(f"/{cmd['name']} option {focused!r} has no autocomplete: the client would not ask")
    options[:] = [o for o in options if o["name"] != focused]
    options.append({"name": focused, "type": opt["type"], "value": typed, "focused": True})


def split_command(name: str) -> tuple[str, list[str]]:
    """"settings show" -> ("settings", ["show"]); accepts a leading slash."""
    parts = name.lstrip("/").split()
    if not parts:
        raise ValueError("empty command name")
    return parts[0], parts[1:]


def find_button(msg: Message, custom_id: str) -> dict[str, Any]:
    comp = msg.find_component(custom_id)
    if comp is None:
        ids = [c.get("custom_id") for c in walk_components(msg.components) if c.get("custom_id")]
        raise ValueError(f"message {msg.id} has no component {custom_id!r} (has {ids})")
    if comp.get("type") != 2 or comp.get("style") in (5, 6):
        raise ValueError(f"component {custom_id!r} is not an interactive button")
    if comp.get("disabled"):
        raise ValueError(f"button {custom_id!r} is disabled: the client cannot click it")
    return comp


def find_select(msg: Message, custom_id: str, values: list[str]) -> dict[str, Any]:
    comp = msg.find_component(custom_id)
    if comp is None or comp.get("type") not in (3, 5, 6, 7, 8):
        raise ValueError(f"message {msg.id} has no select menu {custom_id!r}")
    if comp.get("disabled"):
        raise ValueError(f"select menu {custom_id!r} is disabled")
    lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
    if not lo <= len(values) <= hi:
        raise ValueError(f"select menu {custom_id!r} takes {lo}..{hi} values, got {len(values)}")
    if comp["type"] == 3:
        offered = [o["value"] for o in comp.get("options") or []]
        bad = [v for v in values if v not in offered]
        if bad:
            raise ValueError(f"select menu {custom_id!r} does not offer {bad} (offers {offered})")
    return comp


def modal_submit_components(modal: dict[str, Any], values: dict[str, str]) -> list[dict[str, Any]]:
    """The components of a MODAL_SUBMIT for the text inputs of `modal`, filled with `values`."""
    inputs = {c["custom_id"]: c for c in walk_components(modal.get("components") or []) if c.get("type") == 4}
    unknown = set(values) - set(inputs)
    if unknown:
        raise ValueError(f"modal {modal.get('custom_id')!r} has no text input(s) {sorted(unknown)}")
    for cid, comp in inputs.items():
        value = values.get(cid, comp.get("value") or "")
        if comp.get("required", True) and not value:
            raise ValueError(f"modal text input {cid!r} is required")
        lo, hi = comp.get("min_length", 0), comp.get("max_length", 4000)
        if value and not lo <= len(value) <= hi:
            raise ValueError(f"modal text input {cid!r}: length {len(value)} outside [{lo}, {hi}]")

    def filled(comp: dict[str, Any]) -> dict[str, Any]:
        cid = comp["custom_id"]
        return {"type": 4, "id": comp.get("id"), "custom_id": cid, "value": values.get(cid, comp.get("value") or "")}

    out = []
    for top in modal.get("components") or []:
        if top.get("type") == 1:
            inputs_in_row = [filled(c) for c in top.get("components") or [] if c.get("type") == 4]
            out.append({"type": 1, "id": top.get("id"), "components": inputs_in_row})
        elif top.get("type") == 18 and (top.get("component") or {}).get("type") == 4:  # label wrapping an input
            out.append({"type": 18, "id": top.get("id"), "component": filled(top["component"])})
    return out


def everyone_role(guild: Guild) -> dict[str, Any]:
    return role_json(guild.id, "@everyone", 0, 0)
