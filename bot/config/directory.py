"""The Directory port answered from baton.yaml."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

import holidays as public_holidays

from bot.calendar import ROUND_THE_CLOCK, BusinessHours, Calendar, days_off
from bot.config.schema import Config, Holidays
from bot.items import Kind, Priority
from bot.people import ChainStep, DigestTimes, Directory, Person, SlaTargets, Team, TeamClock

#: What an open directory takes for a person: a handle, a Slack id, a Teams id or an email.
_ANY_HANDLE = re.compile(r"\w[\w.\-':@]{0,99}")
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class ConfigDirectory(Directory):
    """People and teams as baton.yaml lists them; `surface` picks each team's channel.

    People are found by handle (any case), Slack id, Teams id or email. With no people
    listed the directory is open: any well-formed handle is a person in the default zone.
    """

    def __init__(self, config: Config, surface: str = "console") -> None:
        self.config = config
        self.surface = surface
        zone = config.defaults.time_zone
        self._people: dict[str, Person] = {}
        self._aliases: dict[str, str] = {}  # folded Slack id, Teams id or email -> handle
        for handle, entry in config.people.items():
            self._people[handle] = Person(handle, entry.name or handle,
                                          entry.time_zone or zone, entry.email or "")
            for alias in (entry.slack, entry.teams, entry.email):
                if alias:
                    self._aliases[alias.lower()] = handle
        self._teams = {team.name: team for team in config.team_list(surface)}
        self._admins = frozenset(config.admins)
        self._clocks = {name: _team_clock(config, name) for name in self._teams}

    def person(self, handle: str) -> Person | None:
        key = handle.strip().removeprefix("@")
        folded = key.lower()
        if folded in self._people:
            return self._people[folded]
        if folded in self._aliases:
            return self._people[self._aliases[folded]]
        if self.config.open and _ANY_HANDLE.fullmatch(key):
            # Platform ids keep their case: they are how the platform is addressed.
            known = key if _SLACK_ID.fullmatch(key) or ":" in key else folded
            return Person(known, known, self.config.defaults.time_zone)
        return None

    def team(self, name: str) -> Team | None:
        return self._teams.get(name.strip().removeprefix("#").lower())

    def teams(self) -> list[Team]:
        return list(self._teams.values())

    def default_team(self) -> str:
        return self.config.default_team

    def is_admin(self, person: str) -> bool:
        found = self.person(person)
        return found is not None and found.id in self._admins

    def sla(self, team: str, kind: Kind, priority: Priority) -> SlaTargets:
        """The team's policy's targets (a team no longer listed gets the default team's)."""
        return self.config.targets(team, kind, priority)

    def teams_of(self, person: str) -> list[Team]:
        found = self.person(person)
        return super().teams_of(found.id if found else person)

    def clock(self, team: str) -> TeamClock:
        """The team's calendar (business hours less holidays, or 24x7), pause rule, stall
        cadence and escalation chain."""
        key = self.config.team_key(team)
        return self._clocks.get(key) or _team_clock(self.config, key)

    def digest_times(self, team: str) -> DigestTimes:
        digests = self.config.digests(team)
        weekly = digests.weekly
        return DigestTimes(self.config.team_zone(team), digests.daily,
                           weekly.weekday if weekly else None, weekly.at if weekly else None)


def _team_clock(config: Config, team: str) -> TeamClock:
    policy = config.policy(team)
    chain = tuple(ChainStep(step.after, step.notify.value, step.person,
                            step.reassign_to.value if step.reassign_to else None)
                  for step in config.escalation(team))
    return TeamClock(
        calendar=_calendar(config, team),
        pause_when_blocked=policy.pause_when_blocked if policy else False,
        stall_every=policy.stall_every if policy else None,
        chain=chain,
    )


def _calendar(config: Config, team: str) -> Calendar:
    hours = config.business_hours(team)
    if hours is None:
        return ROUND_THE_CLOCK
    holiday = _holidays(hours.holidays)
    return BusinessHours(ZoneInfo(config.team_zone(team)), frozenset(hours.days), hours.start,
                         hours.end, days_off(holiday, hours.extra))


def _holidays(wanted: Holidays | None) -> Callable[[date], bool] | None:
    """The public holidays of a country (and subdivision), from the `holidays` library (the
    schema has checked that it knows them)."""
    if wanted is None:
        return None
    table = public_holidays.country_holidays(wanted.country, subdiv=wanted.subdivision)
    return table.__contains__
