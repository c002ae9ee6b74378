"""Property tests of the core: random conversations between the FakeDirectory's people.

A hypothesis state machine types commands as alice, bob, carol, dave (members), lena and ed
(leads of #release and #eval) and root (admin), on existing and missing item numbers, and
checks after every step that refusals write nothing, that nobody acts without the right,
that every item is in a legal state and that the audit chain verifies.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bot.approvals import pending_approvers, settle
from bot.commands import Act, Away, Back, Create, Digest
from bot.context import Request, build_actor
from bot.events import Event, verify
from bot.grammar import parse
from bot.items import (
    Absence,
    Decision,
    Item,
    Kind,
    Outcome,
    Policy,
    PolicyKind,
    State,
    Verdict,
)
from bot.messages import Outgoing
from bot.rules import Actor, Verb, allowed, deciding_for
from bot.service import Baton, Reply
from tests.fakes import FakeClock, FakeDirectory, FakeUnitOfWork, FakeUnits, World

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
WS = "w"
PEOPLE = ("alice", "bob", "carol", "dave", "lena", "ed", "root")

#: Outcomes a finished item of each kind may have.
DONE_OUTCOMES = {
    Kind.HANDOFF: {Outcome.DONE},
    Kind.EXCEPTION: {Outcome.RESOLVED},
    Kind.APPROVAL: {Outcome.APPROVED, Outcome.REJECTED},
}

#: Verbs that move an item along; the machine favours them so items reach their ends.
PROGRESS = frozenset({Verb.ACCEPT, Verb.ACK, Verb.TAKE, Verb.DONE, Verb.RESOLVE, Verb.APPROVE,
                      Verb.REJECT, Verb.UNBLOCK})

people = st.sampled_from(PEOPLE)
# Mostly known people, sometimes someone the directory does not know.
mentions = st.sampled_from([*PEOPLE, *PEOPLE, "zed"])
reasons = st.sampled_from(["no capacity", "needs legal", "fixed in v2", "ok", "risky"])
notes = st.sampled_from(["", "", "all good", "see thread"])


class LeanWorld(World):
    """A World whose units of work copy its containers, not the objects in them.

    FakeUnitOfWork deep-copies the world on begin and on commit; everything the core stores
    (items, events, messages, absences) is a frozen dataclass that it replaces rather than
    changes, so copying the containers keeps the transactions apart at a fraction of the
    cost, and an in-place change to a stored object would show up as a write.
    """

    def __deepcopy__(self, memo: dict[int, object]) -> LeanWorld:
        return LeanWorld(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(self)})


@dataclass(frozen=True)
class Snapshot:
    items: dict[tuple[str, int], Item]
    numbers: dict[str, int]
    events: tuple[Event, ...]
    outbox: tuple[Outgoing, ...]
    absences: dict[tuple[str, str], Absence]
    everything: tuple[tuple[str, object], ...]  # every field of the world, for "nothing written"


def snapshot(world: World) -> Snapshot:
    # Items, events and messages are frozen dataclasses and a commit replaces the world's
    # containers wholesale, so shallow copies are a faithful picture of the world.
    return Snapshot(dict(world.items), dict(world.numbers), tuple(world.events),
                    tuple(world.outbox), dict(world.absences),
                    tuple((f.name, copy.copy(getattr(world, f.name))) for f in fields(world)))


async def actor_of(world: World, directory: FakeDirectory, person: str, now: datetime) -> Actor:
    """The rules' view of `person` right now, built the way the service builds it."""
    # build_actor reads only absences, so a unit of work over them alone is the same view
    # and spares copying the whole world at every step.
    uow = FakeUnitOfWork(World(absences=dict(world.absences)))
    return await build_actor(uow, directory, WS, person, now)


def stand_in(world: World, person: str, now: datetime) -> str:
    """Who receives new work for `person` now (their delegate while they are away)."""
    absence = world.absences.get((WS, person))
    if absence and absence.delegate and absence.covers(now):
        return absence.delegate
    return person


#: DESIGN.md's "who may act", written out independently of bot.rules from the directory:
#: teams, their leads and members, and the admin.
LEADS = {"release": "lena", "eval": "ed"}
MEMBERS = {"release": {"alice", "bob", "lena"}, "eval": {"carol", "dave", "ed"}}
ADMINS = {"root"}


