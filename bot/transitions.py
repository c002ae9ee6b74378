"""Pure state changes: an item and a permitted verb in, the changed item out. No I/O."""

from __future__ import annotations

from datetime import datetime

from bot.approvals import settle
from bot.items import Decision, Item, Kind, Outcome, State, Verdict
from bot.rich import Rich, as_rich
from bot.rules import Verb


class DomainError(Exception):
    """A request the rules refuse; the message says why in the user's terms."""

    def __init__(self, message: Rich | str, allowed: list[str] | None = None) -> None:
        self.message = as_rich(message)
        super().__init__(str(self.message))
        self.allowed = allowed or []


def _finish(item: Item, outcome: Outcome, now: datetime) -> Item:
    return item.evolve(state=State.DONE, outcome=outcome, updated_at=now,
                       blocked_reason="", blocked_on=None, resume_state=None)


def apply(item: Item, verb: Verb, *, actor: str, now: datetime, text: str = "",
          person: str | None = None, on: int | None = None,
          decided_for: str | None = None) -> Item:
    """The item after `actor` uses `verb` on it; the caller has checked the rules allow it."""
    touched = item.evolve(updated_at=now)
    match verb:
        case Verb.ACCEPT | Verb.ACK:
            return touched.evolve(state=State.ACTIVE, owner=item.owner or actor,
                                  acked_at=item.acked_at or now)
        case Verb.DECLINE:
            return touched.evolve(owner=item.requester, state=State.OPEN)
        case Verb.TAKE:
            return touched.evolve(owner=actor)
        case Verb.ASSIGN:
            if item.kind is not Kind.HANDOFF:
                return touched.evolve(owner=person)
            # a handoff is the new owner's only once they accept it
            if item.state is State.BLOCKED:
                return touched.evolve(owner=person, resume_state=State.OPEN)
            return touched.evolve(owner=person, state=State.OPEN)
        case Verb.BLOCK:
            return touched.evolve(state=State.BLOCKED, resume_state=item.state,
                                  blocked_reason=text, blocked_on=on)
        case Verb.UNBLOCK:
            return unblocked(touched)
        case Verb.DONE:
            return _finish(touched, Outcome.DONE, now)
        case Verb.RESOLVE:
            return _finish(touched, Outcome.RESOLVED, now)
        case Verb.CANCEL:
            return touched.evolve(state=State.CANCELLED, outcome=Outcome.CANCELLED,
                                  blocked_reason="", blocked_on=None, resume_state=None)
        case Verb.APPROVE | Verb.REJECT:
            assert decided_for is not None
            verdict = Verdict.APPROVE if verb is Verb.APPROVE else Verdict.REJECT
            decision = Decision(decided_for, verdict, text, now, actor)
            decided = touched.evolve(decisions=(*item.decisions, decision),
                                     state=State.ACTIVE, acked_at=item.acked_at or now)
            outcome = settle(decided)
            return _finish(decided, outcome, now) if outcome else decided
        case Verb.COMMENT | Verb.SNOOZE:
            return touched
    raise DomainError(f"{verb} changes nothing")


def unblocked(item: Item) -> Item:
    """A blocked item back in the state it left."""
    return item.evolve(state=item.resume_state or State.OPEN, resume_state=None,
                       blocked_reason="", blocked_on=None)
