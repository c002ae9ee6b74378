"""People and teams as the core knows them, and the directory port that supplies them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from bot.calendar import ROUND_THE_CLOCK, Calendar
from bot.items import Kind, Priority


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    time_zone: str = "UTC"
    email: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Team:
    name: str
    lead: str | None
    members: tuple[str, ...]
    time_zone: str = "UTC"
    channel: str = ""  # where its cards and digests go, as the surface names it
    open: bool = False  # anyone counts as a member (the default team with no baton.yaml)


@dataclass(frozen=True)
class SlaTargets:
    """How long an item may take to be acknowledged and to be resolved (None: no target)."""

    ack: timedelta | None
    resolve: timedelta | None
    warn_at: float = 0.75


@dataclass(frozen=True)
class ChainStep:
    """One step of an escalation chain: `after` this much working time past the breach, tell
    `notify` (owner, lead, person or channel) and optionally hand the item to `reassign_to`."""

    after: timedelta
    notify: str
    person: str | None = None
    reassign_to: str | None = None


@dataclass(frozen=True)
class TeamClock:
    """How a team's SLA clocks run: the calendar they count in, whether blocked time pauses
    the resolve clock, how often a stalled item is nudged, and the escalation chain."""

    calendar: Calendar = ROUND_THE_CLOCK
    pause_when_blocked: bool = False
    stall_every: timedelta | None = None
    chain: tuple[ChainStep, ...] = ()


@dataclass(frozen=True)
class DigestTimes:
    """When a team's digests go out, in its zone: daily at `daily`; weekly on `weekday` (0 is
    Monday) at `weekly_at`. None: not scheduled."""

    zone: str = "UTC"
    daily: time | None = None
    weekday: int | None = None
    weekly_at: time | None = None


class Directory(ABC):
    """Who is who: people, teams, leads, admins and SLA targets (from baton.yaml)."""

    @abstractmethod
    def person(self, handle: str) -> Person | None:
        """The person known by this id or handle, if any."""

    @abstractmethod
    def team(self, name: str) -> Team | None: ...

    @abstractmethod
    def teams(self) -> list[Team]: ...

    @abstractmethod
    def default_team(self) -> str:
        """The team items land in when nothing else says."""

    @abstractmethod
    def is_admin(self, person: str) -> bool: ...

    @abstractmethod
    def sla(self, team: str, kind: Kind, priority: Priority) -> SlaTargets: ...

    def teams_of(self, person: str) -> list[Team]:
        return [t for t in self.teams() if person in t.members or person == t.lead]

    def home_team(self, person: str) -> str:
        teams = self.teams_of(person)
        return teams[0].name if teams else self.default_team()

    def clock(self, team: str) -> TeamClock:
        """The team's SLA clock rules; by default 24x7, no pause, no nudges, no chain."""
        return TeamClock()

    def digest_times(self, team: str) -> DigestTimes:
        """When the team's digests are scheduled; by default never."""
        found = self.team(team)
        return DigestTimes(found.time_zone if found else "UTC")