def spec_right(item: Item, who: str, verb: Verb, away: dict[str, str]) -> bool:
    """Whether DESIGN.md lets `who` use `verb` on `item`; `away` maps person -> delegate.

    The owner and requester act on their items, approvers on their decision (a delegate for
    an approver away), team leads and admins on anything of their team; a team's members may
    pick up its unowned work. Only the receiver of a handoff (or their delegate) accepts or
    declines it: a lead or admin assigns or cancels it instead.
    """
    manager = who in ADMINS or LEADS.get(item.team) == who
    owner, requester = item.owner == who, item.requester == who
    member = who in MEMBERS.get(item.team, set())
    standing_in = item.owner is not None and away.get(item.owner) == who
    if item.state.final:
        return verb is Verb.COMMENT
    decided = {d.approver for d in item.decisions}
    waiting = [a for a in item.approvers if a not in decided]
    if item.policy.kind is PolicyKind.SEQUENCE:
        waiting = waiting[:1]
    deciders = {a for a in waiting} | {away[a] for a in waiting if a in away}
    match verb:
        case Verb.COMMENT:
            return True
        case Verb.APPROVE | Verb.REJECT:
            return who in deciders and not requester
        case Verb.ACCEPT:  # only the receiver or their delegate: a lead assigns instead
            return owner or standing_in or (item.owner is None and (member or manager))
        case Verb.ACK:
            return owner or manager or (item.owner is None and member)
        case Verb.TAKE:
            return (member or manager) and not owner
        case Verb.DECLINE:
            return (owner or standing_in) and item.owner != item.requester
        case Verb.DONE | Verb.RESOLVE:
            return owner or manager
        case Verb.ASSIGN | Verb.BLOCK | Verb.UNBLOCK:
            return owner or requester or manager
        case Verb.CANCEL:
            return requester or manager
        case Verb.SNOOZE:
            return owner or manager or who in waiting
    return False


#: What an item is, as the state machine and the trail see it. Bookkeeping (version,
#: updated_at) and reminder scheduling (snoozed_until and the like) are left out: a comment
#: or a snooze may move those and nothing else.
ESSENCE = ("workspace", "number", "kind", "title", "requester", "team", "created_at",
           "details", "owner", "approvers", "policy", "decisions", "priority", "state",
           "outcome", "due_at", "acked_at", "blocked_reason", "blocked_on", "resume_state",
           "watchers", "source", "parent")


def essence(item: Item) -> tuple[object, ...]:
    return tuple(getattr(item, name) for name in ESSENCE)


