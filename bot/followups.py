"""Follow-ups: a reminder before each SLA target, the breach, the escalation chain after it,
and nudges on stalled work.

When each falls due is pure (`pending`, `retime`): every target climbs a ladder of rungs,
reminder → breach → chain step 1 → step 2 …, and the item keeps how far it has climbed
(`ack_stage`, `resolve_stage`) and the soonest rung still ahead (`next_followup_at`, the
sweep's index). `follow_up` climbs the rungs due by now for one item inside the sweep's unit
of work, claiming each in the database first, so a rung is done once however many replicas
sweep and however often they restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import presenters as say
from bot.approvals import pending_approvers
from bot.context import Ctx
from bot.items import Item, Kind, State
from bot.people import ChainStep, Directory, SlaTargets, TeamClock
from bot.ports import Claim
from bot.rich import Rich
from bot.sla import warning

#: Items one sweep transaction follows up; the sweep repeats until fewer are due.
SWEEP_BATCH = 200
ACK, RESOLVE, STALL = "ack", "resolve", "stall"
_MAX_RUNGS = 64  # per item and sweep: more than any ladder has


@dataclass(frozen=True)
class Due:
    """One rung: at `at`, for `target`, do `kind` (remind, breach, escalate, stall); `step`
    names it uniquely within the target; `stage` is the target's progress once it is done."""

    at: datetime
    target: str
    step: str
    kind: str
    stage: int


def _ladder(item: Item, target: str, deadline: datetime, targets: SlaTargets,
            clock: TeamClock, stage: int) -> Due | None:
    """The next rung of one target: stage 0 the reminder, 1 the breach, 2+k chain step k."""
    if stage <= 0:
        span = targets.ack if target == ACK else targets.resolve
        warn = warning(clock.calendar, deadline, span, targets.warn_at)
        if warn is not None and item.snoozed_until is not None:
            warn = max(warn, item.snoozed_until)  # snooze holds reminders, not escalation
        if warn is not None and warn < deadline:
            return Due(warn, target, "warn", "remind", 1)
    if stage <= 1:
        return Due(deadline, target, "breach", "breach", 2)
    k = stage - 2
    if k < len(clock.chain):
        after = clock.calendar.working(clock.chain[k].after)
        return Due(clock.calendar.add(deadline, after), target, str(k + 1), "escalate",
                   stage + 1)
    return None


def _nudge(item: Item, clock: TeamClock) -> Due | None:
    """The next nudge of an active item that has not moved for a `stall_every`."""
    if clock.stall_every is None or item.state is not State.ACTIVE:
        return None
    count = item.stalls + 1
    at = clock.calendar.add(item.updated_at, clock.calendar.working(clock.stall_every) * count)
    if item.snoozed_until is not None:
        at = max(at, item.snoozed_until)
    return Due(at, STALL, _nudge_step(item, count), "stall", count)


def _nudge_step(item: Item, count: int) -> str:
    return f"{int(item.updated_at.timestamp())}:{count}"


def pending(item: Item, targets: SlaTargets, clock: TeamClock) -> list[Due]:
    """The next rung of every clock still running on the item, soonest first."""
    if item.state.final:
        return []
    found: list[Due | None] = []
    if item.ack_deadline is not None and item.acked_at is None:
        found.append(_ladder(item, ACK, item.ack_deadline, targets, clock, item.ack_stage))
    paused = item.state is State.BLOCKED and clock.pause_when_blocked
    if item.resolve_deadline is not None and not paused:
        found.append(_ladder(item, RESOLVE, item.resolve_deadline, targets, clock,
                             item.resolve_stage))
    found.append(_nudge(item, clock))
    return sorted((due for due in found if due is not None), key=lambda due: due.at)


def next_followup(item: Item, targets: SlaTargets, clock: TeamClock) -> datetime | None:
    rungs = pending(item, targets, clock)
    return rungs[0].at if rungs else None


