"""A member's /imagine defaults and named presets (/settings), and how they fill a request.

Precedence for each option /imagine leaves empty: the named preset (`preset:`), then the member's
defaults, then the model profile's. `variation` is the strength the member's V clicks use. Values
are validated by the admission rules when they are set (the same words as /imagine's refusals),
and again whenever a job is admitted (a model change can narrow the ranges). Plain SQL, no Discord.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields

from bot.database import Database
from bot.errors import NotFound, ValidationError
from bot.i18n import N_
from bot.models import GenerationRequest, ImagePrompt

VARIATIONS = {"subtle": 0.35, "strong": 0.75}
MAX_PRESETS = 25  # what one autocomplete answer can list
MAX_PRESET_NAME = 50
_COLUMNS = ("aspect", "steps", "guidance", "negative", "count", "variation", "model")


@dataclass(frozen=True)
class Defaults:
    """Option values a member chose; None: not chosen (the next level decides)."""

    aspect: str | None = None
    steps: int | None = None
    guidance: float | None = None
    negative: str | None = None
    count: int | None = None
    variation: float | None = None  # V button strength: VARIATIONS' values
    model: str | None = None  # a model's name (IMAGE_MODELS; migration 0011)

    def over(self, base: Defaults) -> Defaults:
        """These values where set, `base`'s elsewhere."""
        return Defaults(**{f.name: getattr(base, f.name) if getattr(self, f.name) is None
                           else getattr(self, f.name) for f in fields(self)})

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in _COLUMNS)


def variation_name(strength: float | None) -> str | None:
    for name, value in VARIATIONS.items():
        if strength is not None and abs(value - strength) < 1e-9:
            return name
    return None if strength is None else f"{strength:g}"


def build_request(prompt: str, given: Defaults, chosen: Defaults, *, seed: int | None = None,
                  image: ImagePrompt | None = None, strength: float | None = None) -> GenerationRequest:
    """The /imagine request: the options the member gave (`given`), then `chosen` (preset over
    defaults, see `SettingsStore.resolve`) for those left empty, then the model's (None)."""
    values = given.over(chosen)
    return GenerationRequest(
        prompt=prompt, negative_prompt=values.negative or "", aspect=values.aspect or "1:1",
        count=values.count or 1, seed=seed, steps=values.steps, guidance=values.guidance,
        image=image, strength=strength, model=values.model,
    )


def _row(row) -> Defaults:
    return Defaults(*(row[name] for name in _COLUMNS)) if row else Defaults()


def preset_name(name: str) -> str:
    clean = " ".join((name or "").split())
    if not 1 <= len(clean) <= MAX_PRESET_NAME:
        raise ValidationError(N_("A preset name has 1 to {max} characters.", max=MAX_PRESET_NAME))
    return clean


class SettingsStore:
    def __init__(self, db: Database, clock=time.time):
        self.db = db
        self.clock = clock

    async def defaults(self, user_id: int) -> Defaults:
        return _row(await self.db.fetchone("SELECT * FROM member_settings WHERE user_id = ?", (user_id,)))

    async def update(self, user_id: int, changes: Defaults) -> Defaults:
        """Set the given values (None leaves a value as it is); returns the new defaults."""
        merged = changes.over(await self.defaults(user_id))
        await self.db.execute(
            f"INSERT INTO member_settings (user_id, {', '.join(_COLUMNS)}, updated_at) "
            "VALUES (?," + "?," * len(_COLUMNS) + "?) "
            "ON CONFLICT(user_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS, "updated_at")),
            (user_id, *merged.values(), self.clock()),
        )
        return merged

    async def reset(self, user_id: int) -> None:
        """Back to the model's defaults (presets stay)."""
        await self.db.execute("DELETE FROM member_settings WHERE user_id = ?", (user_id,))

    async def save_preset(self, user_id: int, name: str) -> Defaults:
        """The current defaults, stored as preset `name` (replacing one of that name)."""
        name = preset_name(name)
        current = await self.defaults(user_id)
        if current.empty:
            raise ValidationError(N_("You have no defaults to save yet: choose some with /settings set first."))
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT COUNT(*), COALESCE(SUM(name = ?), 0) FROM member_presets WHERE user_id = ?", (name, user_id))
            count, same = rows[0][0], rows[0][1]  # type: ignore[index]
            if not same and count >= MAX_PRESETS:
                raise ValidationError(N_("You already have {max} presets; save over one of them instead.",
                                         max=MAX_PRESETS))
            await conn.execute(
                f"INSERT OR REPLACE INTO member_presets (user_id, name, {', '.join(_COLUMNS)}, created_at) "
                "VALUES (?,?," + "?," * len(_COLUMNS) + "?)", (user_id, name, *current.values(), self.clock()))
        return current

    async def preset(self, user_id: int, name: str) -> Defaults:
        row = await self.db.fetchone("SELECT * FROM member_presets WHERE user_id = ? AND name = ?",
                                     (user_id, " ".join(name.split())))
        if row is None:
            raise NotFound(N_("You have no preset named “{name}”: save one with /settings save.", name=name))
        return _row(row)

    async def preset_names(self, user_id: int, typed: str = "", limit: int = MAX_PRESETS) -> list[str]:
        """The member's preset names starting with `typed` (case-insensitive), for autocomplete."""
        pattern = typed.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self.db.fetchall(
            "SELECT name FROM member_presets WHERE user_id = ? AND name LIKE ? ESCAPE '\\' ORDER BY name LIMIT ?",
            (user_id, pattern, limit))
        return [r["name"] for r in rows]

    async def resolve(self, user_id: int, preset: str | None) -> Defaults:
        """What fills /imagine's empty options: the preset over the member's defaults."""
        member = await self.defaults(user_id)
        return member if not preset else (await self.preset(user_id, preset)).over(member)
