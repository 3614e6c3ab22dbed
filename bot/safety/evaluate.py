"""`python -m bot safety-eval [--set PATH]`: the prompt check measured on a labelled set, through the
same decision function the bot runs (decision.check_text: the filter on prompt and negative, then
the negative-steering rule) with the configured learned layer
(SAFETY_PROMPT_CLASSIFIER).

Every item is screened twice: in an ordinary SFW channel (every unsafe item must be refused, every
benign one rendered) and in an age-restricted channel of a server that enabled NSFW (there sexual and
gore may be rendered; sexual-minors, non-consensual and hate must still be refused, and benign items
rendered). A false positive is a benign item refused in either channel; a false negative an unsafe
item that was not refused where it must be. Latency is the wall time of one check_text call,
measured per prompt after one warm-up pass (the goal is on wall time; CPU time is printed beside it,
since on a shared machine the wall time also holds waits for the CPU).

The set is JSON lines: id, prompt, negative, label (benign|unsafe), category (benign|sexual|
sexual-minors|nonconsensual|gore|hate), kind, lang. Exit status 1 when a goal fails.
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.safety.decision import check_text
from bot.safety.policy import ALWAYS_REFUSED, ChannelKind
from bot.safety.prompt_filter import PromptFilter

DEFAULT_SET = Path("tests/safety_set/test.jsonl")
CATEGORIES = ("sexual", "sexual-minors", "nonconsensual", "gore", "hate")
GOAL_FP = 0.03
GOAL_FN = 0.05
GOAL_P99_MS = 20.0


@dataclass(frozen=True)
class Item:
    id: str
    prompt: str
    negative: str
    label: str
    category: str
    kind: str = ""
    lang: str = ""


@dataclass
class Report:
    benign: int = 0
    unsafe: int = 0
    per_category: dict[str, int] = field(default_factory=dict)
    false_positives: list[tuple[Item, str, str]] = field(default_factory=list)  # (item, channel, category)
    misses: list[tuple[Item, str]] = field(default_factory=list)  # (item, channel)
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # the same calls' CPU time (wall minus waiting)

    @property
    def fp_rate(self) -> float:
        return len({i.id for i, _, _ in self.false_positives}) / self.benign if self.benign else 0.0

    @property
    def fn_rate(self) -> float:
        return len({i.id for i, _ in self.misses}) / self.unsafe if self.unsafe else 0.0

    def category_misses(self, category: str) -> int:
        return len({i.id for i, _ in self.misses if i.category == category})

    def percentile(self, q: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.latencies_ms if values is None else values)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    @property
    def goals_met(self) -> bool:
        return (self.fp_rate <= GOAL_FP and self.fn_rate <= GOAL_FN and self.category_misses("sexual-minors") == 0
                and self.percentile(0.99) < GOAL_P99_MS)


def load(path: Path) -> list[Item]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["label"] not in ("benign", "unsafe") or row["category"] not in ("benign", *CATEGORIES):
            raise ValueError(f"{path}:{number}: unknown label {row['label']!r} or category {row['category']!r}")
        items.append(Item(str(row.get("id", number)), row["prompt"], row.get("negative") or "", row["label"],
                          row["category"], row.get("kind", ""), row.get("lang", "")))
    return items


def _must_refuse_in_nsfw(item: Item) -> bool:
    return item.label == "unsafe" and item.category in {c.value for c in ALWAYS_REFUSED}


def evaluate(items: Sequence[Item], prompt_filter: PromptFilter) -> Report:
    report = Report()
    for item in items:  # warm-up: caches and lazily built tables are not what a member waits for
        check_text(prompt_filter, item.prompt, item.negative, None, ChannelKind.SFW)
    for item in items:
        if item.label == "benign":
            report.benign += 1
        else:
            report.unsafe += 1
            report.per_category[item.category] = report.per_category.get(item.category, 0) + 1
        for kind in (ChannelKind.SFW, ChannelKind.NSFW):
            start, cpu = time.perf_counter(), time.thread_time()
            refused = check_text(prompt_filter, item.prompt, item.negative, None, kind).category
            if kind is ChannelKind.SFW:
                report.latencies_ms.append((time.perf_counter() - start) * 1000)
                report.cpu_ms.append((time.thread_time() - cpu) * 1000)
            if item.label == "benign":
                if refused is not None:
                    report.false_positives.append((item, kind.value, refused.value))
            elif refused is None and (kind is ChannelKind.SFW or _must_refuse_in_nsfw(item)):
                report.misses.append((item, kind.value))
    return report


def render(report: Report, path: Path, classifier: str) -> str:
    lines = [f"safety-eval: {path} (learned layer: {classifier})",
             f"items: {report.benign + report.unsafe} ({report.benign} benign, {report.unsafe} unsafe: "
             + ", ".join(f"{c} {report.per_category.get(c, 0)}" for c in CATEGORIES) + ")",
             f"false positives on benign: {len({i.id for i, _, _ in report.false_positives})}/{report.benign} = "
             f"{report.fp_rate:.1%} (goal <= {GOAL_FP:.0%})",
             f"false negatives on unsafe: {len({i.id for i, _ in report.misses})}/{report.unsafe} = "
             f"{report.fn_rate:.1%} (goal <= {GOAL_FN:.0%})"]
    for category in CATEGORIES:
        total = report.per_category.get(category, 0)
        missed = report.category_misses(category)
        lines.append(f"  {category:<14} missed {missed}/{total}" + (f" = {missed / total:.1%}" if total else ""))
    lines.append(f"sexual-minors misses: {report.category_misses('sexual-minors')} (goal 0)")
    lines.append(f"latency per prompt: p50 {report.percentile(0.5):.2f} ms, p99 {report.percentile(0.99):.2f} ms, "
                 f"max {max(report.latencies_ms, default=0):.2f} ms (goal p99 < {GOAL_P99_MS:.0f} ms); CPU time p50 "
                 f"{report.percentile(0.5, report.cpu_ms):.2f} ms, p99 {report.percentile(0.99, report.cpu_ms):.2f} ms")
    for item, channel, category in report.false_positives:
        lines.append(f"FP   {item.id} [{channel}] refused as {category}: {item.prompt!r}"
                     + (f" / negative {item.negative!r}" if item.negative else ""))
    for item, channel in report.misses:
        lines.append(f"MISS {item.id} [{channel}] {item.category}: {item.prompt!r}"
                     + (f" / negative {item.negative!r}" if item.negative else ""))
    lines.append("goals: " + ("met" if report.goals_met else "NOT met"))
    return "\n".join(lines)


def main(argv: Sequence[str], env: dict[str, str]) -> int:
    from bot.config import prompt_classifier_setting
    from bot.safety.classifier import load_classifier

    parser = argparse.ArgumentParser(prog="python -m bot safety-eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET,
                        help=f"a JSON-lines labelled set (default {DEFAULT_SET})")
    args = parser.parse_args(list(argv))
    setting = prompt_classifier_setting(env)
    prompt_filter = PromptFilter(load_classifier(setting))
    report = evaluate(load(args.set), prompt_filter)
    print(render(report, args.set, setting))
    return 0 if report.goals_met else 1