def item_problems(item: Item, items: dict[tuple[str, int], Item]) -> list[str]:
    """Everything illegal about one item's state; empty when it is fine."""
    p: list[str] = []
    ref = item.ref
    if item.state.final != (item.outcome is not None):
        p.append(f"{ref}: state {item.state} with outcome {item.outcome}")
    if item.state is State.CANCELLED and item.outcome is not Outcome.CANCELLED:
        p.append(f"{ref}: cancelled with outcome {item.outcome}")
    if item.state is State.DONE and item.outcome not in DONE_OUTCOMES[item.kind]:
        p.append(f"{ref}: {item.kind} done with outcome {item.outcome}")
    if item.state is State.BLOCKED:
        if not item.blocked_reason:
            p.append(f"{ref}: blocked without a reason")
        if item.resume_state not in (State.OPEN, State.ACTIVE):
            p.append(f"{ref}: blocked with resume_state {item.resume_state}")
        if item.blocked_on is not None:
            blocker = items.get((WS, item.blocked_on))
            if blocker is None:
                p.append(f"{ref}: blocked on missing #{item.blocked_on}")
            elif blocker.state.final:
                p.append(f"{ref}: still blocked on {blocker.ref}, which is {blocker.state}")
            if item.blocked_on == item.number:
                p.append(f"{ref}: blocked on itself")
    elif (item.blocked_reason, item.blocked_on, item.resume_state) != ("", None, None):
        p.append(f"{ref}: {item.state} but blocked fields {item.blocked_reason!r}, "
                 f"{item.blocked_on}, {item.resume_state}")
    if item.state is State.ACTIVE and item.acked_at is None:
        p.append(f"{ref}: active but never acknowledged")
    worked = item.state is State.ACTIVE or item.resume_state is State.ACTIVE or \
        item.outcome in (Outcome.DONE, Outcome.RESOLVED)
    if item.kind is not Kind.APPROVAL:
        if worked and item.owner is None:
            p.append(f"{ref}: {item.kind} accepted/acknowledged but has no owner")
        if item.approvers or item.decisions:
            p.append(f"{ref}: {item.kind} with approvers or decisions")
        return p
    # approvals
    if item.owner is not None:
        p.append(f"{ref}: approval with an owner")
    if not item.approvers or len(set(item.approvers)) != len(item.approvers):
        p.append(f"{ref}: approvers {item.approvers}")
    if item.requester in item.approvers:
        p.append(f"{ref}: the requester is an approver")
    if item.policy.kind is PolicyKind.QUORUM and not 1 <= item.policy.n <= len(item.approvers):
        p.append(f"{ref}: quorum:{item.policy.n} of {len(item.approvers)}")
    deciders = [d.approver for d in item.decisions]
    if len(set(deciders)) != len(deciders):
        p.append(f"{ref}: an approver decided twice: {deciders}")
    for d in item.decisions:
        if d.approver not in item.approvers:
            p.append(f"{ref}: decision by non-approver {d.approver}")
        if item.requester in (d.approver, d.by):
            p.append(f"{ref}: the requester decided ({d})")
        if d.verdict is Verdict.REJECT and not d.comment:
            p.append(f"{ref}: a reject without a reason")
    if item.policy.kind is PolicyKind.SEQUENCE and deciders != list(item.approvers[:len(deciders)]):
        p.append(f"{ref}: sequence decided out of order: {deciders} vs {item.approvers}")
    expected = item.outcome if item.state is State.DONE else None
    if settle(item) != expected:
        p.append(f"{ref}: settle says {settle(item)} but the item is {item.state}/{item.outcome}")
    for k in range(len(item.decisions)):
        if settle(item.evolve(decisions=item.decisions[:k])) is not None:
            p.append(f"{ref}: decision {k + 1} came after the request had settled")
    if item.state is State.OPEN and item.decisions:
        p.append(f"{ref}: open with decisions")
    if item.state is State.ACTIVE and not item.decisions:
        p.append(f"{ref}: active without a decision")
    return p


def told(check: Callable[..., None]) -> Callable[..., None]:
    """Add the conversation so far to a failed check: hypothesis shows only the rules' names."""
    @functools.wraps(check)
    def run(self: BatonMachine, *args: object, **kwargs: object) -> None:
        try:
            check(self, *args, **kwargs)
        except AssertionError as exc:
            if not getattr(exc, "told", False):
                exc.told = True  # type: ignore[attr-defined]
                exc.add_note("The conversation (UTC):\n  " + "\n  ".join(self.transcript))
            raise
    return run


