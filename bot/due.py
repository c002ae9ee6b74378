"""Due times as typed ("4h", "2d", "fri 17:00", "2026-12-01 09:30"), read in the person's zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_UNITS = {
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
    "d": 86400, "day": 86400, "days": 86400,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
}
_PART = re.compile(r"([0-9]{1,12})\s*([a-z]+)")  # ASCII digits only: `𝟙h` is not 1h
_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "wednesday"),
         ("thu", "thur", "thurs", "thursday"), ("fri", "friday"), ("sat", "saturday"),
         ("sun", "sunday")]
    )
    for name in names
}
#: A bare day ("fri", "2026-12-01") means the end of that working day.
END_OF_DAY = time(17, 0)
MAX_AHEAD = timedelta(days=5 * 366)
DUE_FORMS = "4h, 2d, 1h30m, fri, fri 17:00, tomorrow 9:00, 2026-12-01 or 2026-12-01 17:00"


class DueError(ValueError):
    """Raised for text that is not a due time."""


@dataclass(frozen=True)
class DueSpec:
    """A due time as typed; `resolve` turns it into an instant once now and the zone are known."""

    text: str
    delta: timedelta | None = None
    weekday: int | None = None
    day_offset: int | None = None
    on: date | None = None
    at: time | None = None

    def resolve(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The instant meant, as UTC; DueError if it lies more than five years ahead."""
        if self.delta is not None:
            return now + self.delta
        local = now.astimezone(zone)
        at = self.at or END_OF_DAY
        if self.on is not None:
            day = self.on
        elif self.day_offset is not None:
            day = local.date() + timedelta(days=self.day_offset)
        else:
            assert self.weekday is not None
            ahead = (self.weekday - local.weekday()) % 7
            day = local.date() + timedelta(days=ahead)
            if ahead == 0 and local.time() >= at:
                day += timedelta(days=7)
        if day > local.date() + MAX_AHEAD:
            raise DueError(f"{self.text!r} is too far ahead (five years at most)")
        # via UTC, so a wall time the clocks skip still names one real instant (PEP 495)
        return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def parse_duration(text: str) -> timedelta:
    """'4h', '2d', '1h30m', '90 min' -> timedelta; DueError otherwise."""
    compact = text.strip().lower()
    parts = _PART.findall(compact)
    if not parts or _PART.sub("", compact).strip():
        raise DueError(f"{text!r} is not a duration (try 30m, 4h, 2d or 1w)")
    seconds = 0
    for count, unit in parts:
        if unit not in _UNITS:
            raise DueError(f"unknown unit {unit!r} in {text!r} (use m, h, d or w)")
        seconds += int(count) * _UNITS[unit]
    if seconds <= 0:
        raise DueError(f"{text!r} is not a positive duration")
    if seconds > MAX_AHEAD.total_seconds():
        raise DueError(f"{text!r} is too far ahead (five years at most)")
    return timedelta(seconds=seconds)


def _parse_clock(text: str) -> time:
    match = re.fullmatch(r"([0-9]{1,2})(?::([0-9]{2}))?\s*(am|pm)?", text.strip().lower())
    if not match:
        raise DueError(f"{text!r} is not a time of day (try 17:00 or 5pm)")
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[3]:
        if not 1 <= hour <= 12:
            raise DueError(f"{text!r} is not a time of day")
        hour = hour % 12 + (12 if match[3] == "pm" else 0)
    if hour > 23 or minute > 59:
        raise DueError(f"{text!r} is not a time of day (hours 0-23, minutes 0-59)")
    return time(hour, minute)


def parse_due(text: str) -> DueSpec:
    """Read a due time as typed; DueError names what is wrong."""
    cleaned = " ".join(text.replace("T", " ", 1).split()) if re.match(r"[0-9]{4}-", text) else (
        " ".join(text.split())
    )
    if not cleaned:
        raise DueError(f"a due time is missing (try {DUE_FORMS})")
    first, _, rest = cleaned.partition(" ")
    low = first.lower()
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", first):
        at = _parse_clock(rest) if rest else None
        try:
            on = date.fromisoformat(first)
        except ValueError as exc:
            raise DueError(f"{first!r} is not a calendar date") from exc
        return DueSpec(text=text, on=on, at=at)
    if low in _WEEKDAYS:
        return DueSpec(text=text, weekday=_WEEKDAYS[low], at=_parse_clock(rest) if rest else None)
    if low in ("today", "tomorrow"):
        return DueSpec(text=text, day_offset=0 if low == "today" else 1,
                       at=_parse_clock(rest) if rest else None)
    compact = cleaned.lower()
    if _PART.findall(compact) and not _PART.sub("", compact).strip():
        return DueSpec(text=text, delta=parse_duration(cleaned))  # its own reason if wrong
    raise DueError(f"{text!r} is not a due time (try {DUE_FORMS})")
