"""What /help says: the commands and buttons, and the prompt parameters with this model's limits.
The parameter lines come from the parser's own table (bot/prompt_params.py), so the help cannot
drift from what is accepted."""
from __future__ import annotations

from bot.frontend.texts import fit
from bot.models import MAX_SEED
from bot.prompt_params import MAX_CHAOS, MIN_CHAOS, Limits

TOPICS = {"commands": "Commands and buttons", "parameters": "Parameters inside the prompt"}


def commands() -> str:
    return fit("\n".join([
        "**Pixelforge** — images from a text prompt, rendered on this community's own GPU.",
        "`/imagine prompt` — queue a render (options: negative, aspect, count 1–4, seed, steps, guidance, "
        "image, strength, preset). Parameters may follow the prompt: see `/help topic:parameters`.",
        "`/queue` · `/history` · `/show job:` · `/settings` · `/quota` — your jobs, past images, defaults "
        "and credits. Moderators: `/mod …`.",
        "",
        "**Buttons under a result**",
        "**U1…U4** — that image at twice the size. **V1…V4** (on a grid) — a variation at your "
        "`/settings variation` strength.",
        "**🪄 Vary (Subtle)** / **🪄 Vary (Strong)** (under a single image or an upscale) — a variation at "
        "0.35 or 0.75, whatever your settings say.",
        "**🔄 Re-roll** — the same parameters, a new seed. **ℹ️ Info** — every parameter, the lineage. "
        "**🗑 Delete** — yours (or a moderator's). **🚩 Report** — tell the moderators.",
        "Every image carries alt text for screen readers: “AI-generated image: <prompt>”.",
    ]))


def parameters(limits: Limits, model: str, models: list[str] | None = None) -> str:
    """The parameter table with the loaded model's limits (`models`: IMAGE_MODELS' names)."""
    rows = [
        ("--ar W:H", "aspect ratio, 1:4 to 4:1 (e.g. 16:9, 4:3, 21:9); not with an image prompt"),
        ("--no words", "kept out of the image: added to the negative prompt (e.g. `--no trees, cars`)"),
        ("--seed N", f"0 to {MAX_SEED}; image n of a grid uses seed + n"),
        ("--steps N", f"{limits.min_steps} to {limits.max_steps} on this model"),
        ("--cfg N", f"guidance, {limits.min_guidance:g} to {limits.max_guidance:g} on this model"),
        ("--chaos N", f"{MIN_CHAOS} to {MAX_CHAOS}: how different a grid's images are. Without it (= 100) "
                      "each image has its own seed; 0 makes close takes on one composition (text prompts only)"),
        ("--tile", "a seamless image that tiles side by side and top to bottom"),
        ("--model NAME", f"the model to use: `{model}` (the only one here)"),
        ("<lora:name:0.8>", "a LoRA style from the server's list at a weight (default 0.8, -2 to 2); "
                            "the `lora:` option takes `name` or `name:0.8`"),
    ]
    if models and len(models) > 1:
        rows[-2] = ("--model NAME", "the model to use: " + ", ".join(f"`{m}`" for m in models)
                    + f" (default `{model}`; the `model:` option and /settings set model: too)")
    lines = ["**Parameters inside the prompt** — at the end, Midjourney style: "
             "`a lighthouse at dusk --ar 16:9 --no boats --chaos 40`", ""]
    lines += [f"`{name}` — {what}" for name, what in rows]
    lines += ["", "`--aspect` is `--ar`, `--c` is `--chaos`; `—` (a long dash) works like `--`. A parameter "
              "counts like the option of the same meaning: one given both ways must agree, and an unknown "
              "or out-of-range one is refused, naming it and its limit. Nothing is charged for a refusal."]
    return fit("\n".join(lines))
