"""The weekly digest's chart: whole items on its axis, written whole or not at all."""

from __future__ import annotations

from pathlib import Path

from jobs.charts import render_weekly_chart, weekly_figure

WEEKS = ["05 Oct", "12 Oct", "19 Oct", "26 Oct", "02 Nov", "09 Nov", "16 Nov", "23 Nov"]


def test_the_item_axis_counts_whole_items() -> None:
    for created, done, backlog in (([0, 1, 0, 1, 0, 0, 1, 0], [0] * 8, [0, 1, 1, 2, 2, 2, 3, 3]),
                                   ([0] * 8, [0] * 8, [0] * 8),
                                   ([2, 3, 1, 2, 3, 2, 3, 4], [1, 2, 2, 2, 3, 2, 3, 0],
                                    [1, 2, 1, 1, 1, 1, 1, 5])):
        figure = weekly_figure({"weeks": WEEKS, "created": created, "done": done,
                                "backlog": backlog})
        ticks = [float(t) for t in figure.axes[0].get_yticks()]
        shown = [t for t in ticks if figure.axes[0].get_ylim()[0] <= t
                 <= figure.axes[0].get_ylim()[1]]
        assert len(shown) >= 2, ticks
        assert all(t.is_integer() for t in shown), shown


def test_the_chart_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    render_weekly_chart({"title": "#eval", "weeks": WEEKS, "created": [1] * 8,
                         "done": [1] * 8, "backlog": [2] * 8}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]
