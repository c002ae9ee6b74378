"""Due times as typed, resolved in the person's zone, on both sides of the 2026 DST changes.

US clocks go forward on Sunday 2026-03-08 (EST -5 -> EDT -4), UK clocks on Sunday 2026-03-29
(GMT 0 -> BST +1). Expected instants are written in UTC.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.context import Request
from bot.due import DueError, DueSpec, parse_due, parse_duration
from bot.people import Person
from bot.service import Baton
from tests.fakes import FakeClock, FakeDirectory, FakeUnits, World

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def due(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The instant `text` means, in UTC (a local time the clocks skip never equals any instant
    under PEP 495, so compare instants, not local readings)."""
    return parse_due(text).resolve(now, zone).astimezone(UTC)


# --- what the text means -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "spec"), [
    ("4h", DueSpec("4h", delta=timedelta(hours=4))),
    ("2d", DueSpec("2d", delta=timedelta(days=2))),
    ("1h30m", DueSpec("1h30m", delta=timedelta(minutes=90))),
    ("1w", DueSpec("1w", delta=timedelta(weeks=1))),
    ("fri", DueSpec("fri", weekday=4)),
    ("fri 17:00", DueSpec("fri 17:00", weekday=4, at=time(17, 0))),
    ("Friday 5pm", DueSpec("Friday 5pm", weekday=4, at=time(17, 0))),
    ("mon 9:30am", DueSpec("mon 9:30am", weekday=0, at=time(9, 30))),
    ("tomorrow 9am", DueSpec("tomorrow 9am", day_offset=1, at=time(9, 0))),
    ("tomorrow 12am", DueSpec("tomorrow 12am", day_offset=1, at=time(0, 0))),
    ("today 12pm", DueSpec("today 12pm", day_offset=0, at=time(12, 0))),
    ("2026-12-01", DueSpec("2026-12-01", on=date(2026, 12, 1))),
    ("2026-12-01T09:30", DueSpec("2026-12-01T09:30", on=date(2026, 12, 1), at=time(9, 30))),
    ("2026-12-01 09:30", DueSpec("2026-12-01 09:30", on=date(2026, 12, 1), at=time(9, 30))),
])
def test_forms(text: str, spec: DueSpec) -> None:
    assert parse_due(text) == spec


@pytest.mark.parametrize(("text", "message"), [
    ("", "a due time is missing"),
    ("soon", "'soon' is not a due time"),
    ("0h", "'0h' is not a positive duration"),  # says what is wrong with it
    ("99999d", "'99999d' is too far ahead \\(five years at most\\)"),
    ("𝟙h", "'𝟙h' is not a due time"),  # only ASCII digits are numbers
    ("2026-02-30", "'2026-02-30' is not a calendar date"),
    ("fri 25:00", "'25:00' is not a time of day"),
    ("fri 17:60", "'17:60' is not a time of day"),
    ("fri 13pm", "'13pm' is not a time of day"),
    ("tomorrow noonish", "'noonish' is not a time of day"),
])
def test_bad_due_times(text: str, message: str) -> None:
    with pytest.raises(DueError, match=message):
        parse_due(text)


@pytest.mark.parametrize(("text", "message"), [
    ("soon", "'soon' is not a duration (try 30m, 4h, 2d or 1w)"),
    ("0h", "'0h' is not a positive duration"),
    ("3y", "unknown unit 'y' in '3y' (use m, h, d or w)"),
    ("9999w", "'9999w' is too far ahead (five years at most)"),
    ("4h!", "'4h!' is not a duration"),
])
def test_bad_durations(text: str, message: str) -> None:
    with pytest.raises(DueError) as caught:
        parse_duration(text)
    assert str(caught.value).startswith(message)


def test_durations_with_spaces_and_words() -> None:
    assert parse_duration("90 min") == timedelta(minutes=90)
    assert parse_duration("1h 30m") == timedelta(minutes=90)
    assert parse_duration("2 days") == timedelta(days=2)


@pytest.mark.parametrize(("text", "delta"), [
    ("90 min", timedelta(minutes=90)),
    ("2 days", timedelta(days=2)),
    ("1h 30m", timedelta(minutes=90)),
])
def test_due_accepts_what_snooze_accepts(text: str, delta: timedelta) -> None:
    assert parse_due(text).delta == delta


# --- durations: elapsed time, whatever the clocks do -----------------------------------------

