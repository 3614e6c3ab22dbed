"""`python -m bot render "a red fox" --seed 42 -o fox.png`: one render without Discord, through
the same validation and renderer process as the bot, to check a GPU set-up."""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from bot.errors import BotError, ConfigError, RenderError, user_message
from bot.models import GenerationRequest, ImageSpec, RenderBatch
from bot.renderer.profiles import ASPECTS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot render", description="Render one image without Discord.")
    p.add_argument("prompt")
    p.add_argument("-o", "--output", default="render.png", help="PNG to write (default render.png)")
    p.add_argument("--negative", default="")
    p.add_argument("--aspect", default="1:1", choices=tuple(ASPECTS))
    p.add_argument("--seed", type=int)
    p.add_argument("--steps", type=int)
    p.add_argument("--guidance", type=float)
    p.add_argument("--model", help="override IMAGE_MODEL")
    return p


async def _render(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from bot.renderer.client import RendererClient
    from bot.renderer.profiles import model_label, resolve_profile
    from bot.services.admission import Admission

    env_override = {"IMAGE_MODEL": args.model} if args.model else {}
    import os

    settings = load_settings({**os.environ, **env_override} if env_override else None, require_token=False)
    profile = resolve_profile(settings.image_model)
    admission = Admission(settings, profile, store=None, model_label=model_label(settings.image_model))  # type: ignore[arg-type]
    params = admission.validate(GenerationRequest(
        prompt=args.prompt, negative_prompt=args.negative, aspect=args.aspect, count=1,
        seed=args.seed, steps=args.steps, guidance=args.guidance,
    ))
    output = Path(args.output).resolve()
    batch = RenderBatch(
        batch_id=1, width=params.width, height=params.height, steps=params.steps, guidance=params.guidance,
        model_label=params.model, watermark=settings.watermark,
        images=(ImageSpec(job_id=0, index=0, prompt=params.prompt, negative_prompt=params.negative_prompt,
                          seed=params.seed, output_path=str(output)),),
    )
    client = RendererClient(settings.image_model, device=settings.device, dtype=settings.dtype,
                            step_timeout=settings.step_timeout)
    started = time.perf_counter()
    try:
        info = await client.start()
        loaded = time.perf_counter()
        print(f"loaded {info.pipeline_class} on {info.device} ({info.dtype}) in {loaded - started:.1f}s",
              file=sys.stderr)
        result = await client.render(batch)
    finally:
        await client.close()
    print(f"rendered {params.width}x{params.height}, {params.steps} steps, seed {params.seed} "
          f"in {result.seconds:.2f}s -> {output}", file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_render(args))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except (BotError, RenderError) as exc:
        print(f"error: {user_message(exc) if isinstance(exc, BotError) else exc}", file=sys.stderr)
        return 1