class BatonMachine(RuleBasedStateMachine):
    """Drives one Baton over fakes; every rule is one line typed by one person."""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.world = LeanWorld()
        self.clock = FakeClock(T0)
        self.directory = FakeDirectory()
        self.baton = Baton(FakeUnits(self.world), self.clock, self.directory)
        self.finals: dict[int, tuple[object, ...]] = {}
        self.changes = 0  # successful steps that must have appended an event
        self.transcript: list[str] = []

    def teardown(self) -> None:
        self.runner.close()

    # --- helpers ------------------------------------------------------------------------

    def rng(self, data: st.DataObject) -> random.Random:
        """A Random for picking among many options.

        Hypothesis favours the first of a list and small seeds (0 in a quarter of draws),
        so the drawn seed is mixed with the world's history: picks stay even across steps,
        and a replayed example makes the same ones.
        """
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        return random.Random(f"{seed}:{len(self.world.events)}:{len(self.world.outbox)}:"
                             f"{self.world.numbers.get(WS, 0)}:{self.clock.now()}")

    def number(self, data: st.DataObject) -> int:
        """An item number: mostly existing ones, sometimes #0 or one past the end."""
        count = self.world.numbers.get(WS, 0)
        rnd = self.rng(data)
        return rnd.randint(1, count) if count and rnd.random() < 0.85 else \
            rnd.choice([0, count + 1, count + 2])

    def say(self, who: str, text: str) -> Reply:
        """Type `text` as `who`, check the step, and keep it in the transcript."""
        self.transcript.append(f"{self.clock.now():%a %H:%M} {who}> {text}")
        reply = self.check_step(who, text)
        first = str(reply.text).splitlines()[0] if str(reply.text) else ""
        self.transcript[-1] += f"   -> {'ok' if reply.ok else 'refused'}: {first[:90]}"
        return reply

    def check_step(self, who: str, text: str) -> Reply:
        world, now = self.world, self.clock.now()
        before = snapshot(world)
        actor = self.runner.run(actor_of(world, self.directory, who, now))
        reply = self.runner.run(self.baton.run(Request(WS, who), text))
        assert isinstance(reply, Reply)
        assert str(reply.text), f"{who}: {text!r} got an empty reply"
        if not reply.ok:
            assert snapshot(world) == before, f"refused {text!r} by {who} wrote: {reply.text!s}"
            return reply
        command = parse(text)
        new = list(world.events[len(before.events):])
        assert world.events[:len(before.events)] == list(before.events), "history rewritten"
        match command:
            case Act():
                self.check_act(who, actor, command, before, new, now)
            case Create():
                self.check_create(who, command, before, new, now)
            case Away():
                assert [e.action for e in new] == ["away"]
                absence = world.absences[(WS, who)]
                assert absence.since == now
                self.changes += 1
            case Back():
                was_away = (WS, who) in before.absences
                assert [e.action for e in new] == (["back"] if was_away else [])
                assert (WS, who) not in world.absences
                self.changes += was_away
            case Digest():
                assert [e.action for e in new] == ["digest"]
                self.changes += 1
            case _:  # show, audit, list, mine: read only
                assert snapshot(world) == before, f"{text!r} wrote something"
        return reply

    def check_create(self, who: str, cmd: Create, before: Snapshot, new: list[Event],
                     now: datetime) -> None:
        world = self.world
        number = before.numbers.get(WS, 0) + 1
        assert world.numbers[WS] == number
        assert set(world.items) - set(before.items) == {(WS, number)}
        item = world.items[(WS, number)]
        assert (item.kind, item.requester, item.state, item.created_at) == \
            (cmd.kind, who, State.OPEN, now)
        assert new[0].action == "created" and new[0].item == number and new[0].actor == who
        assert all(e.action == "delegated" and e.item == number for e in new[1:])
        named = cmd.owner if cmd.kind is Kind.EXCEPTION else \
            cmd.to.name if cmd.to and not cmd.to.team else None
        routed = named is not None and stand_in(world, named, now) != named
        assert len(new) == 1 + routed, f"routed to a delegate: {routed}, events {new}"
        if cmd.kind is Kind.HANDOFF:
            assert cmd.to is not None
            if cmd.to.team:
                assert (item.owner, item.team) == (None, cmd.to.name)
            else:
                assert item.owner == stand_in(world, cmd.to.name, now)
                assert item.owner != who
                assert item.team == self.directory.home_team(cmd.to.name)
        elif cmd.kind is Kind.EXCEPTION:
            assert item.owner == (stand_in(world, cmd.owner, now) if cmd.owner else None)
            assert item.team == (cmd.team or self.directory.home_team(who))
        else:
            assert item.approvers == cmd.approvers and item.policy == cmd.policy
            assert who not in item.approvers
        self.changes += 1

    def check_act(self, who: str, actor: Actor, cmd: Act, before: Snapshot, new: list[Event],
                  now: datetime) -> None:
        world = self.world
        item = before.items.get((WS, cmd.number))
        assert item is not None, f"{cmd.verb} succeeded on missing #{cmd.number}"
        rights = allowed(item, actor)
        assert cmd.verb in rights, f"{who} did {cmd.verb} on {item} with only {rights}"
        away = {a.person: a.delegate for a in before.absences.values()
                if a.delegate and a.covers(now)}
        assert spec_right(item, who, cmd.verb, away), f"{who} may not {cmd.verb} {item}"
        after = world.items[(WS, cmd.number)]
        assert after.version == item.version + 1
        assert (new[0].action, new[0].item, new[0].actor) == (cmd.verb.value, cmd.number, who)
        self.changes += 1
        match cmd.verb:
            case Verb.ACCEPT | Verb.ACK:
                assert after.state is State.ACTIVE and after.owner == (item.owner or who)
            case Verb.DECLINE:
                assert (after.state, after.owner) == (State.OPEN, item.requester)
            case Verb.TAKE:
                assert (after.state, after.owner) == (item.state, who)
            case Verb.ASSIGN:
                assert cmd.person is not None
                assert after.owner == stand_in(world, cmd.person, now)
                moved = item.kind is Kind.HANDOFF and item.state is State.ACTIVE
                assert after.state == (State.OPEN if moved else item.state)
            case Verb.BLOCK:
                assert (after.state, after.resume_state, after.blocked_reason, after.blocked_on) \
                    == (State.BLOCKED, item.state, cmd.text, cmd.on)
            case Verb.UNBLOCK:
                assert after.state == item.resume_state
            case Verb.DONE:
                assert (after.state, after.outcome) == (State.DONE, Outcome.DONE)
            case Verb.RESOLVE:
                assert (after.state, after.outcome) == (State.DONE, Outcome.RESOLVED)
            case Verb.CANCEL:
                assert (after.state, after.outcome) == (State.CANCELLED, Outcome.CANCELLED)
            case Verb.APPROVE | Verb.REJECT:
                approver = deciding_for(item, actor)
                assert approver is not None
                verdict = Verdict.APPROVE if cmd.verb is Verb.APPROVE else Verdict.REJECT
                assert after.decisions == (*item.decisions,
                                           Decision(approver, verdict, cmd.text, now, who))
                assert after.state is (State.DONE if settle(after) else State.ACTIVE)
            case Verb.COMMENT:
                assert essence(after) == essence(item)
            case Verb.SNOOZE:
                assert essence(after) == essence(item)
                assert after.snoozed_until == now + timedelta(hours=2)
        # Items waiting on one that ended resume by themselves, each with its own event.
        waiting = [i for i in before.items.values()
                   if i.state is State.BLOCKED and i.blocked_on == cmd.number]
        if after.state.final and not item.state.final:
            for i in waiting:
                resumed = world.items[(WS, i.number)]
                assert (resumed.state, resumed.blocked_on) == (i.resume_state, None)
            assert sorted(e.item for e in new[1:] if e.item is not None) == \
                sorted(i.number for i in waiting)
            assert all(e.action == "auto_unblock" and e.actor == "baton" for e in new[1:])
        else:
            assert len(new) == 1
            assert {n for n in world.items if world.items[n] != before.items.get(n)} == \
                {(WS, cmd.number)}

    # --- rules: creating items ------------------------------------------------------------

    @initialize(data=st.data())
    @told
    def one_of_each(self, data: st.DataObject) -> None:
        """Start every run with a live handoff, exception and approval."""
        who, to, owner, *approvers = data.draw(st.permutations(PEOPLE), label="people")
        policy = data.draw(st.sampled_from(["any", "all", "quorum:2", "sequence"]),
                           label="policy")
        count = data.draw(st.integers(2 if policy == "quorum:2" else 1, 3), label="approvers")
        team = data.draw(st.sampled_from(["release", "eval"]), label="team")
        for text in (f"handoff @{to} Prepare the release notes",
                     f"exception Eval scores missing --team {team} --owner @{owner}",
                     f"approval Ship v2 --approvers "
                     f"{' '.join('@' + a for a in approvers[:count])} --policy {policy}"):
            assert self.say(who, text).ok

    @rule(who=people, kind=st.sampled_from(list(Kind)), data=st.data())
    @told
    def create(self, who: str, kind: Kind, data: st.DataObject) -> None:
        draw = data.draw
        if kind is Kind.HANDOFF:
            to = draw(st.sampled_from(["#release", "#eval", *(f"@{p}" for p in PEOPLE),
                                       "@zed", "#nope"]), label="to")
            flags = draw(st.sampled_from(["", "", " --due 4h", " --p high", " --due fri 17:00",
                                          " --due 2026-01-01", " --details see the doc"]),
                         label="flags")
            text = f"handoff {to} Fix the data loader{flags}"
        elif kind is Kind.EXCEPTION:
            team = draw(st.sampled_from(["", "", " --team release", " --team eval",
                                         " --team nope"]), label="team")
            owner = draw(st.sampled_from(["", "", *(f" --owner @{p}" for p in PEOPLE),
                                          " --owner @zed"]), label="owner")
            text = f"exception Eval scores missing{team}{owner}"
        else:
            others = [p for p in PEOPLE if p != who]
            if draw(st.integers(0, 9), label="valid approvers") < 8:
                approvers = draw(st.lists(st.sampled_from(others), min_size=1, max_size=3,
                                          unique=True), label="approvers")
            else:  # the requester, someone twice or a stranger: mostly refused
                approvers = draw(st.lists(mentions, min_size=1, max_size=3), label="approvers")
            policy = draw(st.sampled_from(["", " --policy any", " --policy all",
                                           " --policy sequence", " --policy quorum:1",
                                           " --policy quorum:2", " --policy quorum:3",
                                           " --policy quorum:0"]), label="policy")
            names = " ".join(f"@{a}" for a in approvers)
            text = f"approval Ship v2 --approvers {names}{policy}"
        self.say(who, text)

    # --- rules: item verbs ----------------------------------------------------------------

    def verb_text(self, verb: Verb, n: int, data: st.DataObject, *, valid: bool) -> str:
        text = f"{verb} #{n}"
        if verb in (Verb.DECLINE, Verb.RESOLVE, Verb.REJECT, Verb.COMMENT):
            text += " " + data.draw(reasons, label="reason")
        elif verb in (Verb.DONE, Verb.APPROVE, Verb.CANCEL):
            text += " " + data.draw(notes, label="note")
        elif verb is Verb.ASSIGN:
            item = self.world.items.get((WS, n))
            # valid: someone new, also once away periods route them to their delegate
            choices = [p for p in PEOPLE if not item or (
                p != item.owner and stand_in(self.world, p, self.clock.now()) != item.owner)] \
                if valid else \
                [*PEOPLE, *PEOPLE, "zed"]
            text += " @" + data.draw(st.sampled_from(choices), label="assignee")
        elif verb is Verb.BLOCK:
            text += " " + data.draw(reasons, label="reason")
            if not valid and data.draw(st.booleans(), label="on"):
                text += f" --on #{self.number(data)}"
        elif verb is Verb.SNOOZE:
            text += " 2h"
        return text.strip()

    @rule(who=people, data=st.data(), verb=st.sampled_from(list(Verb)))
    @told
    def act_anyhow(self, who: str, data: st.DataObject, verb: Verb) -> None:
        """Anyone tries anything on any number: refused unless the rules allow it."""
        self.say(who, self.verb_text(verb, self.number(data), data, valid=False))

    def options(self) -> list[tuple[str, int, Verb]]:
        """Every (person, item, verb) the rules allow now."""
        now = self.clock.now()
        actors = [self.runner.run(actor_of(self.world, self.directory, who, now))
                  for who in PEOPLE]
        return [(actor.id, item.number, verb) for item in self.world.items.values()
                for actor in actors for verb in allowed(item, actor)]

    def can_block_on(self, n: int, m: int) -> bool:
        """Whether `block #n --on #m` is sound: #m lives and does not wait on #n."""
        blocker = self.world.items.get((WS, m))
        if blocker is None or m == n or blocker.state.final:
            return False
        while blocker is not None and blocker.state is State.BLOCKED and blocker.blocked_on:
            if blocker.blocked_on == n:
                return False
            blocker = self.world.items.get((WS, blocker.blocked_on))
        return True

    @rule(data=st.data(), moves=st.integers(1, 4))
    @told
    def act_as_allowed(self, data: st.DataObject, moves: int) -> None:
        """People use verbs the rules allow them on live items: each must work."""
        for _ in range(moves):
            rnd = self.rng(data)
            options = self.options()
            if all(verb is Verb.COMMENT for _, _, verb in options):
                return  # every item has ended; act_anyhow still tries comments
            # The verb first, favouring those that move items along, so that rare ones
            # (approve, done, resolve) get their turn among the comments anyone may make.
            verbs = sorted({v for _, _, v in options}, key=list(Verb).index)
            forward = [v for v in verbs if v in PROGRESS]
            verb = rnd.choice(forward if forward and rnd.random() < 0.6 else verbs)
            who, n, _ = rnd.choice(sorted(o for o in options if o[2] is verb))
            text = self.verb_text(verb, n, data, valid=True)
            sound = True
            if verb is Verb.BLOCK and rnd.random() < 0.5:
                m = self.number(data)
                text += f" --on #{m}"
                sound = self.can_block_on(n, m)
            reply = self.say(who, text)
            assert reply.ok == sound, f"{who}: {text!r} (allowed, sound={sound}): {reply.text!s}"

    def someone_may(self, verbs: set[Verb], n: int, rnd: random.Random) -> tuple[str, Verb] | None:
        """A person and one of `verbs` the rules allow them on #n, if any."""
        fits = sorted((who, verb) for who, m, verb in self.options() if m == n and verb in verbs)
        return rnd.choice(fits) if fits else None

    @rule(data=st.data())
    @told
    def wait_on_another(self, data: st.DataObject) -> None:
        """Block a live item on another, then maybe end that one: auto-unblock."""
        rnd = self.rng(data)
        live = sorted(n for (_, n), i in self.world.items.items() if not i.state.final)
        if len(live) < 2:
            return
        n, m = rnd.sample(live, 2)
        blocker = self.someone_may({Verb.BLOCK}, n, rnd)
        if blocker is None:
            return
        text = f"block #{n} waits for #{m} --on #{m}"
        reply = self.say(blocker[0], text)
        assert reply.ok == self.can_block_on(n, m), f"{text!r}: {reply.text!s}"
        ender = self.someone_may({Verb.DONE, Verb.RESOLVE, Verb.APPROVE, Verb.REJECT,
                                  Verb.CANCEL}, m, rnd)
        if reply.ok and ender is not None and rnd.random() < 0.7:
            who, verb = ender
            text = f"{verb} #{m} " + ("" if verb in (Verb.APPROVE, Verb.CANCEL, Verb.DONE)
                                       else "because")
            reply = self.say(who, text.strip())
            assert reply.ok, f"{who}: {text!r}: {reply.text!s}"

    @rule(data=st.data())
    @told
    def cover(self, data: st.DataObject) -> None:
        """Someone goes away with a delegate; new work and decisions for them go to the delegate."""
        rnd = self.rng(data)
        person, delegate, other = rnd.sample(PEOPLE, 3)
        self.say(person, f"away --delegate @{delegate}")
        choice = rnd.random()
        if choice < 0.3:
            self.say(other, f"handoff @{person} Review the PR")
        elif choice < 0.5:
            self.say(other, f"exception Flaky eval --owner @{person}")
        elif choice < 0.7:
            self.say(other, f"approval Budget --approvers @{person} @{delegate} --policy all")
        else:  # the delegate decides what waits on the person
            waiting = sorted(i.number for i in self.world.items.values()
                             if person in pending_approvers(i) and i.requester != delegate)
            if waiting:
                verb = rnd.choice(["approve", "reject for them"])
                self.say(delegate, f"{verb.split()[0]} #{rnd.choice(waiting)} on their behalf")

    @rule(who=people, data=st.data(),
          what=st.sampled_from(["mine", "list", "list --state blocked", "show", "audit",
                                "digest", "digest --team eval", "back", "away", "later"]))
    @told
    def elsewhere(self, who: str, data: st.DataObject, what: str) -> None:
        """Reading, digests, going away and coming back, time passing."""
        if what in ("show", "audit"):
            what += f" #{self.number(data)}"
        elif what == "away":
            until = data.draw(st.sampled_from(["", " until tomorrow 9am", " until 4h"]),
                              label="until")
            delegate = data.draw(st.sampled_from([None, *PEOPLE, "zed"]), label="delegate")
            what = f"away{until}" + (f" --delegate @{delegate}" if delegate else "")
        elif what == "later":
            minutes = data.draw(st.integers(1, 3 * 24 * 60), label="minutes")
            self.clock.advance(timedelta(minutes=minutes))
            self.transcript.append(f"(time passes: {minutes} min)")
            return
        self.say(who, what)

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    @told
    def items_are_legal(self) -> None:
        items = self.world.items
        count = self.world.numbers.get(WS, 0)
        assert sorted(items) == [(WS, n) for n in range(1, count + 1)]
        problems = [p for item in items.values() for p in item_problems(item, items)]
        assert not problems, problems

    @invariant()
    @told
    def final_items_stay_final(self) -> None:
        for (_, number), item in self.world.items.items():
            if number in self.finals:
                assert essence(item) == self.finals[number], f"{item.ref} changed after ending"
            elif item.state.final:
                self.finals[number] = essence(item)

    @invariant()
    @told
    def chain_verifies(self) -> None:
        events = [e for e in self.world.events if e.workspace == WS]
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert len(events) >= self.changes
        if events:
            assert verify(events, events[-1].seq, events[-1].hash) == []
        for number in {e.item for e in events if e.item is not None}:
            first = next(e for e in events if e.item == number)
            assert first.action == "created", f"#{number} starts with {first.action}"
        keys = [m.key for m in self.world.outbox]
        assert len(keys) == len(set(keys))


BatonMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestBatonProperties = BatonMachine.TestCase


# --- bugs the machine's wider invariants would trip over, shown minimally -------------------

def _script(lines: list[tuple[str, str]]) -> World:
    world = World()
    baton = Baton(FakeUnits(world), FakeClock(T0), FakeDirectory())

    async def go() -> None:
        for who, text in lines:
            reply = await baton.run(Request(WS, who), text)
            assert reply.ok, (who, text, str(reply.text))

    asyncio.run(go())
    return world


def test_reassigned_blocked_handoff_resumes_open() -> None:
    world = _script([("alice", "handoff @bob Ship notes"), ("bob", "accept #1"),
                     ("bob", "block #1 waiting on legal"), ("alice", "assign #1 @carol"),
                     ("alice", "unblock #1")])
    item = world.items[(WS, 1)]
    assert item.owner == "carol"
    assert item.state is State.OPEN  # carol has not accepted it


def test_assign_to_away_person_whose_delegate_owns_it_is_refused() -> None:
    world = _script([("alice", "handoff @bob Ship notes"), ("bob", "accept #1"),
                     ("carol", "away --delegate @bob")])
    baton = Baton(FakeUnits(world), FakeClock(T0), FakeDirectory())
    reply = asyncio.run(baton.run(Request(WS, "alice"), "assign #1 @carol"))
    item = world.items[(WS, 1)]
    assert (item.owner, item.state) == ("bob", State.ACTIVE)
    assert not reply.ok


