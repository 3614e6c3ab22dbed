"""Test-only fault injection for the renderer (see sitecustomize.py in this folder).

A process whose PYTHONPATH starts with this folder runs `sitecustomize.py` at start-up, and so does
every renderer process it spawns (they inherit the environment). `with_fault_hook(env)` gives such
an environment.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FAULTS_DIR = Path(__file__).resolve().parent
FAULTS_ENV = "PIXELFORGE_TEST_FAULTS"
TRUST_ENV = "PIXELFORGE_TEST_TRUST_CUSTOM_ID"  # discord.py's custom_id-on-the-message check off (sitecustomize.py)


def with_fault_hook(env: dict[str, str]) -> dict[str, str]:
    """`env` with this folder first on PYTHONPATH (kept once, other entries kept in order)."""
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != FAULTS_DIR]
    return {**env, "PYTHONPATH": os.pathsep.join([str(FAULTS_DIR), *parts])}


@contextmanager
def fault_hook_in_environ() -> Iterator[None]:
    """While active, renderer processes spawned by THIS process load the hook (they inherit
    os.environ); the faults themselves come with PIXELFORGE_TEST_FAULTS, e.g. in a worker's env."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = with_fault_hook(dict(os.environ))["PYTHONPATH"]
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
