"""Renderer: the process that owns the GPU, and the torch-free pieces the bot uses to talk to it.

Importing this package never imports torch or diffusers: only the worker process
(`bot.renderer.worker` around the pure render path `bot.renderer.render`, started with the "spawn"
context) and the Ray actors do.
"""
from bot.renderer.client import RendererClient, render_once
from bot.renderer.pngmeta import format_parameters, parse_parameters, read_parameters, save_png
from bot.renderer.pool import RendererPool, RenderWorker, build_pool
from bot.renderer.profiles import (
    ASPECTS,
    DEFAULT_VARIATION_STRENGTH,
    FAMILIES,
    ModelProfile,
    detect_pipeline_class,
    detect_profile,
    detect_sample_size,
    family_for,
    profile_for,
    sizes_for_aspect,
)

__all__ = [
    "ASPECTS",
    "DEFAULT_VARIATION_STRENGTH",
    "FAMILIES",
    "ModelProfile",
    "RenderWorker",
    "RendererClient",
    "RendererPool",
    "build_pool",
    "detect_pipeline_class",
    "detect_profile",
    "detect_sample_size",
    "family_for",
    "format_parameters",
    "parse_parameters",
    "profile_for",
    "read_parameters",
    "render_once",
    "save_png",
    "sizes_for_aspect",
]
