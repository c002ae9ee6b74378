"""Working-time arithmetic: weekends, public holidays, extra days off, daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.calendar import ROUND_THE_CLOCK, BusinessHours, NoWorkingTime, days_off
from bot.config import ConfigDirectory, parse_config
from bot.people import SlaTargets
from bot.sla import deadlines, warning

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
GB = holidays.country_holidays("GB", subdiv="ENG")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def office(extra: tuple[date, ...] = ()) -> BusinessHours:
    """Mon-Fri 09:00-17:30 in London, less English public holidays and `extra`."""
    return BusinessHours(LONDON, frozenset(range(5)), time(9), time(17, 30),
                         days_off(GB.__contains__, extra))


H = timedelta(hours=1)


def test_round_the_clock_counts_every_hour() -> None:
    start = datetime(2026, 3, 28, 12, tzinfo=LONDON)
    assert ROUND_THE_CLOCK.add(start, 24 * H) == datetime(2026, 3, 29, 12, tzinfo=UTC)  # 13:00 BST
    # Noon to noon over the spring change is 23 hours, not the 24 wall-clock arithmetic says.
    assert ROUND_THE_CLOCK.between(start, datetime(2026, 3, 29, 12, tzinfo=LONDON)) == 23 * H


def test_a_friday_afternoon_target_runs_into_monday() -> None:
    cal = office()
    # Fri 16:00 + 4h: 1.5h on Friday, 2.5h on Monday.
    assert cal.add(london(2026, 11, 20, 16), 4 * H) == london(2026, 11, 23, 11, 30)
    assert cal.between(london(2026, 11, 20, 16), london(2026, 11, 23, 11, 30)) == 4 * H
    # Backwards over the weekend: an hour before Monday 09:30 is Friday 17:00.
    assert cal.add(london(2026, 11, 23, 9, 30), -H) == london(2026, 11, 20, 17)


def test_christmas_and_boxing_day_observed_are_skipped() -> None:
    cal = office()
    # Thu 24 Dec 15:00: 2.5h that day; Fri 25 (Christmas), the weekend and Mon 28 (Boxing Day,
    # observed) are off; 1.5h more on Tue 29.
    assert cal.add(london(2026, 12, 24, 15), 4 * H) == london(2026, 12, 29, 10, 30)


def test_extra_days_off_are_skipped_too() -> None:
    cal = office(extra=(date(2026, 12, 24),))
    assert cal.add(london(2026, 12, 23, 17), 2 * H) == london(2026, 12, 29, 10, 30)


def test_hours_keep_local_time_across_the_autumn_change() -> None:
    cal = office()
    # Fri 23 Oct is BST (UTC+1), Mon 26 Oct GMT: 1h on Friday, then 09:00-12:00 GMT.
    start = london(2026, 10, 23, 16, 30)
    assert start.utcoffset() == H
    end = cal.add(start, 4 * H)
    assert end == datetime(2026, 10, 26, 12, 0, tzinfo=UTC)
    assert end.astimezone(LONDON).hour == 12


def test_hours_keep_local_time_across_the_spring_change_in_new_york() -> None:
    cal = BusinessHours(NEW_YORK, frozenset(range(5)), time(9), time(17))
    start = datetime(2026, 3, 6, 16, tzinfo=NEW_YORK)  # EST, UTC-5
    assert cal.add(start, 2 * H) == datetime(2026, 3, 9, 14, tzinfo=UTC)  # 10:00 EDT
    assert cal.between(start, datetime(2026, 3, 9, 10, tzinfo=NEW_YORK)) == 2 * H


def test_adding_nothing_stays_put_even_after_hours() -> None:
    friday_evening = london(2026, 11, 20, 17, 30)
    assert office().add(friday_evening, timedelta()) == friday_evening
    # A deadline at closing time breaches at closing time, not on Monday morning.
    assert office().add(london(2026, 11, 20, 9), 8.5 * H) == friday_evening


def test_starting_outside_hours_starts_at_the_next_opening() -> None:
    assert office().add(london(2026, 11, 21, 12), H) == london(2026, 11, 23, 10)
    assert office().between(london(2026, 11, 21), london(2026, 11, 22, 23)) == timedelta()


def test_no_working_day_at_all_is_refused() -> None:
    with pytest.raises(ValueError):
        BusinessHours(LONDON, frozenset(), time(9), time(17))
    always_off = BusinessHours(LONDON, frozenset(range(7)), time(9), time(17), lambda _: True)
    with pytest.raises(NoWorkingTime):
        always_off.add(london(2026, 1, 1), H)


def test_warning_is_the_rest_of_the_target_before_the_deadline() -> None:
    cal = office()
    targets = SlaTargets(4 * H, timedelta(days=2), 0.75)
    ack, resolve = deadlines(targets, london(2026, 11, 20, 16), cal)
    assert ack == london(2026, 11, 23, 11, 30)
    assert warning(cal, ack, targets.ack, 0.75) == london(2026, 11, 23, 10, 30)
    # Two days of target are two working days: Friday 16:00 to Tuesday 16:00.
    assert resolve == london(2026, 11, 24, 16)
    assert warning(cal, resolve, targets.resolve, 0.5) == london(2026, 11, 23, 16)
    assert warning(cal, ack, None, 0.75) is None


def test_days_of_a_target_are_working_days_hours_are_working_hours() -> None:
    cal = office()
    assert cal.working(timedelta(days=2, hours=3)) == 17 * H + 3 * H
    assert cal.working(-timedelta(days=1)) == -8.5 * H
    assert ROUND_THE_CLOCK.working(timedelta(days=2)) == 48 * H


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(LONDON))
spans = st.integers(min_value=0, max_value=60 * 24 * 20).map(lambda m: timedelta(minutes=m))


@given(moments, spans)
def test_add_and_between_agree(start: datetime, span: timedelta) -> None:
    cal = office()
    end = cal.add(start, span)
    assert end >= start
    assert cal.between(start, end) == span
    assert cal.between(cal.add(end, -span), end) == span


def test_the_config_directory_builds_calendars_from_baton_yaml() -> None:
    config = parse_config({
        "teams": {"ops": {"time_zone": "Europe/London", "lead": "lena",
                          "hours": {"days": ["mon", "tue", "wed", "thu", "fri"],
                                    "start": "09:00", "end": "17:30",
                                    "holidays": {"country": "GB", "subdivision": "ENG"},
                                    "extra": ["2026-12-31"]},
                          "escalation": "ops", "sla": "biz"}},
        "sla_policies": {"biz": {"business_hours": True, "pause_when_blocked": True,
                                 "stall_every": "2d",
                                 "targets": {"default": {"default": {"ack": "4h",
                                                                     "resolve": "2d"}}}}},
        "escalation_chains": {"ops": [{"after": "0m", "notify": "owner"},
                                      {"after": "2h", "notify": "lead",
                                       "reassign_to": "lead"}]},
    })
    clock = ConfigDirectory(config).clock("ops")
    assert clock.pause_when_blocked and clock.stall_every == timedelta(days=2)
    assert [(s.after, s.notify, s.reassign_to) for s in clock.chain] == [
        (timedelta(), "owner", None), (2 * H, "lead", "lead")]
    assert clock.calendar.add(london(2026, 12, 24, 15), 4 * H) == london(2026, 12, 29, 10, 30)
    assert clock.calendar.add(london(2026, 12, 30, 17), H) == london(2027, 1, 4, 9, 30)
    general = ConfigDirectory(parse_config({})).clock("general")
    assert general.calendar is ROUND_THE_CLOCK and len(general.chain) == 3
