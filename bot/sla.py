"""SLA deadlines of an item, from its team's targets, counted in the team's calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.calendar import ROUND_THE_CLOCK, Calendar
from bot.people import SlaTargets


def deadlines(targets: SlaTargets, start: datetime, calendar: Calendar = ROUND_THE_CLOCK,
              ) -> tuple[datetime | None, datetime | None]:
    """The acknowledge and resolve deadlines of an item raised at `start`: each target's span
    of working time after it (round the clock unless the team counts business hours, where a
    day of target is a working day)."""
    return _after(calendar, start, targets.ack), _after(calendar, start, targets.resolve)


def _after(calendar: Calendar, start: datetime, span: timedelta | None) -> datetime | None:
    return calendar.add(start, calendar.working(span)) if span is not None else None


def warning(calendar: Calendar, deadline: datetime, span: timedelta | None,
            warn_at: float) -> datetime | None:
    """When to remind: at `warn_at` of the target, i.e. the rest of it before the deadline
    (so a deadline moved by a pause moves its reminder with it)."""
    if span is None or not 0 < warn_at < 1:
        return None
    return calendar.add(deadline, -(calendar.working(span) * (1 - warn_at)))
