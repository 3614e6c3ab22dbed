"""Connecting the bot to Ray and placing one renderer actor per DEVICES entry (`RENDERER=ray`).

The bot's process imports ray only inside these functions (it is an extra). The actor itself and
the bot's side of it are in ray_worker.py.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time

log = logging.getLogger("pixelforge.renderer.ray")

# Ray reads this once, when it is imported: "0" makes a Ray started here use 127.0.0.1 for every
# server instead of the machine's network address (whoever reaches Ray can run code through it).
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@dataclasses.dataclass
class RaySession:
    """The bot's connection to Ray, shared by its workers; shut down with the last one if we started it."""

    owned: bool
    open_workers: int = 0


@dataclasses.dataclass(frozen=True)
class Placement:
    device: str  # as the actor sees it (Ray sets CUDA_VISIBLE_DEVICES to the GPU it grants)
    num_gpus: int
    num_cpus: int
    cpu_workers: int  # > 0: a CPU renderer; torch threads = cores // cpu_workers


def connect(ray_address: str | None) -> RaySession:
    """ray.init once: "auto" joins this machine's cluster, "host:port" a given one, None/"" starts a
    Ray for this bot alone on 127.0.0.1 (LOOPBACK_ENV is set before Ray is imported)."""
    address = (ray_address or "").strip()
    if not address:
        os.environ.setdefault(LOOPBACK_ENV, "0")
    import ray

    if ray.is_initialized():  # a test or an embedding program connected this process already
        return RaySession(owned=False)
    if address:
        log.info("joining the Ray cluster at %s", address)
        ray.init(address=address, namespace="pixelforge")
        return RaySession(owned=False)
    t0 = time.perf_counter()
    # address="local": a new Ray, never a cluster that RAY_ADDRESS in the environment names.
    ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False, namespace="pixelforge")
    exposed = sorted({n["NodeManagerAddress"] for n in ray.nodes()} - {"127.0.0.1"})
    if exposed:
        log.warning("the local Ray listens on %s, not only 127.0.0.1 (ray was imported before %s=0 was set)",
                    ", ".join(exposed), LOOPBACK_ENV)
    log.info("started a local Ray in %.1f s", time.perf_counter() - t0)
    return RaySession(owned=True)


def placements(devices: list[str], cluster_gpus: float) -> list[Placement]:
    entries = [(d or "auto").strip().lower() for d in devices] or ["auto"]
    resolved = [("cuda" if cluster_gpus > 0 else "cpu") if d == "auto" else d for d in entries]
    cpu_workers = sum(1 for d in resolved if d == "cpu")
    out = []
    for device in resolved:
        kind = device.split(":")[0]
        if kind == "cuda":
            if ":" in device:
                log.info("DEVICES entry %s: with Ray, any free GPU of the cluster serves it", device)
            out.append(Placement("cuda", num_gpus=1, num_cpus=1, cpu_workers=0))
        elif kind == "cpu":
            out.append(Placement("cpu", num_gpus=0, num_cpus=1, cpu_workers=cpu_workers))
        else:  # mps: a Mac on its own; Ray has no resource for it
            out.append(Placement(device, num_gpus=0, num_cpus=1, cpu_workers=0))
    return out
