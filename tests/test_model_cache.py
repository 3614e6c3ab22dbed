"""Several models and LoRAs in one renderer (bot/renderer/model_cache.py, lora.py), in this process:
two tiny random-weight pipelines, a tiny peft LoRA saved with save_lora_weights."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.models import ImageSpec, LoraSpec, RenderBatch
from bot.renderer import lora, pngmeta, render
from bot.renderer.model_cache import ModelCache, model_hash
from bot.renderer.tiny import TINY_SIZE, build_tiny_lora, build_tiny_pipeline


@pytest.fixture(scope="module")
def second_model(tmp_path_factory) -> Path:
    return build_tiny_pipeline(tmp_path_factory.mktemp("model2") / "tiny-other", seed=1)


@pytest.fixture(scope="module")
def lora_file(tiny_model, tmp_path_factory) -> Path:
    return build_tiny_lora(tiny_model, tmp_path_factory.mktemp("loras") / "ink.safetensors")


def _batch(source: str = "", loras: tuple[LoraSpec, ...] = (), seed: int = 3) -> RenderBatch:
    spec = ImageSpec(job_id=1, index=0, prompt="a red square", negative_prompt="", seed=seed, output_path="x.png")
    return RenderBatch(batch_id=seed, width=TINY_SIZE, height=TINY_SIZE, steps=3, guidance=7.0, images=(spec,),
                       model_label="m", model_source=source, loras=loras)


def _render(cache: ModelCache, batch: RenderBatch, default: str) -> tuple[np.ndarray, RenderBatch]:
    loaded, prepared = cache.prepare(batch, default)
    image = render.render_batch(loaded, prepared)[0]
    return np.asarray(image, dtype=np.int16), prepared


@pytest.fixture(scope="module")
def loads(tiny_model, second_model, one_torch_thread):
    calls: list[str] = []

    def loader(source: str):
        calls.append(source)
        return render.load_pipelines(source, "cpu")

    return calls, loader


def test_a_second_model_evicts_the_least_recently_used_and_renders_its_own_pixels(tiny_model, second_model, loads):
    calls, loader = loads
    cache = ModelCache(loader, size=1)
    first, _ = _render(cache, _batch(), str(tiny_model))
    other, prepared = _render(cache, _batch(str(second_model)), str(tiny_model))
    assert prepared.model_source == str(second_model)
    assert list(cache.entries) == [str(second_model)] and cache.evictions == 1
    assert np.abs(first - other).mean() > 1  # other weights, other image
    again, _ = _render(cache, _batch(), str(tiny_model))  # loaded again: the same pixels as before
    assert np.array_equal(first, again)
    assert cache.loads == 3


def test_a_cache_of_two_keeps_both_models_and_loads_each_once(tiny_model, second_model, loads):
    calls, loader = loads
    cache = ModelCache(loader, size=2)
    before = len(calls)
    for source in (str(tiny_model), str(second_model), str(tiny_model), str(second_model)):
        _render(cache, _batch(source), str(tiny_model))
    assert len(calls) - before == 2 and cache.evictions == 0
    assert cache.holds(str(tiny_model)) and cache.holds(str(second_model))


def test_a_lora_changes_the_image_and_leaves_with_the_next_batch(tiny_model, lora_file, loads):
    _, loader = loads
    cache = ModelCache(loader, size=1)
    plain, _ = _render(cache, _batch(), str(tiny_model))
    spec = LoraSpec("ink", str(lora_file), 0.8)
    styled, prepared = _render(cache, _batch(loras=(spec,)), str(tiny_model))
    assert np.abs(plain - styled).mean() > 1
    stronger, _ = _render(cache, _batch(loras=(dataclasses.replace(spec, weight=2.0),)), str(tiny_model))
    assert np.abs(stronger - styled).mean() > 0.5  # the weight is applied, not only the file
    after, _ = _render(cache, _batch(), str(tiny_model))
    assert np.array_equal(plain, after)  # unloaded: the plain model again
    assert prepared.loras[0].hash == _addnet_hash(lora_file)


def _addnet_hash(path: Path) -> str:
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return hashlib.sha256(data[8 + length:]).hexdigest()[:12]


def test_the_png_names_the_model_hash_and_the_lora_hashes_as_a1111_does(tiny_model, lora_file, loads):
    _, loader = loads
    cache = ModelCache(loader, size=1)
    spec = LoraSpec("ink", str(lora_file), 0.5)
    loaded, prepared = cache.prepare(_batch(loras=(spec,)), str(tiny_model))
    image = render.render_batch(loaded, prepared)[0]
    done = cache.finish(prepared)
    encoded = render.encode_batch(done, [image], "Euler", str(tiny_model))[0]
    with Image.open(io.BytesIO(encoded.png)) as im:
        text = im.info[pngmeta.PARAMETERS_KEY]
    unet = sorted((tiny_model / "unet").glob("*.safetensors"))
    expected = hashlib.sha256(b"".join(p.read_bytes() for p in unet)).hexdigest()[:10]
    assert model_hash(str(tiny_model), None) == expected
    assert f"Model: m, Model hash: {expected}" in text
    assert f'Lora hashes: "ink: {_addnet_hash(lora_file)}"' in text
    parsed = pngmeta.parse_parameters(text)
    assert parsed["Lora hashes"] == f"ink: {_addnet_hash(lora_file)}" and parsed["Lora weights"] == "ink: 0.5"


def test_a_lora_file_removed_since_admission_fails_the_batch_naming_it(tiny_model, tmp_path, loads):
    _, loader = loads
    cache = ModelCache(loader, size=1)
    with pytest.raises(FileNotFoundError, match="gone"):
        cache.prepare(_batch(loras=(LoraSpec("gone", str(tmp_path / "gone.safetensors"), 0.8),)), str(tiny_model))


def test_adapter_names_hold_no_dots():
    assert "." not in lora.adapter_name("my.style-v1")


def test_while_a_batchs_model_loads_the_worker_tells_the_bot_it_is_alive(monkeypatch):
    import threading
    import time

    from bot.renderer import worker

    class Conn:
        def __init__(self):
            self.sent, self.lock = [], threading.Lock()

        def send(self, msg):
            with self.lock:
                self.sent.append(msg)

    monkeypatch.setattr(worker, "LOADING_EVERY", 0.02)
    from types import SimpleNamespace

    def slow_load(source: str):
        time.sleep(0.3)
        return SimpleNamespace(device="cpu", variant=None, load_seconds=0.3)

    cache = ModelCache(slow_load, size=1)  # type: ignore[arg-type]
    conn = Conn()
    session = worker._Session(conn, None, cache, "first", encode_inline=False)
    with session._loading(7, "other"):
        cache.get("other")
    beats = len(conn.sent)
    assert beats >= 3 and set(conn.sent) == {("loading", 7)}
    with session._loading(8, "other"):  # held now: no load, no message
        time.sleep(0.1)
    assert len(conn.sent) == beats
    session.encoder.shutdown()
    session.image_encoder.shutdown()
