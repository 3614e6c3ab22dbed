"""The bench's batching report (bot/bench/batching.py): gains are one-by-one ÷ batched, paired by
round, and the stack's share is its gain over the bare pipeline's."""
from __future__ import annotations

from bot.bench.batching import STAGES, StackResult, StackRun, report


def _run(seconds: float, calls: int) -> StackRun:
    return StackRun(seconds, dict.fromkeys(STAGES, seconds / 4), calls)


def test_the_report_puts_the_stack_gain_beside_the_bare_gain():
    bare = [(1.0, 1.5), (1.0, 1.5), (1.0, 1.5)]  # x1.5 each round
    stack = StackResult(batched=[_run(2.0, 1)] * 3, single=[_run(2.7, 8)] * 3)  # x1.35
    lines = report(bare, stack, 8)
    assert "bare pipeline x1.50" in lines[0] and "whole stack x1.35" in lines[0]
    assert "keeps 90% of the bare pipeline's gain" in lines[1]
    assert "batched (1 call(s))" in lines[2] and "one at a time (8 calls)" in lines[3]