def test_hours_and_days_are_elapsed_time() -> None:
    now = utc(2026, 11, 23, 9, 0)
    assert due("4h", now, LONDON) == utc(2026, 11, 23, 13, 0)
    assert due("1h30m", now, NEW_YORK) == utc(2026, 11, 23, 10, 30)
    assert due("2d", now, LONDON) == utc(2026, 11, 25, 9, 0)


@pytest.mark.parametrize(("zone", "now"), [
    (NEW_YORK, utc(2026, 3, 7, 17, 0)),  # Sat 12:00 EST
    (LONDON, utc(2026, 3, 28, 12, 0)),  # Sat 12:00 GMT
])
def test_a_duration_across_the_dst_change_is_48_hours(zone: ZoneInfo, now: datetime) -> None:
    # "2d" counts elapsed time, so across spring-forward the wall clock reads an hour later.
    due_at = due("2d", now, zone)
    assert due_at == now + timedelta(hours=48)
    assert due_at.astimezone(zone).hour == now.astimezone(zone).hour + 1


# --- weekdays -------------------------------------------------------------------------------

def test_fri_17_from_monday_is_this_friday() -> None:
    monday = utc(2026, 11, 23, 9, 0)
    assert due("fri 17:00", monday, LONDON) == utc(2026, 11, 27, 17, 0)
    assert due("fri 17:00", monday, NEW_YORK) == utc(2026, 11, 27, 22, 0)
    assert due("fri", monday, LONDON) == utc(2026, 11, 27, 17, 0)  # a bare day ends at 17:00


def test_fri_17_on_a_friday() -> None:
    assert due("fri 17:00", utc(2026, 11, 27, 16, 0), LONDON) == utc(2026, 11, 27, 17, 0)
    assert due("fri 17:00", utc(2026, 11, 27, 17, 0), LONDON) == utc(2026, 12, 4, 17, 0)
    assert due("fri 17:00", utc(2026, 11, 27, 17, 30), LONDON) == utc(2026, 12, 4, 17, 0)
    assert due("fri", utc(2026, 11, 27, 18, 0), LONDON) == utc(2026, 12, 4, 17, 0)


def test_the_weekday_is_the_persons_not_utcs() -> None:
    # Fri 03:00 UTC is still Thursday evening in New York: "fri" means tomorrow there.
    now = utc(2026, 11, 27, 3, 0)
    assert due("fri 17:00", now, NEW_YORK) == utc(2026, 11, 27, 22, 0)
    assert due("fri 17:00", now, LONDON) == utc(2026, 11, 27, 17, 0)
    # Sat 01:00 UTC is Friday 20:00 in New York, past 17:00: a week later.
    assert due("fri 17:00", utc(2026, 11, 28, 1, 0), NEW_YORK) == utc(2026, 12, 4, 22, 0)


def test_fri_17_a_week_later_across_the_us_change() -> None:
    friday_evening = utc(2026, 3, 6, 23, 0)  # Fri 18:00 EST
    # 17:00 on the wall clock, now EDT: 21:00 UTC, not 7 x 24 h after last Friday's 22:00.
    assert due("fri 17:00", friday_evening, NEW_YORK) == utc(2026, 3, 13, 21, 0)


def test_fri_17_a_week_later_across_the_uk_change() -> None:
    friday_evening = utc(2026, 3, 27, 18, 0)  # Fri 18:00 GMT
    assert due("fri 17:00", friday_evening, LONDON) == utc(2026, 4, 3, 16, 0)  # 17:00 BST
    assert due("fri 17:00", friday_evening, NEW_YORK) == utc(2026, 3, 27, 21, 0)  # 17:00 EDT


# --- tomorrow ---------------------------------------------------------------------------------

def test_tomorrow_9am_onto_the_dst_sunday() -> None:
    assert due("tomorrow 9am", utc(2026, 3, 28, 10, 0), LONDON) == utc(2026, 3, 29, 8, 0)
    assert due("tomorrow 9am", utc(2026, 3, 7, 15, 0), NEW_YORK) == utc(2026, 3, 8, 13, 0)
    # the day before the change still uses the old offsets
    assert due("tomorrow 9am", utc(2026, 3, 27, 10, 0), LONDON) == utc(2026, 3, 28, 9, 0)
    assert due("tomorrow 9am", utc(2026, 3, 6, 15, 0), NEW_YORK) == utc(2026, 3, 7, 14, 0)