def retime(directory: Directory, before: Item | None, after: Item, now: datetime) -> Item:
    """The item after a change, with its SLA bookkeeping brought up to date: the resolve
    clock paused on block and its deadline moved on by the paused working time on unblock
    (where the team's policy pauses), the end time kept, nudges counted from the last move,
    and the next follow-up instant recomputed. Every handler that saves an item calls this."""
    clock = directory.clock(after.team)
    item = after
    was_blocked = before is not None and before.state is State.BLOCKED
    if item.state is State.BLOCKED and not was_blocked and clock.pause_when_blocked:
        item = item.evolve(blocked_since=now)
    if item.state is not State.BLOCKED and item.blocked_since is not None:
        if item.resolve_deadline is not None and not item.state.final:
            paused = clock.calendar.between(item.blocked_since, now)
            item = item.evolve(resolve_deadline=clock.calendar.add(item.resolve_deadline,
                                                                   paused))
        item = item.evolve(blocked_since=None)
    if item.state.final and item.closed_at is None:
        item = item.evolve(closed_at=now)
    if before is not None and before.updated_at != item.updated_at and item.stalls:
        item = item.evolve(stalls=0)
    targets = directory.sla(item.team, item.kind, item.priority)
    return item.evolve(next_followup_at=next_followup(item, targets, clock))


async def follow_up(ctx: Ctx, item: Item) -> list[Rich]:
    """Climb every rung of `item` due by now, in order; returns a line per rung done."""
    targets = ctx.directory.sla(item.team, item.kind, item.priority)
    clock = ctx.directory.clock(item.team)
    lines: list[Rich] = []
    for _ in range(_MAX_RUNGS):
        due = next((d for d in pending(item, targets, clock) if d.at <= ctx.now), None)
        if due is None:
            break
        item, line = await _climb(ctx, item, due, targets, clock)
        if line is not None:
            lines.append(line)
    fresh = next_followup(item, targets, clock)
    if fresh != item.next_followup_at:  # e.g. rows an upgrade marked for a first look
        await ctx.uow.items.save(item.evolve(next_followup_at=fresh))
    return lines


async def _climb(ctx: Ctx, item: Item, due: Due, targets: SlaTargets,
                 clock: TeamClock) -> tuple[Item, Rich | None]:
    deadline = item.ack_deadline if due.target == ACK else item.resolve_deadline
    if due.kind == "remind" and deadline is not None and deadline <= ctx.now:
        # Found late (Baton was down): the breach is due as well, a reminder is only noise.
        return await _save(ctx, _progressed(item, due), targets, clock), None
    if due.kind == "stall":
        due = _caught_up(item, due, clock, ctx.now)
    claimed = await ctx.uow.followups.claim(Claim(
        ctx.workspace, item.number, due.target, due.step, due.kind, item.team, ctx.now))
    changed = _progressed(item, due)
    if not claimed:  # done before (another replica, or before a restart): just catch up
        return await _save(ctx, changed, targets, clock), None
    zone = _team_zone(ctx, item.team)
    if due.kind == "remind":
        assert deadline is not None
        return await _remind(ctx, item, changed, due, deadline, zone, targets, clock)
    if due.kind == "breach":
        assert deadline is not None
        saved = await _save(ctx, changed, targets, clock)
        note = say.breach_note(item, due.target, deadline, zone)
        await ctx.record("breach", item, saved, text=note, actor="baton")
        return saved, say.change_line("breach", "baton", saved, note)
    if due.kind == "escalate":
        assert deadline is not None
        return await _escalate(ctx, item, changed, due, deadline, zone, targets, clock)
    return await _stall(ctx, item, changed, zone, targets, clock)


async def _remind(ctx: Ctx, item: Item, changed: Item, due: Due, deadline: datetime,
                  zone: ZoneInfo, targets: SlaTargets, clock: TeamClock) -> tuple[Item, Rich]:
    saved = await _save(ctx, changed, targets, clock)
    people = _answerable(ctx, saved)
    note = say.reminder_note(saved, due.target, deadline, zone, people)
    event = await ctx.record("remind", item, saved, text=note, actor="baton")
    for person in people:
        text = say.reminder(saved, due.target, deadline, ctx.zone_of(person), ctx.now)
        await ctx.dm(event, person, text, saved)
    return saved, say.change_line("remind", "baton", saved, note)


