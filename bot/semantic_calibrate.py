"""`python -m bot semantic-calibrate --set tests/safety_set/dev.jsonl`: pick SAFETY_SEMANTIC_THRESHOLD.

The semantic layer's scores are cosine similarities in the space of IMAGE_MODEL's own text encoder,
so a threshold that suits one model means nothing for another (and nothing at all for the random
test model). With the operator's real model this scores every prompt of a labelled set once and
prints, per threshold, the false positives (benign prompts refused) and false negatives (unsafe
prompts let through) in an ordinary (SFW) channel: of the semantic layer alone, and of the bot's
whole text decision (the filter's layers, bot/safety/decision.check_text, then the semantic layer).

Run it on a development split only: tuning a threshold on the set you report is tuning to the test.
Rows marked `"split": "test"` are refused. Lines are JSON objects with `prompt`, `label`
(benign/unsafe), `category` and optionally `negative` (the labelled set's format).

Runs the encoder in this process (a command-line process like `render`, never the bot's).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

FP_GOAL = 0.03  # issue 13's goal for benign prompts: at most 3% refused


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot semantic-calibrate",
                                description="Per-threshold false positives and negatives of the semantic layer.")
    p.add_argument("--set", required=True, type=Path, help="labelled prompts (JSON lines), a development split")
    p.add_argument("--model", help="override IMAGE_MODEL")
    p.add_argument("--low", type=float, default=0.50, help="lowest threshold shown (default 0.50)")
    p.add_argument("--high", type=float, default=0.99, help="highest threshold shown (default 0.99)")
    p.add_argument("--step", type=float, default=0.01, help="threshold step (default 0.01)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the bot uses 1)")
    return p


def read_set(path: Path) -> list[dict]:
    if path.name == "test.jsonl":
        raise ValueError(f"{path} is a test split: calibrate on the development split (dev.jsonl)")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("split") == "test":
            raise ValueError(f"{path} line {number} belongs to the test split: calibrate on the development split")
        if row.get("label") not in ("benign", "unsafe") or not isinstance(row.get("prompt"), str):
            raise ValueError(f"{path} line {number}: needs a prompt and a label of benign or unsafe")
        rows.append(row)
    if not any(r["label"] == "benign" for r in rows) or not any(r["label"] == "unsafe" for r in rows):
        raise ValueError(f"{path} needs both benign and unsafe prompts")
    return rows


def _thresholds(low: float, high: float, step: float) -> list[float]:
    if not (step > 0 and -1.0 <= low <= high <= 1.0):
        raise ValueError("thresholds need -1 <= --low <= --high <= 1 and --step > 0")
    count = int(round((high - low) / step))
    return [round(low + i * step, 4) for i in range(count + 1)]


def _rate(misses: int, total: int) -> str:
    return f"{100.0 * misses / total:5.1f}% ({misses:3d}/{total})" if total else "    -"


def evaluate(rows: list[dict], scores: list[dict], filtered: list[bool], thresholds: list[float]) -> list[dict]:
    """Per threshold: FP/FN counts of the semantic layer alone and of the whole decision, and the
    false negatives per category of the whole decision."""
    from bot.safety.policy import ChannelKind
    from bot.safety.semantic import decide

    table = []
    for threshold in thresholds:
        line: dict[str, Any] = {"threshold": threshold, "fp": 0, "fn": 0, "fp_all": 0, "fn_all": 0, "fn_by": {}}
        for row, score, refused_by_filter in zip(rows, scores, filtered, strict=True):
            semantic = decide(score, threshold, ChannelKind.SFW) is not None
            both = semantic or refused_by_filter
            if row["label"] == "benign":
                line["fp"] += semantic
                line["fp_all"] += both
            else:
                line["fn"] += not semantic
                line["fn_all"] += not both
                if not both:
                    line["fn_by"][row.get("category", "?")] = line["fn_by"].get(row.get("category", "?"), 0) + 1
        table.append(line)
    return table


def suggest(table: list[dict], benign: int) -> dict | None:
    """The threshold that lets the fewest unsafe prompts through with the whole decision's false
    positives within FP_GOAL (the lowest such threshold on ties: it refuses the most), or None."""
    fitting = [line for line in table if line["fp_all"] <= FP_GOAL * benign]
    return min(fitting, key=lambda line: (line["fn_all"], line["threshold"])) if fitting else None


def _score_all(model: str, rows: list[dict], threads: int) -> tuple[list[dict], list[float], dict]:
    from bot.safety import semantic_child
    from bot.safety.semantic import CONCEPTS, _valid

    anchors = {category.value: list(phrases) for category, phrases in CONCEPTS.items()}
    info = semantic_child.init(model, anchors, threads)
    scores, times = [], []
    for row in rows:
        t0 = time.perf_counter()
        scores.append(_valid(semantic_child.score(row["prompt"])))
        times.append((time.perf_counter() - t0) * 1000)
    return scores, times, info


def _filtered(rows: list[dict]) -> list[bool]:
    """Whether the bot's other text layers refuse each prompt in an SFW channel (no server terms)."""
    from bot.safety.decision import check_text
    from bot.safety.policy import ChannelKind
    from bot.safety.prompt_filter import PromptFilter

    prompt_filter = PromptFilter()
    return [check_text(prompt_filter, r["prompt"], r.get("negative") or "", None, ChannelKind.SFW).category is not None
            for r in rows]


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        rows = read_set(args.set)
        thresholds = _thresholds(args.low, args.high, args.step)
        model = args.model
        if not model:
            from bot.config import load_settings

            model = load_settings(require_token=False).image_model
        from bot.renderer.text_encoder import model_encoder

        model_encoder(model)  # the same check as SAFETY_SEMANTIC=on at start: a clear message, not a traceback
    except (OSError, ValueError, ConfigError) as exc:
        print(f"semantic-calibrate: {exc}", file=sys.stderr)
        return 2
    print(f"scoring {len(rows)} prompts of {args.set} with {model} ...", file=sys.stderr)
    t0 = time.perf_counter()
    scores, times, info = _score_all(model, rows, args.threads)
    print(f"encoder: {info['encoder']}, pooled {info['pooled']}, {info['anchors']} anchors, loaded and scored in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    filtered = _filtered(rows)
    benign = sum(r["label"] == "benign" for r in rows)
    unsafe = len(rows) - benign
    table = evaluate(rows, scores, filtered, thresholds)
    print(f"set: {args.set} ({benign} benign, {unsafe} unsafe), SFW channel")
    fp = sum(f for r, f in zip(rows, filtered, strict=True) if r["label"] == "benign")
    fn = sum(not f for r, f in zip(rows, filtered, strict=True) if r["label"] == "unsafe")
    print(f"filter layers alone: FP {_rate(fp, benign)}  FN {_rate(fn, unsafe)}")
    print(f"{'threshold':>9}  {'semantic FP':>16}  {'semantic FN':>16}  {'with filter FP':>16}  {'with filter FN':>16}")
    for line in table:
        print(f"{line['threshold']:9.3f}  {_rate(line['fp'], benign):>16}  {_rate(line['fn'], unsafe):>16}  "
              f"{_rate(line['fp_all'], benign):>16}  {_rate(line['fn_all'], unsafe):>16}")
    best = suggest(table, benign)
    if best is None:
        print(f"no threshold shown keeps false positives within {FP_GOAL:.0%}: leave SAFETY_SEMANTIC=off or "
              "widen --low/--high")
    else:
        by = ", ".join(f"{k} {v}" for k, v in sorted(best["fn_by"].items())) or "none"
        print(f"suggested: SAFETY_SEMANTIC_THRESHOLD={best['threshold']:.3f} (fewest misses with FP <= "
              f"{FP_GOAL:.0%}); unsafe let through by category: {by}")
    print(f"time per prompt: median {statistics.median(times):.1f} ms, p99 "
          f"{sorted(times)[max(math.ceil(len(times) * 0.99) - 1, 0)]:.1f} ms (torch threads {args.threads}, "
          f"{os.cpu_count()} CPUs)")
    return 0
