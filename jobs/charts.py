"""The weekly digest's chart, drawn to a PNG file with matplotlib's Agg canvas."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def render_weekly_chart(spec: Mapping[str, Any], path: Path) -> None:
    """Backlog (line) and throughput, created and done per week (bars), from the digest's
    chart data; written atomically so a half-drawn file is never uploaded."""
    # matplotlib takes most of a second to import: only a process that draws a chart pays.
    # A bare Figure (no pyplot) draws with the Agg canvas: no display, no global state, safe
    # in a server's worker thread.
    from matplotlib.figure import Figure

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
    axes.set_ylabel("items")
    axes.set_title(str(spec.get("title", "Backlog and throughput")))
    axes.legend(loc="upper left", fontsize=8, frameon=False)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    partial = path.with_name(path.name + ".part")
    figure.savefig(partial, format="png")
    partial.replace(path)
