"""The weekly digest's chart, drawn to a PNG file with matplotlib's Agg canvas."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def render_weekly_chart(spec: Mapping[str, Any], path: Path) -> None:
    """The chart of `weekly_figure`, written atomically so a half-drawn file is never
    uploaded."""
    figure = weekly_figure(spec)
    partial = path.with_name(path.name + ".part")
    figure.savefig(partial, format="png")
    partial.replace(path)


def weekly_figure(spec: Mapping[str, Any]) -> Figure:
    """Backlog (line) and throughput, created and done per week (bars), from the digest's
    chart data. Items are counted in whole numbers: the axis never reads 0.5 items."""
    # matplotlib takes most of a second to import: only a process that draws a chart pays.
    # A bare Figure (no pyplot) draws with the Agg canvas: no display, no global state, safe
    # in a server's worker thread.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    weeks = [str(w) for w in spec.get("weeks", [])]
    created = [int(n) for n in spec.get("created", [])]
    done = [int(n) for n in spec.get("done", [])]
    backlog = [int(n) for n in spec.get("backlog", [])]
    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    positions = list(range(len(weeks)))
    width = 0.38
    axes.bar([p - width / 2 for p in positions], created, width, label="created",
             color="#8fb3d9")
    axes.bar([p + width / 2 for p in positions], done, width, label="done", color="#5aa469")
    axes.plot(positions, backlog, marker="o", color="#c0392b", label="backlog (week end)")
    axes.set_xticks(positions, weeks, rotation=0, fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    # At least one item high (and room for the legend), so a quiet team's empty weeks still
    # get whole-number ticks rather than fractions of an item.
    axes.set_ylim(0, max(1, *created, *done, *backlog) * 1.25)
    axes.set_ylabel("items")
    axes.set_title(str(spec.get("title", "Backlog and throughput")))
    axes.legend(loc="upper left", fontsize=8, frameon=False)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure
