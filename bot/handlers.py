"""One function per command: load, decide, record, queue messages. Each runs in one unit of work."""

from __future__ import annotations

from bot import presenters as say
from bot.approvals import pending_approvers, policy_problem
from bot.commands import Act, Away, Back, Create, Tick, Unreachable
from bot.context import Ctx
from bot.digests import post_digest
from bot.events import Event
from bot.followups import SWEEP_BATCH, follow_up, retime
from bot.items import Absence, Item, Kind, PolicyKind, Source, State
from bot.rich import Rich, as_rich
from bot.rules import Verb, allowed, deciding_for, state_allows
from bot.sla import deadlines
from bot.text import clean
from bot.transitions import DomainError, apply, unblocked


async def _known(ctx: Ctx, handle: str) -> str:
    person = ctx.directory.person(handle)
    if person is None:
        raise DomainError(say.unknown_person(handle))
    return person.id


def _team(ctx: Ctx, name: str) -> str:
    team = ctx.directory.team(name)
    if team is None:
        raise DomainError(say.unknown_team(name, [t.name for t in ctx.directory.teams()]))
    return team.name


async def _stand_in(ctx: Ctx, person: str) -> tuple[str, Rich]:
    """Who receives new work for `person` now: them, or their delegate while they are away."""
    absence = await ctx.uow.absences.get(ctx.workspace, person)
    if absence and absence.delegate and absence.covers(ctx.now):
        return absence.delegate, say.stands_in(person, absence.delegate)
    return person, Rich()


async def create(ctx: Ctx, cmd: Create) -> Item:
    me = ctx.actor.id
    owner: str | None = None
    approvers: tuple[str, ...] = ()
    if cmd.kind is Kind.HANDOFF:
        assert cmd.to is not None
        if cmd.to.team:
            team = _team(ctx, cmd.to.name)
        else:
            owner = await _known(ctx, cmd.to.name)
            if owner == me:
                raise DomainError(say.handoff_to_self())
            team = ctx.directory.home_team(owner)
    else:
        team = _team(ctx, cmd.team) if cmd.team else ctx.directory.home_team(me)
        if cmd.owner:
            owner = await _known(ctx, cmd.owner)
        approvers = tuple([await _known(ctx, a) for a in cmd.approvers])
    if cmd.kind is Kind.APPROVAL:
        quorum = cmd.policy.n if cmd.policy.kind is PolicyKind.QUORUM else None
        if problem := policy_problem(approvers, me, quorum):
            raise DomainError(say.cannot_raise(problem))
    routed_note = Rich()
    if owner is not None:
        owner, routed_note = await _stand_in(ctx, owner)
        if owner == me and cmd.kind is Kind.HANDOFF:
            raise DomainError(say.delegate_to_self())
    number = await ctx.uow.items.allocate_number(ctx.workspace)
    ack, resolve = deadlines(ctx.directory.sla(team, cmd.kind, cmd.priority), ctx.now,
                             ctx.directory.clock(team).calendar)
    item = Item(
        workspace=ctx.workspace, number=number, kind=cmd.kind, title=clean(cmd.title),
        requester=me, team=team, created_at=ctx.now, updated_at=ctx.now,
        details=clean(cmd.details),
        owner=owner, approvers=approvers, policy=cmd.policy, priority=cmd.priority,
        due_at=cmd.due.resolve(ctx.now, ctx.zone()) if cmd.due else None,
        ack_deadline=ack, resolve_deadline=resolve,
        source=Source(ctx.request.surface, cmd.channel, cmd.message, cmd.permalink,
                      ctx.request.via),
    )
    if item.due_at is not None and item.due_at <= ctx.now:
        raise DomainError(say.due_passed(item.due_at, ctx.zone()))
    item = retime(ctx.directory, None, item, ctx.now)
    await ctx.uow.items.add(item)
    event = await ctx.record("created", None, item)
    await ctx.post_card(event, item, say.change_line("created", me, item))
    if routed_note:
        await ctx.record("delegated", item, item, text=routed_note)
    if cmd.kind is Kind.HANDOFF:
        await ctx.dm(event, owner, say.handed_to_you(me, item), item)
    elif cmd.kind is Kind.EXCEPTION:
        await ctx.dm(event, owner, say.raised_for_you(me, item), item)
    else:
        await _ask_approvers(ctx, event, item)
    return item