def test_tomorrow_is_the_persons_tomorrow() -> None:
    late_in_new_york = utc(2026, 11, 24, 4, 30)  # Mon 23:30 EST, already Tuesday in UTC
    assert due("tomorrow 9am", late_in_new_york, NEW_YORK) == utc(2026, 11, 24, 14, 0)
    assert due("tomorrow 9am", late_in_new_york, LONDON) == utc(2026, 11, 25, 9, 0)
    assert due("tomorrow", late_in_new_york, NEW_YORK) == utc(2026, 11, 24, 22, 0)


# --- dates ------------------------------------------------------------------------------------

def test_a_date_is_17_00_local_and_a_date_time_is_that_time() -> None:
    now = utc(2026, 11, 23, 9, 0)
    assert due("2026-12-01", now, LONDON) == utc(2026, 12, 1, 17, 0)
    assert due("2026-12-01", now, NEW_YORK) == utc(2026, 12, 1, 22, 0)
    assert due("2026-12-01T09:30", now, LONDON) == utc(2026, 12, 1, 9, 30)
    assert due("2026-12-01T09:30", now, NEW_YORK) == utc(2026, 12, 1, 14, 30)


@pytest.mark.parametrize(("text", "zone", "expected"), [
    ("2026-03-07 12:00", NEW_YORK, utc(2026, 3, 7, 17, 0)),  # EST
    ("2026-03-08 12:00", NEW_YORK, utc(2026, 3, 8, 16, 0)),  # EDT
    ("2026-03-28 12:00", LONDON, utc(2026, 3, 28, 12, 0)),  # GMT
    ("2026-03-29 12:00", LONDON, utc(2026, 3, 29, 11, 0)),  # BST
    ("2026-10-25 12:00", LONDON, utc(2026, 10, 25, 12, 0)),  # back to GMT
    ("2026-11-01 12:00", NEW_YORK, utc(2026, 11, 1, 17, 0)),  # back to EST
    # Times the clocks skip read with the offset before the change: 01:30 "GMT" is 02:30 BST.
    ("2026-03-29 01:30", LONDON, utc(2026, 3, 29, 1, 30)),
    ("2026-03-08 02:30", NEW_YORK, utc(2026, 3, 8, 7, 30)),
])
def test_dates_on_both_sides_of_the_changes(text: str, zone: ZoneInfo, expected: datetime) -> None:
    assert due(text, utc(2026, 1, 5, 9, 0), zone) == expected


def test_a_skipped_local_time_resolves_to_a_real_instant() -> None:
    resolved = parse_due("2026-03-29 01:30").resolve(utc(2026, 1, 5, 9, 0), LONDON)
    assert resolved == utc(2026, 3, 29, 1, 30)


# --- through the service: the asker's zone, and times in the past -----------------------------

class Zoned(FakeDirectory):
    """FakeDirectory with bob in New York (alice and the rest stay in London)."""

    def person(self, handle: str) -> Person | None:
        found = super().person(handle)
        if found is not None and found.id == "bob":
            return replace(found, time_zone="America/New_York")
        return found


def run(world: World, now: datetime, who: str, text: str) -> tuple[bool, str]:
    baton = Baton(FakeUnits(world), FakeClock(now), Zoned())
    reply = asyncio.run(baton.run(Request("w", who), text))
    return reply.ok, str(reply.text)


def test_due_is_read_in_the_askers_zone() -> None:
    world = World()
    friday_evening = utc(2026, 3, 6, 23, 0)  # Fri 18:00 EST, Fri 23:00 GMT
    assert run(world, friday_evening, "bob", "handoff @alice Notes --due fri 17:00")[0]
    assert run(world, friday_evening, "alice", "handoff @bob Notes --due fri 17:00")[0]
    assert world.items[("w", 1)].due_at == utc(2026, 3, 13, 21, 0)  # 17:00 EDT
    assert world.items[("w", 2)].due_at == utc(2026, 3, 13, 17, 0)  # 17:00 GMT


def test_a_due_time_in_the_past_is_refused_and_writes_nothing() -> None:
    world = World()
    ok, text = run(world, utc(2026, 11, 27, 18, 0), "alice",
                   "handoff @bob Notes --due today 17:00")
    assert not ok and text == "The due time Fri 27 Nov 2026 17:00 GMT has already passed."
    assert world.items == {} and world.events == []


def test_a_due_date_at_the_end_of_time_is_refused_not_raised() -> None:
    world = World()
    ok, _ = run(world, utc(2026, 11, 23, 9, 0), "bob", "handoff @alice x --due 9999-12-31 23:59")
    assert not ok
