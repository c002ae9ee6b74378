"""Items, their fields and the vocabulary they use. Plain data: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    HANDOFF = "handoff"
    EXCEPTION = "exception"
    APPROVAL = "approval"


class State(StrEnum):
    OPEN = "open"
    ACTIVE = "active"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (State.DONE, State.CANCELLED)


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Outcome(StrEnum):
    DONE = "done"
    RESOLVED = "resolved"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class PolicyKind(StrEnum):
    ANY = "any"
    ALL = "all"
    QUORUM = "quorum"
    SEQUENCE = "sequence"


@dataclass(frozen=True)
class Policy:
    """How an approval's decisions combine; `quorum` needs `n` approvals."""

    kind: PolicyKind = PolicyKind.ANY
    n: int = 0

    def __str__(self) -> str:
        return f"quorum:{self.n}" if self.kind is PolicyKind.QUORUM else self.kind.value

    @classmethod
    def parse(cls, text: str) -> Policy:
        """Read `any`, `all`, `sequence` or `quorum:N`; raise ValueError otherwise."""
        name, _, count = text.strip().lower().partition(":")
        if name == "quorum":
            if not (count.isascii() and count.isdecimal()) or int(count) < 1:
                raise ValueError("quorum needs a positive count, as in quorum:2")
            return cls(PolicyKind.QUORUM, int(count))
        if count or name not in {k.value for k in PolicyKind}:
            raise ValueError(f"unknown policy {text!r}: use any, all, quorum:N or sequence")
        return cls(PolicyKind(name))


@dataclass(frozen=True)
class Decision:
    """One approver's decision; `by` differs from `approver` when a delegate decided."""

    approver: str
    verdict: Verdict
    comment: str
    at: datetime
    by: str


@dataclass(frozen=True)
class Source:
    """Where an item came from: the platform message it tracks, when there is one."""

    surface: str = "console"
    channel: str = ""
    message: str = ""
    permalink: str = ""
    via: str = ""  # the system that raised it (an API client, an agent), if one did


@dataclass(frozen=True)
class Item:
    """A handoff, exception or approval. Changed only through `replace`, by the handlers."""

    workspace: str
    number: int
    kind: Kind
    title: str
    requester: str
    team: str
    created_at: datetime
    updated_at: datetime
    details: str = ""
    owner: str | None = None
    approvers: tuple[str, ...] = ()
    policy: Policy = Policy()
    decisions: tuple[Decision, ...] = ()
    priority: Priority = Priority.NORMAL
    state: State = State.OPEN
    outcome: Outcome | None = None
    due_at: datetime | None = None
    ack_deadline: datetime | None = None
    resolve_deadline: datetime | None = None
    acked_at: datetime | None = None
    escalation_level: int = 0
    blocked_reason: str = ""
    blocked_on: int | None = None
    resume_state: State | None = None
    snoozed_until: datetime | None = None
    # SLA follow-up progress, kept by bot.followups: when the resolve clock was paused, when
    # the item ended, the next instant a reminder, breach, escalation step or nudge is due (the
    # sweep's index), how far each target's ladder has gone and how many nudges were sent.
    blocked_since: datetime | None = None
    closed_at: datetime | None = None
    next_followup_at: datetime | None = None
    ack_stage: int = 0
    resolve_stage: int = 0
    stalls: int = 0
    watchers: tuple[str, ...] = ()
    source: Source = field(default_factory=Source)
    parent: int | None = None
    version: int = 0

    @property
    def ref(self) -> str:
        return f"#{self.number}"

    def evolve(self, **changes: object) -> Item:
        return replace(self, **changes)  # type: ignore[arg-type]

    def overdue(self, now: datetime) -> bool:
        if self.state.final:
            return False
        deadlines = [d for d in (self.due_at, self.resolve_deadline) if d is not None]
        return any(d <= now for d in deadlines)


@dataclass(frozen=True)
class Absence:
    """A person's out-of-office period; `delegate` receives their new work meanwhile."""

    workspace: str
    person: str
    since: datetime
    until: datetime | None
    delegate: str | None

    def covers(self, when: datetime) -> bool:
        return self.since <= when and (self.until is None or when < self.until)
