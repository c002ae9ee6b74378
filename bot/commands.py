"""What a person or a timer asks Baton for. Frozen dataclasses; the grammar builds them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.due import DueSpec
from bot.items import Kind, Policy, Priority, State
from bot.rules import Verb


@dataclass(frozen=True)
class Target:
    """Whom a handoff goes to: a person (`@alice`) or a team queue (`#ml-platform`)."""

    name: str
    team: bool = False


@dataclass(frozen=True)
class Create:
    """Raise a handoff, exception or approval."""

    kind: Kind
    title: str
    to: Target | None = None  # handoff receiver
    team: str | None = None
    owner: str | None = None
    approvers: tuple[str, ...] = ()
    policy: Policy = Policy()
    priority: Priority = Priority.NORMAL
    due: DueSpec | None = None
    details: str = ""
    channel: str = ""
    message: str = ""
    permalink: str = ""


@dataclass(frozen=True)
class Act:
    """A verb on one item: accept #4, block #4 waiting on legal --on #3, assign #4 @bob…"""

    verb: Verb
    number: int
    text: str = ""
    person: str | None = None  # assign
    on: int | None = None  # block --on
    duration: timedelta | None = None  # snooze


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class ListItems:
    team: str | None = None
    state: State | None = None
    overdue: bool = False
    kind: Kind | None = None


@dataclass(frozen=True)
class Show:
    number: int


@dataclass(frozen=True)
class Audit:
    number: int


@dataclass(frozen=True)
class Away:
    until: DueSpec | None = None
    delegate: str | None = None


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Digest:
    team: str | None = None
    weekly: bool = False


@dataclass(frozen=True)
class Help:
    verb: str | None = None


@dataclass(frozen=True)
class Tick:
    """A timer's request: do whatever work has fallen due by `now`."""

    now: datetime


@dataclass(frozen=True)
class Unreachable:
    """The outbox's report: a message about item `number` for `person` reached them on no
    surface (`reasons`: each surface's why). Only Baton's own delivery worker sends it."""

    number: int
    person: str
    reasons: tuple[str, ...] = ()


Command = Create | Act | Mine | ListItems | Show | Audit | Away | Back | Digest | Help | Tick | \
    Unreachable
