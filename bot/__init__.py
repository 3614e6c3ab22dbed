"""Pixelforge: a self-hosted Discord image-generation bot."""