async def _ask_approvers(ctx: Ctx, event: Event, item: Item,
                         asked_before: frozenset[str] = frozenset()) -> None:
    """DM each approver whose decision is now awaited and who was not asked already (or their
    delegate while away): everyone at once, or under `sequence` the next in turn."""
    for approver in pending_approvers(item):
        if approver in asked_before:
            continue
        target, _ = await _stand_in(ctx, approver)
        if target == item.requester:  # the requester may not decide: ask the approver anyway
            target = approver
        await ctx.dm(event, target, say.asks_your_decision(item, approver, target), item)


async def act(ctx: Ctx, cmd: Act) -> Item:
    item = await ctx.load(cmd.number)
    verbs = allowed(item, ctx.actor)
    if cmd.verb not in verbs:
        reason = _why_not(ctx, item, cmd.verb)
        raise DomainError(say.refused(cmd.verb, item, verbs, reason),
                          [v.value for v in verbs])
    text: Rich = as_rich(clean(cmd.text))
    person = await _known(ctx, cmd.person) if cmd.person else None
    if cmd.verb is Verb.ASSIGN:
        assert person is not None
        person, text = await _stand_in(ctx, person)
        if person == item.owner:
            raise DomainError(say.already_theirs(item, person))
    if cmd.verb is Verb.BLOCK and cmd.on is not None:
        await _check_blocker(ctx, item, cmd.on)
    decided_for = deciding_for(item, ctx.actor)
    if cmd.verb is Verb.SNOOZE:
        assert cmd.duration is not None
        until = ctx.now + cmd.duration
        changed = item.evolve(snoozed_until=until, updated_at=ctx.now)
        text = as_rich(say.stamp(until, ctx.zone()))
    else:
        changed = apply(item, cmd.verb, actor=ctx.actor.id, now=ctx.now, text=str(text),
                        person=person, on=cmd.on, decided_for=decided_for)
    saved = await ctx.uow.items.save(retime(ctx.directory, item, changed, ctx.now))
    event = await ctx.record(cmd.verb.value, item, saved, text=text)
    await _tell(ctx, event, cmd.verb, item, saved, text)
    if saved.state.final:
        await _release_blocked(ctx, saved)
    return saved


def _why_not(ctx: Ctx, item: Item, verb: Verb) -> Rich:
    """Why `verb` is refused on `item`, in the asker's terms."""
    if verb not in state_allows(item):
        return say.not_in_state(item)
    me = ctx.actor.id
    if verb in (Verb.APPROVE, Verb.REJECT):
        if me == item.requester:
            return say.own_request()
        if any(d.approver == me for d in item.decisions):
            return say.decided_already()
        if me in item.approvers:
            return say.not_your_turn(item)
        return say.not_an_approver()
    return say.only_for(verb, item)


async def _check_blocker(ctx: Ctx, item: Item, on: int) -> None:
    if on == item.number:
        raise DomainError(say.blocked_on_itself(item))
    blocker = await ctx.load(on)
    if blocker.state.final:
        raise DomainError(say.blocks_nothing(blocker))
    seen, current = {item.number}, blocker
    while current.state is State.BLOCKED and current.blocked_on is not None:
        if current.blocked_on in seen:
            raise DomainError(say.deadlock(on, item))
        seen.add(current.number)
        nxt = await ctx.uow.items.get(ctx.workspace, current.blocked_on)
        if nxt is None:
            break
        current = nxt
    if current.number == item.number:
        raise DomainError(say.deadlock(on, item))


async def _tell(ctx: Ctx, event: Event, verb: Verb, before: Item, after: Item,
                text: Rich) -> None:
    """Direct messages a change causes, beyond the card refresh and thread line."""
    line = say.change_line(verb.value, ctx.actor.id, after, text, where=ctx.elsewhere(after))
    if verb in (Verb.ACCEPT, Verb.ACK, Verb.DONE, Verb.RESOLVE, Verb.DECLINE, Verb.TAKE,
                Verb.BLOCK, Verb.UNBLOCK, Verb.APPROVE, Verb.REJECT):
        await ctx.dm(event, after.requester, line, after)
    if verb is Verb.ASSIGN:
        await ctx.dm(event, after.owner, say.now_yours(line, after), after)
    if verb is Verb.CANCEL and before.owner:
        await ctx.dm(event, before.owner, line, None)
    if verb is Verb.APPROVE and not after.state.final:
        await _ask_approvers(ctx, event, after, frozenset(pending_approvers(before)))