async def _escalate(ctx: Ctx, item: Item, changed: Item, due: Due, deadline: datetime,
                    zone: ZoneInfo, targets: SlaTargets, clock: TeamClock) -> tuple[Item, Rich]:
    number = int(due.step)
    step = clock.chain[number - 1]
    people, to_team = _escalation_audience(ctx, item, step)
    new_owner = _reassignee(ctx, item, step)
    changed = changed.evolve(escalation_level=max(item.escalation_level, number))
    if new_owner is not None:
        changed = changed.evolve(owner=new_owner)
    saved = await _save(ctx, changed, targets, clock)
    note = say.escalation_note(item, due.target, deadline, ctx.now, number, len(clock.chain),
                               people, to_team, new_owner)
    event = await ctx.record("escalate", item, saved, text=note, actor="baton")
    for person in people:
        text = say.escalation(saved, due.target, deadline, ctx.zone_of(person), ctx.now, number,
                              len(clock.chain), new_owner)
        await ctx.dm(event, person, text, saved)
    if to_team:
        text = say.escalation(saved, due.target, deadline, zone, ctx.now, number,
                              len(clock.chain), new_owner)
        await ctx.tell_team(event, to_team, text, saved)
    return saved, say.change_line("escalate", "baton", saved, note)


async def _stall(ctx: Ctx, item: Item, changed: Item, zone: ZoneInfo, targets: SlaTargets,
                 clock: TeamClock) -> tuple[Item, Rich]:
    saved = await _save(ctx, changed, targets, clock)
    people = _answerable(ctx, saved)
    note = say.nudge_note(saved, zone, people)
    event = await ctx.record("stall", item, saved, text=note, actor="baton")
    for person in people:
        await ctx.dm(event, person, say.nudge(saved, ctx.zone_of(person)), saved)
    return saved, say.change_line("stall", "baton", saved, note)


def _progressed(item: Item, due: Due) -> Item:
    if due.target == ACK:
        return item.evolve(ack_stage=due.stage)
    if due.target == RESOLVE:
        return item.evolve(resolve_stage=due.stage)
    return item.evolve(stalls=due.stage)


def _caught_up(item: Item, due: Due, clock: TeamClock, now: datetime) -> Due:
    """After a long quiet spell only the latest overdue nudge is sent, not one per period."""
    assert clock.stall_every is not None
    every = clock.calendar.working(clock.stall_every)
    count = due.stage
    while clock.calendar.add(item.updated_at, every * (count + 1)) <= now:
        count += 1
    return Due(due.at, STALL, _nudge_step(item, count), "stall", count)


async def _save(ctx: Ctx, item: Item, targets: SlaTargets, clock: TeamClock) -> Item:
    return await ctx.uow.items.save(
        item.evolve(next_followup_at=next_followup(item, targets, clock)))


def _lead(ctx: Ctx, team: str) -> str | None:
    found = ctx.directory.team(team)
    return found.lead if found else None


def _team_zone(ctx: Ctx, team: str) -> ZoneInfo:
    found = ctx.directory.team(team)
    return ZoneInfo(found.time_zone) if found else ZoneInfo("UTC")


def _answerable(ctx: Ctx, item: Item) -> list[str]:
    """Who should act on the item now: its pending approvers, or its owner, or else the lead."""
    if item.kind is Kind.APPROVAL:
        people = pending_approvers(item)
    else:
        people = [item.owner] if item.owner else []
    if not people:
        lead = _lead(ctx, item.team)
        people = [lead] if lead else []
    return people


def _escalation_audience(ctx: Ctx, item: Item,
                         step: ChainStep) -> tuple[list[str], str | None]:
    """The people to DM, and the team whose channel to post in, for one chain step."""
    if step.notify == "owner":
        return _answerable(ctx, item), None
    if step.notify == "lead":
        lead = _lead(ctx, item.team)
        return ([lead], None) if lead else ([], item.team)
    if step.notify == "person" and step.person:
        found = ctx.directory.person(step.person)
        return [found.id if found else step.person], None
    return [], item.team


def _reassignee(ctx: Ctx, item: Item, step: ChainStep) -> str | None:
    """Whom the step hands the item to, if anyone new (approvals are never reassigned)."""
    if step.reassign_to is None or item.kind is Kind.APPROVAL:
        return None
    person = _lead(ctx, item.team) if step.reassign_to == "lead" else \
        step.person if step.reassign_to == "person" else None
    if person is not None:
        found = ctx.directory.person(person)
        person = found.id if found else person
    return person if person and person != item.owner else None
