"""The /imagine request when the prompt carries Midjourney-style parameters (bot/prompt_params.py).

The parameters count as options the member gave: they win over a preset and the member's
defaults, and an option given too must say the same, or the request is refused naming both. `--no`
is added to the negative prompt (after the option's, the preset's or the defaults'); the prompt that
is drawn, checked by content safety and stored is the text without the parameters. Everything then
goes through JobService.submit like any request: admission validates every value against the
model (the same sentences as for the options), content safety reads the prompt and the negative
(with the `--no` words) and the quota prices the job.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.errors import ValidationError
from bot.i18n import N_
from bot.models import GenerationRequest, ImagePrompt
from bot.models_catalog import extract_prompt_loras, merge_loras, parse_lora_option
from bot.prompt_params import OPTION_LIMITS, InlineParams, Limits, parse
from bot.services.settings_store import Defaults, build_request


def _agree(option: str, given: Any, parameter: str, inline: Any) -> None:
    if given is None or inline is None:
        return
    same = abs(float(given) - float(inline)) < 1e-9 if isinstance(inline, (int, float)) else given == inline
    if not same:
        shown = f"{inline:g}" if isinstance(inline, float) else inline
        given_shown = f"{given:g}" if isinstance(given, float) else given  # numbers, or an aspect choice
        raise ValidationError(N_("The `{option}` option says {given} but the prompt says --{parameter} {inline}: "
                                 "give one of them (or the same value in both).", option=option, given=given_shown,
                                 parameter=parameter, inline=shown))


def _negative(base: str | None, no: str | None) -> str | None:
    parts = [part.strip() for part in (base, no) if part and part.strip()]
    return ", ".join(parts) if parts else base


def limits_for(profile) -> Limits:
    """The model profile's step and guidance ranges, for the parser's errors."""
    return Limits(profile.min_steps, profile.max_steps, profile.min_guidance, profile.max_guidance)


def inline_request(prompt: str, given: Defaults, chosen: Defaults, *, seed: int | None = None,
                   image: ImagePrompt | None = None, strength: float | None = None,
                   limits: Limits = OPTION_LIMITS, lora: str | None = None) -> GenerationRequest:
    """The request for `prompt` with its inline parameters merged into the options (`given`), over
    `chosen` (preset, then defaults), as `build_request` does for the options alone. `<lora:...>`
    tags leave the prompt and join the `lora:` option's LoRA (bot/models_catalog.py)."""
    prompt, in_prompt = extract_prompt_loras(prompt)
    loras = merge_loras(parse_lora_option(lora), in_prompt)
    parsed = parse(prompt, limits)
    p: InlineParams = parsed.params
    if p.empty:
        return replace(build_request(parsed.prompt, given, chosen, seed=seed, image=image, strength=strength),
                       loras=loras)
    if given.model is not None and p.model is not None and given.model.lower() != p.model.lower():
        _agree("model", given.model, "model", p.model)
    _agree("aspect", given.aspect, "ar", p.aspect)
    _agree("seed", seed, "seed", p.seed)
    _agree("steps", given.steps, "steps", p.steps)
    _agree("guidance", given.guidance, "cfg", p.guidance)
    if image is not None and p.aspect is not None:
        raise ValidationError(N_("--ar does not apply to an image prompt: it keeps its own aspect."))
    if image is not None and p.chaos is not None:
        raise ValidationError(N_("--chaos applies to text prompts only: an image prompt starts from its image, "
                                 "not from noise."))
    negative = _negative(given.negative if given.negative is not None else chosen.negative, p.no)
    merged = replace(given, aspect=given.aspect or p.aspect, steps=given.steps or p.steps,
                     guidance=given.guidance if given.guidance is not None else p.guidance, negative=negative)
    request = build_request(parsed.prompt, merged, chosen, seed=seed if seed is not None else p.seed,
                            image=image, strength=strength)
    return replace(request, chaos=p.chaos, tile=p.tile, model=p.model or request.model, inline=p.text(),
                   loras=loras)
