"""baton.yaml as pydantic models. Unknown keys are refused so a typo cannot pass unnoticed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, cast

import holidays as public_holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.config import builtin
from bot.config.checks import cross_check
from bot.config.errors import ConfigError
from bot.config.fields import (
    Clock,
    Country,
    Days,
    Delay,
    Duration,
    Email,
    Fraction,
    Handle,
    Name,
    SlackUser,
    Subdivision,
    TeamsUser,
    Text,
    TimeZone,
    Weekly,
    handle,
    name,
)
from bot.items import Kind, Priority
from bot.people import SlaTargets, Team

KindKey = Literal["handoff", "exception", "approval", "default"]
PriorityKey = Literal["urgent", "high", "normal", "low", "default"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Model):
    time_zone: TimeZone = "UTC"


class PersonConfig(_Model):
    name: Text | None = None
    time_zone: TimeZone | None = None  # None: defaults.time_zone
    email: Email | None = None
    slack: SlackUser | None = None  # Slack user id, U012ABC
    teams: TeamsUser | None = None  # Teams user id or Azure AD object id


class Channels(_Model):
    """Where a team's cards and digests go, per surface (a channel id or #name)."""

    slack: Text | None = None
    teams: Text | None = None
    console: Text | None = None


class Holidays(_Model):
    """Public holidays to skip: an ISO country code and optional subdivision."""

    country: Country
    subdivision: Subdivision | None = None

    # Checked here, not when the calendars are built, so `check-config` refuses what `serve`
    # would, before anything is written.
    @field_validator("country")
    @classmethod
    def _known_country(cls, country: str) -> str:
        try:
            public_holidays.country_holidays(country)
        except NotImplementedError:
            raise PydanticCustomError(
                "country", "expected a country code the holidays library knows, like GB or "
                           "US") from None
        return country

    @field_validator("subdivision")
    @classmethod
    def _known_subdivision(cls, subdivision: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if subdivision is None or country is None:
            return subdivision
        try:
            public_holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            known = public_holidays.country_holidays(country).subdivisions
            raise PydanticCustomError(
                "subdivision", "expected one of {country}'s subdivisions ({known})",
                {"country": country, "known": ", ".join(known) or "none"}) from None
        return subdivision


class BusinessHours(_Model):
    """Working days (0 is Monday) and hours in the team's zone, less holidays and `extra` days."""

    days: Days = (0, 1, 2, 3, 4)
    start: Clock = time(9, 0)
    end: Clock = time(17, 0)
    holidays: Holidays | None = None
    extra: tuple[date, ...] = ()  # further days off: shutdowns, local holidays

    @field_validator("days")
    @classmethod
    def _some_days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not days:
            raise PydanticCustomError("days", "expected at least one weekday")
        return tuple(sorted(set(days)))

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if isinstance(start, time) and end <= start:
            raise PydanticCustomError("hours", "expected a time after start ({start})",
                                      {"start": f"{start:%H:%M}"})
        return end

    def works_on(self, day: date) -> bool:
        """A working weekday not listed in `extra` (public holidays are the caller's part)."""
        return day.weekday() in self.days and day not in self.extra


class Digests(_Model):
    daily: Clock | None = None  # the blocker digest, in the team's zone
    weekly: Weekly | None = None  # the manager digest, as in "mon 09:00"


class TeamConfig(_Model):
    lead: Handle | None = None
    members: tuple[Handle, ...] = ()
    time_zone: TimeZone | None = None  # None: defaults.time_zone
    channels: Channels = Channels()
    hours: BusinessHours | None = None  # None: 24x7
    sla: Name | None = builtin.DEFAULT_NAME  # None: no SLA targets
    escalation: Name | None = builtin.DEFAULT_NAME  # None: no escalation
    digests: Digests = Digests()
    open: bool = False  # anyone counts as a member

    @field_validator("hours", mode="before")
    @classmethod
    def _always(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().lower() in ("24x7", "24/7"):
                return None
            raise PydanticCustomError(
                "hours", "expected 24x7 or a mapping with days, start and end")
        return value

    def channel_map(self) -> dict[str, str]:
        """The team's channel on each surface that names one."""
        return {surface: value for surface, value in self.channels.model_dump().items()
                if value}


class Target(_Model):
    ack: Duration | None  # open -> active, or an approver's first decision; null: none
    resolve: Duration | None  # created -> done; null: none

    @field_validator("resolve")
    @classmethod
    def _not_before_ack(cls, resolve: timedelta | None, info: ValidationInfo) -> timedelta | None:
        ack = info.data.get("ack")
        if resolve is not None and isinstance(ack, timedelta) and resolve < ack:
            raise PydanticCustomError("target", "expected a resolve target no shorter than ack")
        return resolve


class SlaPolicy(_Model):
    business_hours: bool = True  # count only the team's working hours; false: 24x7
    pause_when_blocked: bool = False  # stop the resolve clock while blocked
    warn_at: Fraction = 0.75  # remind at this share of a target
    stall_every: Duration | None = None  # nudge the owner this often while nothing moves
    targets: dict[KindKey, dict[PriorityKey, Target]]

    def target(self, kind: str, priority: str) -> Target | None:
        """The most specific entry: kind and priority, then either as `default`."""
        targets = cast("dict[str, dict[str, Target]]", self.targets)
        for kind_key in (kind, "default"):
            table = targets.get(kind_key, {})
            for priority_key in (priority, "default"):
                if priority_key in table:
                    return table[priority_key]
        return None


class Notify(StrEnum):
    OWNER = "owner"
    LEAD = "lead"
    PERSON = "person"
    CHANNEL = "channel"


class Reassign(StrEnum):
    OWNER = "owner"
    LEAD = "lead"
    PERSON = "person"


class EscalationStep(_Model):
    after: Delay  # past the breach
    notify: Notify
    reassign_to: Reassign | None = None
    # Last, so the check below sees notify and reassign_to.
    person: Handle | None = Field(default=None, validate_default=True)

    @field_validator("person")
    @classmethod
    def _person_when_named(cls, person: str | None, info: ValidationInfo) -> str | None:
        wants = Notify.PERSON in (info.data.get("notify"), info.data.get("reassign_to"))
        if wants and person is None:
            raise PydanticCustomError(
                "person", "expected a person's handle when notify or reassign_to is person, "
                          "got nothing")
        if person is not None and not wants and "notify" in info.data:
            raise PydanticCustomError(
                "person", "expected no person unless notify or reassign_to is person")
        return person


def _some_steps(steps: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
    if not steps:
        raise PydanticCustomError("chain", "expected at least one step")
    return steps


Chain = Annotated[tuple[EscalationStep, ...], AfterValidator(_some_steps)]


class Config(_Model):
    """The whole of baton.yaml, with the built-in team, policy and chain filled in."""

    workspace: Text = "local"
    admins: tuple[Handle, ...] = ()
    defaults: Defaults = Defaults()
    people: dict[Handle, PersonConfig] = {}  # empty: anyone may take part
    teams: dict[Name, TeamConfig]
    sla_policies: dict[Name, SlaPolicy]
    escalation_chains: dict[Name, Chain]

    @model_validator(mode="wrap")
    @classmethod
    def _checked(cls, data: Any, handler: ModelWrapValidatorHandler[Config],
                 info: ValidationInfo) -> Config:
        """The built-in entries filled in, each field validated, then the references between
        sections checked (unless the caller checks them itself, beside field errors)."""
        data = with_builtins(data)
        config = handler(data)
        context = info.context or {}
        if not context.get("cross_checked"):
            problems = list(cross_check(data))
            if problems:
                source = context.get("source", "baton.yaml")
                raise ConfigError(p.render(source) for p in problems)
        return config

    @field_validator("people", "teams", "sla_policies", "escalation_chains", mode="before")
    @classmethod
    def _once_each(cls, value: Any, info: ValidationInfo) -> Any:
        """Keys ignore case, so 'Alice' and 'alice' may not both appear."""
        if isinstance(value, dict):
            normal = handle if info.field_name == "people" else name
            seen: dict[str, str] = {}
            for key in value:
                folded = _folded(normal, key)
                if folded in seen:
                    raise PydanticCustomError(
                        "duplicate", "expected each name once (names ignore case), "
                                     "got '{a}' and '{b}'", {"a": seen[folded], "b": key})
                seen[folded] = key
        return value

    # --- what the rest of Baton asks of the configuration --------------------------------

    @property
    def open(self) -> bool:
        """No people listed: any handle is a person."""
        return not self.people

    @property
    def default_team(self) -> str:
        """The first team in the file (the built-in `general` when there is none)."""
        return next(iter(self.teams))

    def team_list(self) -> list[Team]:
        """The teams in file order, as the core knows them."""
        zone = self.defaults.time_zone
        return [Team(name, team.lead, team.members, team.time_zone or zone,
                     team.channel_map(), team.open)
                for name, team in self.teams.items()]

    def team_key(self, team: str) -> str:
        """The configured team by that name, or the default team for one no longer listed."""
        key = team.strip().removeprefix("#").lower()
        return key if key in self.teams else self.default_team

    def team_zone(self, team: str) -> str:
        return self.teams[self.team_key(team)].time_zone or self.defaults.time_zone

    def hours(self, team: str) -> BusinessHours | None:
        """The team's working hours; None: 24x7."""
        return self.teams[self.team_key(team)].hours

    def holidays(self, team: str) -> Holidays | None:
        hours = self.hours(team)
        return hours.holidays if hours else None

    def policy(self, team: str) -> SlaPolicy | None:
        policy = self.teams[self.team_key(team)].sla
        return self.sla_policies[policy] if policy else None

    def business_hours(self, team: str) -> BusinessHours | None:
        """The hours SLA clocks count in: the team's hours, unless its policy is 24x7."""
        policy = self.policy(team)
        return self.hours(team) if policy and policy.business_hours else None

    def targets(self, team: str, kind: Kind | str, priority: Priority | str) -> SlaTargets:
        policy = self.policy(team)
        found = policy.target(str(kind), str(priority)) if policy else None
        if policy is None or found is None:
            return SlaTargets(None, None)
        return SlaTargets(found.ack, found.resolve, policy.warn_at)

    def escalation(self, team: str) -> tuple[EscalationStep, ...]:
        chain = self.teams[self.team_key(team)].escalation
        return self.escalation_chains[chain] if chain else ()

    def digests(self, team: str) -> Digests:
        return self.teams[self.team_key(team)].digests

    def person_zone(self, person: str) -> str:
        found = self.people.get(person.lower())
        return (found.time_zone if found else None) or self.defaults.time_zone


def with_builtins(data: Any) -> Any:
    """baton.yaml's sections with the built-in team, policy and chain where it names none."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if data.get("people") is None:
        data["people"] = {}
    if not data.get("teams"):
        data["teams"] = builtin.DEFAULT_TEAMS
    for key, value in (("sla_policies", builtin.DEFAULT_POLICY),
                       ("escalation_chains", builtin.DEFAULT_CHAIN)):
        given = data.get(key)
        if given is None:
            data[key] = {builtin.DEFAULT_NAME: value}
        elif isinstance(given, dict) and builtin.DEFAULT_NAME not in given:
            data[key] = {**given, builtin.DEFAULT_NAME: value}
    return data


def _folded(normal: Callable[[Any], str], key: Any) -> str:
    try:
        return normal(key)
    except PydanticCustomError:
        return repr(key)  # reported on its own by the key's validation
