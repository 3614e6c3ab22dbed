"""The /mod stats chart: a PNG drawn with matplotlib's object API on the Agg canvas.

pyplot keeps global state that is not thread-safe; a Figure with its own FigureCanvasAgg is, so
the front end can draw in a worker thread (asyncio.to_thread) and keep the event loop free. The
numbers drawn are also written into the PNG as a `pixelforge:stats` text chunk (JSON), so what the
chart shows can be checked against the database without reading pixels.
"""
from __future__ import annotations

import io
import json

from bot import credits
from bot.services.stats import Stats

STATS_CHUNK = "pixelforge:stats"


def stats_png(stats: Stats, names: dict[int, str], title: str) -> bytes:
    """Three panels: jobs (bars) and GPU-seconds (line) per day; failures and blocks per day;
    the members who used the most credits."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    days = [d.day[5:] for d in stats.days]  # MM-DD
    x = list(range(len(days)))
    figure = Figure(figsize=(9, 9), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    work, trouble, members = figure.subplots(3, 1, height_ratios=(3, 2, 2))
    figure.suptitle(title, fontsize=13)

    work.bar(x, [d.jobs for d in stats.days], color="#5865F2", label="jobs")
    work.set_ylabel("jobs")
    work.set_title("Jobs and GPU-seconds per day (UTC)", fontsize=10)
    gpu = work.twinx()
    gpu.plot(x, [d.gpu_seconds for d in stats.days], color="#EB459E", marker="o", label="GPU-seconds")
    gpu.set_ylabel("GPU-seconds")
    gpu.set_ylim(bottom=0)
    work.legend(handles=work.get_legend_handles_labels()[0] + gpu.get_legend_handles_labels()[0],
                loc="upper left", fontsize=8)

    width = 0.4
    trouble.bar([i - width / 2 for i in x], [d.failures for d in stats.days], width, color="#ED4245",
                label="failures")
    trouble.bar([i + width / 2 for i in x], [d.blocks for d in stats.days], width, color="#FEE75C",
                label="blocks")
    trouble.set_title("Failures and safety blocks per day", fontsize=10)
    trouble.legend(loc="upper left", fontsize=8)
    for axes in (work, trouble):
        step = max(1, len(days) // 14)  # at most ~14 labels, whatever the window
        axes.set_xticks(x[::step], days[::step], fontsize=8)
        axes.set_xlim(-0.6, len(days) - 0.4)
    trouble.yaxis.get_major_locator().set_params(integer=True)
    work.yaxis.get_major_locator().set_params(integer=True)

    members.set_title("Most credits used", fontsize=10)
    if stats.top:
        labels = [names.get(m.user_id, f"member {m.user_id}") for m in reversed(stats.top)]
        used = [m.credits / credits.TENTHS for m in reversed(stats.top)]
        bars = members.barh(labels, used, color="#57F287")
        members.bar_label(bars, labels=[credits.fmt(m.credits) for m in reversed(stats.top)], fontsize=8,
                          padding=3)
        members.set_xlabel("credits")
    else:
        members.text(0.5, 0.5, "no credits used", ha="center", va="center", transform=members.transAxes)
        members.set_axis_off()

    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={STATS_CHUNK: json.dumps(stats.as_dict(), sort_keys=True)})
    return out.getvalue()
