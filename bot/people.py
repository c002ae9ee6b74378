"""People and teams as the core knows them, and the directory port that supplies them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    # Where its cards and digests go on each surface that has a channel for it, as that
    # surface names it (a Slack channel id, a Teams channel id…): read by the surfaces only.
    channels: Mapping[str, str] = field(default_factory=dict)
    open: bool = False  # anyone counts as a member (the default team with no baton.yaml)

    def channel(self, surface: str) -> str:
        return self.channels.get(surface, "")


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


@dataclass(frozen=True)
class Identity:
    """A person's account on one surface, as that surface describes it."""

    surface: str  # slack, teams…
    id: str  # the platform's user id (a Slack user id, a Teams AAD object id)
    name: str = ""
    email: str = ""  # e-mail or user principal name: how one person is known across surfaces
    time_zone: str = ""


class Directory(ABC):
    """Who is who: people, teams, leads, admins and SLA targets (from baton.yaml), and the
    accounts people have on each surface."""

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

    def learn(self, identity: Identity, person: str | None = None) -> Person | None:
        """The person this account belongs to (`person`, when it is known already), now known
        by it; None if it is nobody Baton knows (and Baton adds nobody)."""
        return self.person(person or identity.id)

    def account(self, person: str, surface: str) -> str | None:
        """The person's user id on that surface, if Baton knows one."""
        return None

    def knows(self, identity: Identity) -> bool:
        """Whether this account has been matched to a person already."""
        return False
