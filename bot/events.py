"""What happened: the append-only, hash-chained audit trail, one chain per workspace."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class EventDraft:
    """An event before the log gives it its place and seal."""

    workspace: str
    item: int | None
    actor: str
    action: str
    at: datetime
    surface: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    workspace: str
    seq: int
    item: int | None
    actor: str
    action: str
    at: datetime
    surface: str
    before: dict[str, Any]
    after: dict[str, Any]
    prev_hash: str
    hash: str


def canonical(workspace: str, seq: int, item: int | None, actor: str, action: str,
              at: datetime, surface: str, before: dict[str, Any], after: dict[str, Any]) -> bytes:
    """The exact bytes an event's hash covers."""
    body = {
        "workspace": workspace, "seq": seq, "item": item, "actor": actor, "action": action,
        "at": at.isoformat(), "surface": surface, "before": before, "after": after,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def seal(draft: EventDraft, seq: int, prev_hash: str) -> Event:
    """Place a draft after `prev_hash` in its workspace's chain."""
    digest = hashlib.sha256(prev_hash.encode() + canonical(
        draft.workspace, seq, draft.item, draft.actor, draft.action, draft.at, draft.surface,
        draft.before, draft.after,
    )).hexdigest()
    return Event(draft.workspace, seq, draft.item, draft.actor, draft.action, draft.at,
                 draft.surface, draft.before, draft.after, prev_hash, digest)


@dataclass(frozen=True)
class Unreadable:
    """A stored event that cannot be read back (its JSON or time mangled, a field of the wrong
    type): it cannot be re-hashed, but where its place and hashes still read, the chain is
    followed through it."""

    seq: int | None  # None: its sequence number is unreadable too
    row: int  # the database's row id, to find it when `seq` is unknown
    prev_hash: str | None
    hash: str | None
    reason: str


Stored = Event | Unreadable


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str
    where: str = ""  # instead of "event <seq>", when the event's place is not known

    def __str__(self) -> str:
        return f"{self.where or f'event {self.seq}'}: {self.problem}"


def verify(events: Sequence[Stored], head_seq: int | None, head_hash: str | None, *,
           after: tuple[int, str] = (0, GENESIS)) -> list[ChainProblem]:
    """Check a workspace's events (in stored order) against their chain and the recorded head.

    An edited event fails its own hash; a reordered or deleted one breaks the sequence or the
    link to its predecessor; a deleted tail no longer reaches the head the workspace recorded.
    `after` is the place and hash the events continue from (a checkpoint); a None head is
    no head recorded at all (the workspace row deleted).
    """
    problems: list[ChainProblem] = []
    prev: str | None = after[1]
    expected_seq = after[0] + 1
    for event in events:
        if event.seq is None:
            problems.append(ChainProblem(0, f"unreadable: {event.reason}", f"row {event.row}"))
            continue
        if event.seq != expected_seq:
            what = "missing" if event.seq > expected_seq else "out of order"
            problems.append(ChainProblem(expected_seq, f"{what} (found event {event.seq} here)"))
        if isinstance(event, Unreadable):
            problems.append(ChainProblem(event.seq, f"unreadable: {event.reason}"))
        elif _resealed(event) != event.hash:
            problems.append(ChainProblem(event.seq, "edited: its content no longer matches "
                                                     "its hash"))
            prev = event.hash
            expected_seq = event.seq + 1
            continue
        if prev is not None and event.prev_hash is not None and event.prev_hash != prev:
            problems.append(ChainProblem(event.seq, "does not follow the event before it "
                                                     "(deleted or reordered)"))
        prev, expected_seq = event.hash, event.seq + 1
    last = expected_seq - 1
    if head_seq is None:
        problems.append(ChainProblem(last, "no workspace row records this chain's head (it was "
                                           "deleted)"))
    elif head_seq > last:
        problems.append(ChainProblem(expected_seq, f"missing: the chain ends at event "
                                                   f"{last}, the log recorded {head_seq}"))
    elif last > after[0] and prev != head_hash:
        problems.append(ChainProblem(last, "the last event is not the recorded head"))
    return problems


def _resealed(event: Event) -> str:
    return seal(EventDraft(event.workspace, event.item, event.actor, event.action, event.at,
                           event.surface, event.before, event.after),
                event.seq, event.prev_hash).hash