def test_an_approver_whose_delegate_is_the_requester_is_still_asked() -> None:
    world = _script([("bob", "away --delegate @alice"),
                     ("alice", "approval Budget --approvers @bob")])
    asked = [m.to for m in world.outbox if m.audience == "person" and m.item == 1]
    assert asked == ["bob"]


# --- approval policies on their own ----------------------------------------------------------

@st.composite
def verdict_runs(draw: st.DrawFn) -> tuple[Item, list[Verdict]]:
    """An approval under some policy, and every approver's verdict in deciding order."""
    count = draw(st.integers(1, 4))
    approvers = tuple(PEOPLE[1:count + 1])
    kind = draw(st.sampled_from(list(PolicyKind)))
    n = draw(st.integers(1, count)) if kind is PolicyKind.QUORUM else 0
    item = Item(WS, 1, Kind.APPROVAL, "Ship", "alice", "release", T0, T0,
                approvers=approvers, policy=Policy(kind, n))
    verdicts = draw(st.lists(st.sampled_from(list(Verdict)), min_size=count, max_size=count))
    return item, verdicts


@given(verdict_runs(), st.randoms())
@settings(max_examples=300, deadline=None)
def test_every_policy_settles_once_all_decided(run: tuple[Item, list[Verdict]],
                                               rnd: random.Random) -> None:
    item, verdicts = run
    order = list(item.approvers)
    if item.policy.kind is not PolicyKind.SEQUENCE:
        rnd.shuffle(order)  # only sequence fixes the order; the outcome must not depend on it
    assert settle(item) is None
    outcome = None
    for approver, verdict in zip(order, verdicts, strict=True):
        item = item.evolve(decisions=(*item.decisions,
                                      Decision(approver, verdict, "why", T0, approver)))
        outcome = settle(item)
        if outcome is not None:
            break
    assert outcome is not None, "every approver decided and the request is still open"
    approvals = verdicts.count(Verdict.APPROVE)
    match item.policy.kind:
        case PolicyKind.ANY:
            expected = verdicts[0] is Verdict.APPROVE
        case PolicyKind.ALL | PolicyKind.SEQUENCE:
            expected = approvals == len(verdicts)
        case PolicyKind.QUORUM:
            expected = approvals >= item.policy.n
    assert outcome is (Outcome.APPROVED if expected else Outcome.REJECTED)
