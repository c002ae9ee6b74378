"""The digests' words: every figure with its change against last week, paging that never cuts
silently, and `digest --weekly` through the core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import rich
from bot.context import Request
from bot.digests import pages
from bot.figures import Spread, TrendPoint, Week, WeeklyFigures, age_bucket, percentile
from bot.items import Item, Kind
from bot.messages import Audience
from bot.service import Baton
from bot.weekly import chart_spec, weekly_digest
from tests.fakes import FakeClock, FakeDirectory, FakeUnits, World

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
H = timedelta(hours=1)
UTC_ZONE = ZoneInfo("UTC")


def figures() -> WeeklyFigures:
    this = Week(NOW - 7 * 24 * H, NOW, {Kind.HANDOFF: 5, Kind.APPROVAL: 2}, {Kind.HANDOFF: 4},
                Spread(7, 2 * H, 10 * H), Spread(4, 30 * H, 70 * H), 6, 7, 3, 4, 2,
                {"under 1d": 3, "1–3d": 2}, {"bob": 3, "": 2})
    last = Week(NOW - 14 * 24 * H, NOW - 7 * 24 * H, {Kind.HANDOFF: 3}, {Kind.HANDOFF: 6},
                Spread(3, 3 * H, 4 * H), Spread(), 2, 3, 0, 0, 5, {"under 1d": 1}, {"bob": 1})
    oldest = (Item("w", 9, Kind.HANDOFF, "Old thing", "alice", "ops", NOW - 100 * H,
                   NOW - 100 * H, owner="bob"),)
    trend = tuple(TrendPoint(NOW - (7 - k) * 7 * 24 * H, k, k // 2, 10 - k) for k in range(8))
    return WeeklyFigures("ops", this, last, oldest, trend)


def test_every_figure_shows_its_change_against_last_week() -> None:
    text = str(weekly_digest(figures(), NOW, UTC_ZONE))
    assert text.splitlines() == [
        "#ops weekly digest, Mon 16 Nov to Mon 23 Nov 09:00 (changes against the week before)",
        "Created: 7 (▲4) — handoff 5 (▲2), approval 2 (▲2)",
        "Done: 4 (▼2) — handoff 4 (▼2)",
        "Time to acknowledge: median 2h (▼1h), p90 10h (▲6h) over 7 items",
        "Time to resolve: median 1d 6h (no figure last week), p90 2d 22h (no figure last week) "
        "over 4 items",
        "SLA attainment: acknowledged in time 86% (6/7, ▲19 pts); resolved in time 75% "
        "(3/4, no figure last week)",
        "Escalations: 2 (▼3)",
        "Backlog: 5 open (▲4) — under 1d 3 (▲2), 1–3d 2 (▲2)",
        "Load per owner: @bob 3 (▲2), unassigned 2 (▲2)",
        "Oldest open (1):",
        "  #9 [handoff · open] Old thing — owner @bob, open 4d 4h",
        "Chart: backlog and throughput over 8 weeks (attached where the platform shows images).",
    ]


def test_the_chart_data_has_eight_weeks_of_three_series() -> None:
    spec = chart_spec(figures(), UTC_ZONE)
    assert spec["weeks"][-1] == "16 Nov" and len(spec["weeks"]) == 8
    assert spec["created"] == list(range(8)) and spec["backlog"][0] == 10
    assert spec["done"] == [0, 0, 1, 1, 2, 2, 3, 3]


def test_long_text_is_paged_with_markers_and_nothing_lost() -> None:
    lines = [f"line {n:03d} " + "x" * 60 for n in range(120)]
    text = "\n".join(lines)
    parts = [str(p) for p in pages(rich.text(text), limit=1000)]
    assert len(parts) > 5 and all(len(p) <= 1000 for p in parts)
    assert parts[0].startswith(f"(1/{len(parts)}) line 000")
    assert parts[-1].startswith(f"({len(parts)}/{len(parts)}) ")
    rebuilt = "\n".join(p.split(") ", 1)[1] for p in parts)
    assert rebuilt == text
    assert pages(rich.text("short")) == [rich.text("short")]
    huge = "word " * 500
    cut = [str(p) for p in pages(rich.text(huge), limit=300)]
    assert all(len(p) <= 300 for p in cut)
    assert " ".join(p.split(") ", 1)[1] for p in cut).split() == huge.split()


def test_paging_keeps_people_as_people() -> None:
    message = rich.lines([rich.fmt("{who} holds #{n}", who=rich.person("bob"), n=n)
                          for n in range(300)])
    parts = pages(message, limit=500)
    assert len(parts) > 1
    assert all(rich.Kind.PERSON in {s.kind for s in part.spans} for part in parts)


def test_percentiles_and_age_buckets() -> None:
    assert percentile([], 0.5) is None
    assert percentile([1.0, 3.0, 8.0, 123.0], 0.5) == 5.5
    assert percentile([1.0, 3.0, 8.0, 123.0], 0.9) == pytest.approx(88.5)
    assert age_bucket(23 * H) == "under 1d" and age_bucket(24 * H) == "1–3d"
    assert age_bucket(40 * 24 * H) == "over 4w"


async def test_digest_weekly_on_demand_and_a_long_daily_digest_in_pages() -> None:
    world = World()
    clock = FakeClock(NOW)
    baton = Baton(FakeUnits(world), clock, FakeDirectory())
    for n in range(40):
        reply = await baton.run(Request("w", "carol"), f"exception Disk {n} is full of "
                                f"{'very ' * 20}old logs --team eval")
        assert reply.ok
        assert (await baton.run(Request("w", "carol"), f"block #{n + 1} vendor")).ok
    daily = await baton.run(Request("w", "carol"), "digest --team eval")
    assert str(daily.text) == "Posted the daily digest to #eval's channel."
    sent = [m for m in world.outbox if m.audience is Audience.TEAM]
    posted = "\n".join(str(m.text) for m in sent)
    assert "Blocked (40)" in posted
    assert "… and 25 more: `list --team eval --state blocked`" in posted
    assert len(sent) > 1 and str(sent[0].text).startswith(
        f"(1/{len(sent)}) #eval blocker digest")
    assert len({m.key for m in sent}) == len(sent)

    clock.advance(timedelta(minutes=1))  # the week is [now - 7d, now)
    weekly = await baton.run(Request("w", "alice"), "digest --team eval --weekly")
    assert weekly.ok and str(weekly.text).splitlines()[1].startswith("#eval weekly digest")
    assert "Created: 40 (▲40) — exception 40 (▲40)" in str(weekly.text)
    weekly = await baton.run(Request("w", "carol"), "digest --team eval --weekly")
    chart = [m for m in world.outbox if m.attachment]
    assert len(chart) == 1 and chart[0].card is not None
    assert chart[0].card["chart"]["backlog"][-1] == 40
