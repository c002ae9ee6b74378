"""The one state machine and the rights: which verbs a person may use on an item now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.approvals import pending_approvers
from bot.items import Item, Kind, State


class Verb(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    TAKE = "take"
    ASSIGN = "assign"
    ACK = "ack"
    BLOCK = "block"
    UNBLOCK = "unblock"
    DONE = "done"
    RESOLVE = "resolve"
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    COMMENT = "comment"
    SNOOZE = "snooze"


#: Verbs that must carry a reason or note.
NEEDS_REASON = frozenset({Verb.DECLINE, Verb.REJECT, Verb.RESOLVE, Verb.BLOCK})

_ANY_LIVE = (Verb.COMMENT, Verb.SNOOZE, Verb.CANCEL)

#: What each kind allows in each state, before rights are considered.
TRANSITIONS: dict[Kind, dict[State, tuple[Verb, ...]]] = {
    Kind.HANDOFF: {
        State.OPEN: (Verb.ACCEPT, Verb.DECLINE, Verb.ASSIGN, Verb.BLOCK, *_ANY_LIVE),
        State.ACTIVE: (Verb.DONE, Verb.ASSIGN, Verb.BLOCK, *_ANY_LIVE),
        State.BLOCKED: (Verb.UNBLOCK, Verb.ASSIGN, *_ANY_LIVE),
    },
    Kind.EXCEPTION: {
        State.OPEN: (Verb.TAKE, Verb.ASSIGN, Verb.ACK, Verb.BLOCK, *_ANY_LIVE),
        State.ACTIVE: (Verb.RESOLVE, Verb.TAKE, Verb.ASSIGN, Verb.BLOCK, *_ANY_LIVE),
        State.BLOCKED: (Verb.UNBLOCK, Verb.TAKE, Verb.ASSIGN, *_ANY_LIVE),
    },
    Kind.APPROVAL: {
        State.OPEN: (Verb.APPROVE, Verb.REJECT, Verb.BLOCK, *_ANY_LIVE),
        State.ACTIVE: (Verb.APPROVE, Verb.REJECT, Verb.BLOCK, *_ANY_LIVE),
        State.BLOCKED: (Verb.UNBLOCK, *_ANY_LIVE),
    },
}


@dataclass(frozen=True)
class Actor:
    """A person as the rules see them: who they are and what they lead or cover."""

    id: str
    admin: bool = False
    leads: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    open_teams: frozenset[str] = field(default_factory=frozenset)
    covers: frozenset[str] = frozenset()  # people away who named this actor their delegate

    def manages(self, team: str) -> bool:
        return self.admin or team in self.leads

    def member_of(self, team: str) -> bool:
        return team in self.teams or team in self.open_teams or self.manages(team)


def state_allows(item: Item) -> tuple[Verb, ...]:
    """Verbs the item's kind and state allow, whoever asks."""
    if item.state.final:
        return (Verb.COMMENT,)
    return TRANSITIONS[item.kind][item.state]


def deciding_for(item: Item, actor: Actor) -> str | None:
    """The pending approver `actor` may decide for (themself, or someone away), if any."""
    if actor.id == item.requester:
        return None
    pending = pending_approvers(item)
    if actor.id in pending:
        return actor.id
    covered = [a for a in pending if a in actor.covers and a != item.requester]
    return covered[0] if covered else None


def has_right(item: Item, actor: Actor, verb: Verb) -> bool:
    """Whether `actor` holds the right for `verb` on `item`, state aside."""
    me = actor.id
    owner, requester = item.owner == me, item.requester == me
    manager = actor.manages(item.team)
    unowned_member = item.owner is None and actor.member_of(item.team)
    standing_in = item.owner is not None and item.owner in actor.covers
    match verb:
        case Verb.ACCEPT:  # only the receiver (or their delegate): a lead assigns instead
            return owner or standing_in or unowned_member
        case Verb.ACK:
            return owner or unowned_member or manager
        case Verb.DECLINE:
            return item.owner != item.requester and (owner or standing_in)
        case Verb.TAKE:
            return item.owner != me and (actor.member_of(item.team) or manager)
        case Verb.ASSIGN | Verb.BLOCK | Verb.UNBLOCK:
            return owner or requester or manager
        case Verb.DONE | Verb.RESOLVE:
            return owner or manager
        case Verb.APPROVE | Verb.REJECT:
            return deciding_for(item, actor) is not None
        case Verb.CANCEL:
            return requester or manager
        case Verb.SNOOZE:
            return owner or manager or me in pending_approvers(item)
        case Verb.COMMENT:
            return True
    return False


def who_may_act(item: Item, lead: str | None, members: Sequence[str]) -> list[str]:
    """Who may hold a right on `item` beyond commenting (as has_right grants them), the most
    concerned first: its requester, owner, approvers still to decide, its team's lead, then
    the team's members (any of them may take it, or accept it while it has no owner). For a
    surface that shows each person their own buttons on a shared card; admins and stand-ins
    (whose absences are the store's) are not listed: they act by command, or on their own
    copy."""
    if not state_allows(item):
        return []
    wanted = [item.requester, item.owner or "", *pending_approvers(item), lead or "",
              *members]
    return [person for person in dict.fromkeys(wanted) if person]


def allowed(item: Item, actor: Actor) -> list[Verb]:
    """Verbs `actor` may use on `item` now: the state allows them and the actor has the right."""
    return [v for v in state_allows(item) if has_right(item, actor, v)]
