"""People and teams as the core knows them, and the directory port that supplies them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

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
