"""What happened: the append-only, hash-chained audit trail, one chain per workspace."""

from __future__ import annotations

import hashlib
import json
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
class ChainProblem:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.problem}"


def verify(events: list[Event], head_seq: int, head_hash: str) -> list[ChainProblem]:
    """Check a workspace's events (in stored order) against their chain and the recorded head.

    An edited event fails its own hash; a reordered or deleted one breaks the sequence or the
    link to its predecessor; a deleted tail no longer reaches the head the workspace recorded.
    """
    problems: list[ChainProblem] = []
    prev, expected_seq = GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            what = "missing" if event.seq > expected_seq else "out of order"
            problems.append(ChainProblem(expected_seq, f"{what} (found event {event.seq} here)"))
        recomputed = seal(EventDraft(event.workspace, event.item, event.actor, event.action,
                                     event.at, event.surface, event.before, event.after),
                          event.seq, event.prev_hash)
        if recomputed.hash != event.hash:
            problems.append(ChainProblem(event.seq, "edited: its content no longer matches "
                                                     "its hash"))
        elif event.prev_hash != prev:
            problems.append(ChainProblem(event.seq, "does not follow the event before it "
                                                     "(deleted or reordered)"))
        prev, expected_seq = event.hash, event.seq + 1
    if head_seq >= expected_seq:
        problems.append(ChainProblem(expected_seq, f"missing: the chain ends at event "
                                                   f"{expected_seq - 1}, the log recorded "
                                                   f"{head_seq}"))
    elif events and prev != head_hash:
        problems.append(ChainProblem(events[-1].seq, "the last event is not the recorded head"))
    return problems
