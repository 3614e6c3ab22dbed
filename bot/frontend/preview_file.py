"""The live preview as a Discord attachment on the job's progress message."""
from __future__ import annotations

import io

import discord

from bot.frontend.alttext import image_description
from bot.models import Job


def preview_file(job: Job, data: bytes) -> discord.File:
    # A fresh File per request: discord.py closes it after each try. Named after the job, so that a
    # message's attachments tell the preview from the result ("…-preview.jpg").
    description = image_description(job.params.prompt, "Preview of an AI-generated image, still rendering: ")
    return discord.File(io.BytesIO(data), filename=f"pixelforge-{job.id}-preview.jpg", description=description)
