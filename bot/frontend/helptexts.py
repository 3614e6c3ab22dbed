"""What /help says: the commands and buttons, and the prompt parameters with this model's limits.
The parameter lines come from the parser's own table (bot/prompt_params.py), so the help cannot
drift from what is accepted."""
from __future__ import annotations

from bot.frontend.texts import fit
from bot.i18n import _
from bot.models import MAX_SEED
from bot.prompt_params import MAX_CHAOS, MIN_CHAOS, Limits

TOPICS = {"commands": "Commands and buttons", "parameters": "Parameters inside the prompt"}


def commands() -> str:
    return fit("\n".join([
        _("**Pixelforge** — images from a text prompt, rendered on this community's own GPU."),
        _("`/imagine prompt` — queue a render (options: negative, aspect, count 1–4, seed, steps, guidance, "
          "image, strength, preset). Parameters may follow the prompt: see `/help topic:parameters`."),
        _("`/queue` · `/history` · `/show job:` · `/settings` · `/quota` — your jobs, past images, defaults "
          "and credits. Moderators: `/mod …`."),
        "",
        _("**Buttons under a result**"),
        _("**U1…U4** — that image at twice the size. **V1…V4** (on a grid) — a variation at your "
          "`/settings variation` strength."),
        _("**🪄 Vary (Subtle)** / **🪄 Vary (Strong)** (under a single image or an upscale) — a variation at "
          "0.35 or 0.75, whatever your settings say."),
        _("**🔄 Re-roll** — the same parameters, a new seed. **ℹ️ Info** — every parameter, the lineage. "
          "**🗑 Delete** — yours (or a moderator's). **🚩 Report** — tell the moderators."),
        _("Every image carries alt text for screen readers: “AI-generated image: <prompt>”."),
    ]))


def parameters(limits: Limits, model: str, models: list[str] | None = None) -> str:
    """The parameter table with the loaded model's limits (`models`: IMAGE_MODELS' names)."""
    rows = [
        ("--ar W:H", _("aspect ratio, 1:4 to 4:1 (e.g. 16:9, 4:3, 21:9); not with an image prompt")),
        ("--no words", _("kept out of the image: added to the negative prompt (e.g. `--no trees, cars`)")),
        ("--seed N", _("0 to {max}; image n of a grid uses seed + n", max=MAX_SEED)),
        ("--steps N", _("{min} to {max} on this model", min=limits.min_steps, max=limits.max_steps)),
        ("--cfg N", _("guidance, {min:g} to {max:g} on this model", min=limits.min_guidance, max=limits.max_guidance)),
        ("--chaos N", _("{min} to {max}: how different a grid's images are. Without it (= 100) "
                        "each image has its own seed; 0 makes close takes on one composition (text prompts only)",
                        min=MIN_CHAOS, max=MAX_CHAOS)),
        ("--tile", _("a seamless image that tiles side by side and top to bottom")),
        ("--model NAME", _("the model to use: `{model}` (the only one here)", model=model)),
        ("<lora:name:0.8>", _("a LoRA style from the server's list at a weight (default 0.8, -2 to 2); "
                              "the `lora:` option takes `name` or `name:0.8`")),
    ]
    if models and len(models) > 1:
        rows[-2] = ("--model NAME", _("the model to use: {models} (default `{model}`; the `model:` option and "
                                      "/settings set model: too)", models=", ".join(f"`{m}`" for m in models),
                                      model=model))
    lines = [_("**Parameters inside the prompt** — at the end, Midjourney style: "
               "`a lighthouse at dusk --ar 16:9 --no boats --chaos 40`"), ""]
    lines += [f"`{name}` — {what}" for name, what in rows]
    lines += ["", _("`--aspect` is `--ar`, `--c` is `--chaos`; `—` (a long dash) works like `--`. A parameter "
                    "counts like the option of the same meaning: one given both ways must agree, and an unknown "
                    "or out-of-range one is refused, naming it and its limit. Nothing is charged for a refusal.")]
    return fit("\n".join(lines))
