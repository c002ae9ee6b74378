"""The value types of baton.yaml: durations, clock times, weekdays, zones, handles, names.

Each parser raises PydanticCustomError with what was expected; the loader adds the file,
the path and the value it got.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, PlainValidator
from pydantic_core import PydanticCustomError

from bot.due import DueError, parse_duration

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_ZERO = re.compile(r"0+\s*(?:m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)?")
_HANDLE = re.compile(r"[A-Za-z0-9_][\w.\-']*")
_NAME = re.compile(r"[A-Za-z][\w\-.]*")
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_COUNTRY = re.compile(r"[A-Z]{2}")
_SUBDIVISION = re.compile(r"[A-Z0-9]{1,10}")

DURATION_EXAMPLES = "30m, 4h, 2d or 1h30m"


def _fail(kind: str, expected: str) -> PydanticCustomError:
    return PydanticCustomError(kind, expected)


def _duration(value: Any, *, zero: bool) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _fail("duration", f"expected a duration like {DURATION_EXAMPLES}")
    text = str(value).strip().lower()
    if zero and _ZERO.fullmatch(text):
        return timedelta(0)
    try:
        return parse_duration(text)
    except DueError:
        raise _fail("duration", f"expected a duration like {DURATION_EXAMPLES}") from None


def parse_positive_duration(value: Any) -> timedelta:
    return _duration(value, zero=False)


def parse_delay(value: Any) -> timedelta:
    """A duration that may be zero ("0m": at once)."""
    return _duration(value, zero=True)


def parse_clock(value: Any) -> time:
    """'09:00' or '9:00' -> time(9, 0)."""
    if isinstance(value, time):
        return value
    match = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise _fail("clock", "expected a time like 09:00")
    return time(int(match[1]), int(match[2]))


def parse_weekday(value: Any) -> int:
    """'mon' or 'Monday' -> 0 ... 'sun' -> 6."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text in WEEKDAYS:
        return WEEKDAYS.index(text)
    if text in _FULL_DAYS:
        return _FULL_DAYS.index(text)
    raise _fail("weekday", f"expected a weekday ({', '.join(WEEKDAYS)})")


def expand_days(value: Any) -> Any:
    """Let `days: mon-fri` stand for the list it names."""
    if not isinstance(value, str) or "-" not in value:
        return value
    first, _, last = value.partition("-")
    try:
        start, end = parse_weekday(first), parse_weekday(last)
    except PydanticCustomError:
        raise _fail("weekdays", "expected a list of weekdays or a range like mon-fri") from None
    return [WEEKDAYS[(start + i) % 7] for i in range((end - start) % 7 + 1)]


@dataclass(frozen=True)
class WeeklyTime:
    """A weekly moment in a team's zone: `weekday` 0 is Monday."""

    weekday: int
    at: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.at:%H:%M}"


def parse_weekly(value: Any) -> WeeklyTime:
    """'mon 09:00' -> WeeklyTime(0, 09:00)."""
    if isinstance(value, WeeklyTime):
        return value
    parts = value.split() if isinstance(value, str) else []
    try:
        if len(parts) != 2:
            raise ValueError
        return WeeklyTime(parse_weekday(parts[0]), parse_clock(parts[1]))
    except (ValueError, PydanticCustomError):
        raise _fail("weekly", "expected a weekday and time like mon 09:00") from None


def zone(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: 'Europe' is a folder
        raise _fail("time_zone", "expected an IANA time zone like Europe/London") from None
    return text


def handle(value: Any) -> str:
    """A person's handle, as mentioned: '@Alice' and 'alice' are both 'alice'."""
    text = value.strip().removeprefix("@") if isinstance(value, str) else ""
    if not _HANDLE.fullmatch(text):
        raise _fail("handle", "expected a handle like alice (letters, digits and . _ -)")
    return text.lower()


def name(value: Any) -> str:
    """A team, policy or chain name: 'ml-platform'. Names ignore case, as the grammar does."""
    text = value.strip().removeprefix("#") if isinstance(value, str) else ""
    if not _NAME.fullmatch(text):
        raise _fail("name", "expected a name like ml-platform (a letter, then letters, "
                            "digits, - _ .)")
    return text.lower()


def slack_user(value: Any) -> str:
    if not isinstance(value, str) or not _SLACK_USER.fullmatch(value.strip()):
        raise _fail("slack_user", "expected a Slack user id like U012ABC")
    return value.strip()


def platform_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.split()) != 1:
        raise _fail("teams_user", "expected a Teams user id or Azure AD object id")
    return value.strip()


def email(value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.fullmatch(value.strip()):
        raise _fail("email", "expected an email address like alice@example.com")
    return value.strip()


def country(value: Any) -> str:
    text = value.strip().upper() if isinstance(value, str) else ""
    if not _COUNTRY.fullmatch(text):
        raise _fail("country", "expected a two-letter country code like GB or US")
    return text


def subdivision(value: Any) -> str:
    text = value.strip().upper() if isinstance(value, str) else ""
    if not _SUBDIVISION.fullmatch(text):
        raise _fail("subdivision", "expected a subdivision code like ENG or NY")
    return text


def fraction(value: Any) -> float:
    """0.75 or '75%' -> 0.75; strictly between 0 and 1."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = float(value.strip()[:-1]) / 100
        except ValueError:
            number = None
    if number is None or not 0 < number < 1:
        raise _fail("fraction", "expected a fraction between 0 and 1 like 0.75")
    return number


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail("text", "expected some text")
    return value.strip()


Duration = Annotated[timedelta, PlainValidator(parse_positive_duration)]
Delay = Annotated[timedelta, PlainValidator(parse_delay)]
Clock = Annotated[time, PlainValidator(parse_clock)]
Weekday = Annotated[int, PlainValidator(parse_weekday)]
Weekly = Annotated[WeeklyTime, PlainValidator(parse_weekly)]
TimeZone = Annotated[str, PlainValidator(zone)]
Handle = Annotated[str, PlainValidator(handle)]
Name = Annotated[str, PlainValidator(name)]
SlackUser = Annotated[str, PlainValidator(slack_user)]
TeamsUser = Annotated[str, PlainValidator(platform_id)]
Email = Annotated[str, PlainValidator(email)]
Country = Annotated[str, PlainValidator(country)]
Subdivision = Annotated[str, PlainValidator(subdivision)]
Fraction = Annotated[float, PlainValidator(fraction)]
Text = Annotated[str, PlainValidator(text)]
Days = Annotated[tuple[Weekday, ...], BeforeValidator(expand_days)]