async def _release_blocked(ctx: Ctx, ended: Item) -> None:
    """Items blocked on an item that ended resume by themselves."""
    for waiting in await ctx.uow.items.blocked_on(ctx.workspace, ended.number):
        resumed = await ctx.uow.items.save(retime(
            ctx.directory, waiting, unblocked(waiting).evolve(updated_at=ctx.now), ctx.now))
        note = say.ended(ended)
        event = await ctx.record("auto_unblock", waiting, resumed, text=note, actor="baton")
        line = say.change_line("auto_unblock", "baton", resumed, note)
        for person in {resumed.owner, resumed.requester} - {None}:
            await ctx.dm(event, person, line, resumed)


async def away(ctx: Ctx, cmd: Away) -> Absence:
    me = ctx.actor.id
    delegate = await _known(ctx, cmd.delegate) if cmd.delegate else None
    if delegate == me:
        raise DomainError(say.delegate_is_self())
    until = cmd.until.resolve(ctx.now, ctx.zone()) if cmd.until else None
    if until is not None and until <= ctx.now:
        raise DomainError(say.passed_already(until, ctx.zone()))
    if delegate:
        theirs = await ctx.uow.absences.get(ctx.workspace, delegate)
        if theirs and theirs.covers(ctx.now):
            raise DomainError(say.delegate_away(delegate))
    absence = Absence(ctx.workspace, me, ctx.now, until, delegate)
    await ctx.uow.absences.put(absence)
    note = say.away_note(until, delegate, ctx.zone())
    event = await ctx.record("away", None, None, extra={
        "until": until.isoformat() if until else None, "delegate": delegate,
        "note": note.to_json()})
    if delegate:
        await ctx.dm(event, delegate, say.to_delegate(me, note), None)
    return absence


async def back(ctx: Ctx, _: Back) -> bool:
    absence = await ctx.uow.absences.get(ctx.workspace, ctx.actor.id)
    if absence is None:
        return False
    await ctx.uow.absences.remove(ctx.workspace, ctx.actor.id)
    await ctx.record("back", None, None)
    return True


async def tick(ctx: Ctx, cmd: Tick) -> tuple[list[Rich], bool]:
    """Work fallen due by `cmd.now`: away periods that ended, then one batch of follow-ups
    (reminders, breaches, escalation steps, nudges). True as well when more may be due."""
    done: list[Rich] = []
    for absence in await ctx.uow.absences.ending_by(cmd.now):
        if absence.workspace != ctx.workspace:
            continue
        await ctx.uow.absences.remove(absence.workspace, absence.person)
        await ctx.record("back", None, None, actor=absence.person,
                         extra={"note": "away period ended"})
        done.append(say.came_back(absence.person))
    due = await ctx.uow.items.due_followups(ctx.workspace, cmd.now, SWEEP_BATCH)
    for item in due:
        done += await follow_up(ctx, item)
    return done, len(due) == SWEEP_BATCH


async def digest(ctx: Ctx, team: str, *, weekly: bool = False) -> Rich:
    """Post the team's daily blocker digest (or weekly manager digest) to its channel; what the
    asker sees. Only the team's members, its lead and admins (and Baton's timers) post to its
    channel; anyone else gets the digest in the reply alone."""
    name = _team(ctx, team)
    public = ctx.actor.id == "baton" or ctx.actor.member_of(name)
    digest_text = await post_digest(ctx, name, weekly=weekly, public=public)
    if public:
        return say.digest_posted("weekly" if weekly else "daily", name)
    return say.digest_sent_privately(name) + "\n" + digest_text


async def unreachable(ctx: Ctx, cmd: Unreachable) -> Rich:
    """A person no surface could reach about an item: said once per item and person, in its
    trail, under every copy of its card and to its requester (with the card), so a message
    is never lost silently."""
    item = await ctx.load(cmd.number)
    told = await ctx.uow.events.for_item(ctx.workspace, item.number)
    if any(e.action == "unreachable" and e.after.get("person") == cmd.person for e in told):
        return Rich()
    note = say.unreachable_note(cmd.person, cmd.reasons)
    event = await ctx.record("unreachable", item, item, text=note, actor="baton",
                             extra={"person": cmd.person})
    line = say.change_line("unreachable", "baton", item, note)
    if item.requester != cmd.person:
        await ctx.dm(event, item.requester, line, item)
    return line
