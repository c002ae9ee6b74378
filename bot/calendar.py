"""Working time: the clock SLA targets count in. Round the clock, or a team's business hours
(time zone, working days and hours, days off). Pure arithmetic on aware instants.

Instants are converted to UTC before any arithmetic: Python subtracts two datetimes sharing a
tzinfo by wall time, which is wrong across a daylight-saving change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: How far a calculation may walk looking for working time before giving up (ten years).
HORIZON_DAYS = 3660
_ZERO = timedelta()
_DAY = timedelta(days=1)


class NoWorkingTime(ValueError):
    """The calendar has no working time left within the horizon (every day is off)."""


class Calendar(ABC):
    """When the clock runs. `add` moves an instant by an amount of working time; `between`
    measures the working time from one instant to another (negative when `end` is earlier)."""

    @abstractmethod
    def add(self, start: datetime, span: timedelta) -> datetime:
        """The instant `span` of working time after `start` (before it, if negative). Adding
        nothing returns `start` itself, even outside working hours."""

    @abstractmethod
    def between(self, start: datetime, end: datetime) -> timedelta: ...

    def working(self, span: timedelta) -> timedelta:
        """The working time a configured span (an SLA target, an escalation delay) stands
        for. Round the clock, itself."""
        return span


class RoundTheClock(Calendar):
    """24x7: every second counts."""

    def add(self, start: datetime, span: timedelta) -> datetime:
        return (start.astimezone(UTC) + span) if span else start

    def between(self, start: datetime, end: datetime) -> timedelta:
        return end.astimezone(UTC) - start.astimezone(UTC)

    def __repr__(self) -> str:
        return "RoundTheClock()"


ROUND_THE_CLOCK = RoundTheClock()


def _never(_: date) -> bool:
    return False


@dataclass(frozen=True)
class BusinessHours(Calendar):
    """Working `days` (0 is Monday) from `start` to `end` local time in `zone`, less the days
    `day_off` names (public holidays, shutdowns). A day's hours are local wall time, so on the
    day clocks change the working day still opens at `start` and closes at `end`."""

    zone: ZoneInfo
    days: frozenset[int] = frozenset(range(5))
    start: time = time(9, 0)
    end: time = time(17, 0)
    day_off: Callable[[date], bool] = field(default=_never, compare=False)

    def __post_init__(self) -> None:
        if not self.days:
            raise ValueError("a business calendar needs at least one working day")
        if self.end <= self.start:
            raise ValueError("working hours must end after they start")

    def works_on(self, day: date) -> bool:
        return day.weekday() in self.days and not self.day_off(day)

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)

    def working(self, span: timedelta) -> timedelta:
        """Each whole day of the span is a working day (`2d` from Monday 10:00 is Wednesday
        10:00, not 48 working hours later); hours and minutes are working time."""
        whole = abs(span)
        days, rest = whole.days, whole - timedelta(days=whole.days)
        working = self.day_length * days + rest
        return working if span >= _ZERO else -working

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The day's working hours as UTC instants."""
        opens = datetime.combine(day, self.start, tzinfo=self.zone).astimezone(UTC)
        closes = datetime.combine(day, self.end, tzinfo=self.zone).astimezone(UTC)
        return opens, closes

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def _days(self, first: date, step: timedelta) -> Iterable[date]:
        day = first
        for _ in range(HORIZON_DAYS):
            yield day
            day += step
        raise NoWorkingTime(f"no working time within {HORIZON_DAYS} days of {first}")

    def add(self, start: datetime, span: timedelta) -> datetime:
        if not span:
            return start
        moment = start.astimezone(UTC)
        if span < _ZERO:
            return self._back(moment, -span)
        remaining = span
        for day in self._days(self._local_day(moment), _DAY):
            if not self.works_on(day):
                continue
            opens, closes = self.window(day)
            if moment >= closes:
                continue
            begin = max(moment, opens)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable")

    def _back(self, moment: datetime, span: timedelta) -> datetime:
        remaining = span
        for day in self._days(self._local_day(moment), -_DAY):
            if not self.works_on(day):
                continue
            opens, closes = self.window(day)
            if moment <= opens:
                continue
            finish = min(moment, closes)
            available = finish - opens
            if remaining <= available:
                return finish - remaining
            remaining -= available
        raise AssertionError("unreachable")

    def between(self, start: datetime, end: datetime) -> timedelta:
        first, last = start.astimezone(UTC), end.astimezone(UTC)
        if last < first:
            return -self.between(end, start)
        total = _ZERO
        day, final = self._local_day(first), self._local_day(last)
        while day <= final:
            if self.works_on(day):
                opens, closes = self.window(day)
                overlap = min(closes, last) - max(opens, first)
                if overlap > _ZERO:
                    total += overlap
            day += _DAY
        return total


def days_off(holidays: Callable[[date], bool] | None, extra: Iterable[date] = ()) -> \
        Callable[[date], bool]:
    """One test for a day off: a public holiday (when `holidays` says so) or an extra day."""
    listed = frozenset(extra)

    def off(day: date) -> bool:
        return day in listed or (holidays is not None and holidays(day))

    return off
