"""The Directory port answered from baton.yaml."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

import holidays as public_holidays

from bot.calendar import ROUND_THE_CLOCK, BusinessHours, Calendar, days_off
from bot.config.schema import Config, Holidays
from bot.items import Kind, Priority
from bot.people import (
    ChainStep,
    DigestTimes,
    Directory,
    Identity,
    Person,
    SlaTargets,
    Team,
    TeamClock,
)

#: What an open directory takes for a person: a handle, a Slack id, a Teams id or an email.
_ANY_HANDLE = re.compile(r"\w[\w.\-':@]{0,99}")
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class ConfigDirectory(Directory):
    """People and teams as baton.yaml lists them.

    People are found by handle (any case), Slack id, Teams id or email. With no people
    listed the directory is open: any well-formed handle is a person in the default zone.

    Surfaces tell it the accounts they meet (`learn`): an account is matched to the person
    baton.yaml lists with its id, else to the person with its e-mail; in an open directory an
    account no one has is added as a person of its own. Names and zones the surface gives fill
    in what baton.yaml leaves out.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        zone = config.defaults.time_zone
        self._people: dict[str, Person] = {}
        self._aliases: dict[str, str] = {}  # folded Slack id, Teams id or email -> handle
        for handle, entry in config.people.items():
            self._people[handle] = Person(handle, entry.name or handle,
                                          entry.time_zone or zone, entry.email or "")
            for alias in (entry.slack, entry.teams, entry.email):
                if alias:
                    self._aliases[alias.lower()] = handle
        self._accounts: dict[tuple[str, str], str] = {}  # (surface, account) -> person
        self._by_account: dict[str, str] = {}  # account on any surface -> person
        self._account_of: dict[tuple[str, str], str] = {}  # (person, surface) -> account
        self._added: dict[str, Person] = {}  # people an open directory met on a surface
        self._zones: dict[str, str] = {}  # zones surfaces gave where baton.yaml gives none
        for handle, entry in config.people.items():
            for surface, account in (("slack", entry.slack), ("teams", entry.teams)):
                if account:
                    self._account_of[(handle, surface)] = account
                    self._accounts[(surface, account)] = handle
                    self._by_account[account] = handle
        self._teams = {team.name: team for team in config.team_list()}
        self._admins = frozenset(config.admins)
        self._clocks = {name: _team_clock(config, name) for name in self._teams}

    def person(self, handle: str) -> Person | None:
        key = handle.strip().removeprefix("@")
        folded = key.lower()
        found = self._people.get(folded) or self._people.get(self._aliases.get(folded, ""))
        if found is None:
            found = self._added.get(key) or self._added.get(folded)
        if found is None:
            owner = self._by_account.get(key)
            found = self.person(owner) if owner is not None and owner != key else None
        if found is not None:
            zone = self._zones.get(found.id)
            return replace(found, time_zone=zone) if zone else found
        if self.config.open and _ANY_HANDLE.fullmatch(key):
            # Platform ids keep their case: they are how the platform is addressed.
            known = key if _SLACK_ID.fullmatch(key) or ":" in key else folded
            return Person(known, known, self.config.defaults.time_zone)
        return None

    def learn(self, identity: Identity, person: str | None = None) -> Person | None:
        key = (identity.surface, identity.id)
        owner = person or self._accounts.get(key)
        if owner is None and identity.email:
            by_mail = self._people.get(self._aliases.get(identity.email.lower(), "")) or \
                next((p for p in self._added.values()
                      if p.email and p.email.lower() == identity.email.lower()), None)
            owner = by_mail.id if by_mail else None
        if owner is None and (identity.id in self._people or identity.id in self._added):
            owner = identity.id
        if owner is None:
            if not self.config.open:
                return None
            owner = identity.id
        if owner not in self._people:  # someone only a surface knows: keep what it says
            met = self._added.get(owner)
            self._added[owner] = Person(
                owner, identity.name or (met.name if met else owner),
                identity.time_zone or (met.time_zone if met else
                                       self.config.defaults.time_zone),
                identity.email or (met.email if met else ""))
        elif identity.time_zone and self.config.people[owner].time_zone is None:
            self._zones[owner] = identity.time_zone
        self._accounts[key] = owner
        self._by_account[identity.id] = owner
        self._account_of.setdefault((owner, identity.surface), identity.id)
        return self.person(owner)

    def account(self, person: str, surface: str) -> str | None:
        found = self.person(person)
        if found is None:
            return None
        account = self._account_of.get((found.id, surface))
        if account is None and surface == "slack" and _SLACK_ID.fullmatch(found.id):
            return found.id  # an open directory's Slack user is addressed by their id
        return account

    def knows(self, identity: Identity) -> bool:
        return (identity.surface, identity.id) in self._accounts

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
