"""The figures digests are made of, as the Statistics port returns them. Plain data.

A period is half-open, [start, end). An item is *open at* T when it was created before T and
had not ended by T (`closed_at` unset, or at or after T). Durations are wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.items import Item, Kind

#: Backlog age buckets: (label, upper bound of the age, exclusive); the last has no bound.
AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("under 1d", timedelta(days=1)),
    ("1–3d", timedelta(days=3)),
    ("3–7d", timedelta(days=7)),
    ("1–4w", timedelta(weeks=4)),
    ("over 4w", None),
)


def age_bucket(age: timedelta) -> str:
    """The backlog bucket of an item this old."""
    for label, bound in AGE_BUCKETS:
        if bound is None or age < bound:
            return label
    raise AssertionError("unreachable")


def percentile(sorted_values: list[float], share: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    position = share * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass(frozen=True)
class Listing:
    """Some items of a digest section, and how many there are in all."""

    items: tuple[Item, ...]
    total: int


@dataclass(frozen=True)
class DailyFigures:
    """The blocker digest's sections for one team (open items only)."""

    blocked: Listing
    overdue: Listing  # past a due time or resolve deadline, not blocked
    unassigned: Listing  # exceptions nobody owns
    approvals: Listing  # approvals waiting on decisions, not blocked
    due_today: Listing  # due between now and the end of the team's day


@dataclass(frozen=True)
class Spread:
    """How long something took over `count` items: median and 90th percentile."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


@dataclass(frozen=True)
class Week:
    """One period's figures for a team."""

    start: datetime
    end: datetime
    created: dict[Kind, int] = field(default_factory=dict)
    done: dict[Kind, int] = field(default_factory=dict)  # ended done, not cancelled
    ack: Spread = Spread()  # created -> acknowledged, for items acknowledged in the period
    resolve: Spread = Spread()  # created -> done, for items done in the period
    ack_met: int = 0  # acknowledged in the period by their ack deadline...
    ack_total: int = 0  # ...of those acknowledged in the period that had one
    resolve_met: int = 0  # done in the period by their resolve deadline...
    resolve_total: int = 0  # ...of those done in the period that had one
    escalations: int = 0  # escalation steps taken in the period
    backlog: dict[str, int] = field(default_factory=dict)  # open at `end`, by age bucket
    load: dict[str, int] = field(default_factory=dict)  # open at `end` per (current) owner

    @property
    def open(self) -> int:
        return sum(self.backlog.values())


@dataclass(frozen=True)
class TrendPoint:
    """One week of the chart: items created and done in it, and the backlog at its end."""

    end: datetime
    created: int
    done: int
    backlog: int


@dataclass(frozen=True)
class WeeklyFigures:
    team: str
    this: Week
    last: Week
    oldest: tuple[Item, ...]  # the longest-open items, oldest first
    trend: tuple[TrendPoint, ...]  # oldest week first, the last one ends now
