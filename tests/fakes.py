"""In-memory fakes that subclass the real ports, for fast unit and property tests."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.delivery import OutboxQueue, OutboxStats, Queued
from bot.events import GENESIS, Event, EventDraft, seal
from bot.figures import (
    AGE_BUCKETS,
    DailyFigures,
    Listing,
    Spread,
    TrendPoint,
    Week,
    WeeklyFigures,
    age_bucket,
    percentile,
)
from bot.items import Absence, Item, Kind, Priority, State
from bot.messages import Outgoing
from bot.people import Directory, Identity, Person, SlaTargets, Team, TeamClock
from bot.ports import (
    Absences,
    Accounts,
    CardPost,
    CardPosts,
    Claim,
    ConcurrentChange,
    Deliveries,
    EventLog,
    Followups,
    ItemQuery,
    ItemRepository,
    Outbox,
    Statistics,
    UnitOfWork,
    UnitOfWorkFactory,
)


@dataclass
class World:
    """What a fake database holds; units of work copy it and write back on commit."""

    items: dict[tuple[str, int], Item] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    outbox: list[Outgoing] = field(default_factory=list)
    absences: dict[tuple[str, str], Absence] = field(default_factory=dict)
    sent: set[int] = field(default_factory=set)
    posts: list[CardPost] = field(default_factory=list)
    followups: list[Claim] = field(default_factory=list)
    deliveries: dict[str, datetime] = field(default_factory=dict)


class FakeItems(ItemRepository):
    def __init__(self, world: World) -> None:
        self.world = world

    async def allocate_number(self, workspace: str) -> int:
        self.world.numbers[workspace] = self.world.numbers.get(workspace, 0) + 1
        return self.world.numbers[workspace]

    async def add(self, item: Item) -> None:
        self.world.items[(item.workspace, item.number)] = item.evolve(version=1)

    async def get(self, workspace: str, number: int) -> Item | None:
        return self.world.items.get((workspace, number))

    async def save(self, item: Item) -> Item:
        stored = self.world.items[(item.workspace, item.number)]
        if stored.version != item.version:
            raise ConcurrentChange(item.ref)
        saved = item.evolve(version=item.version + 1)
        self.world.items[(item.workspace, item.number)] = saved
        return saved

    async def find(self, workspace: str, query: ItemQuery) -> list[Item]:
        def keep(i: Item) -> bool:
            return (
                i.workspace == workspace and i.state in query.states
                and (query.owner is None or i.owner == query.owner)
                and (query.requester is None or i.requester == query.requester)
                and (query.approver is None or (
                    query.approver in i.approvers
                    and query.approver not in {d.approver for d in i.decisions}))
                and (query.team is None or i.team == query.team)
                and (query.kind is None or i.kind == query.kind)
                and (query.due_before is None or any(
                    d is not None and d < query.due_before for d in (i.due_at, i.resolve_deadline)))
            )
        far = datetime.max.replace(tzinfo=None)
        found = sorted((i for i in self.world.items.values() if keep(i)), key=lambda i: (
            min([d.replace(tzinfo=None) for d in (i.due_at, i.resolve_deadline) if d] or [far]),
            i.number))
        return found[: query.limit]

    async def blocked_on(self, workspace: str, number: int) -> list[Item]:
        return [i for i in self.world.items.values()
                if i.workspace == workspace and i.blocked_on == number
                and i.state.value == "blocked"]

    async def due_followups(self, workspace: str, now: datetime, limit: int) -> list[Item]:
        due = [i for i in self.world.items.values() if i.workspace == workspace
               and i.next_followup_at is not None and i.next_followup_at <= now]
        return sorted(due, key=lambda i: (i.next_followup_at or now, i.number))[:limit]


class FakeEvents(EventLog):
    def __init__(self, world: World) -> None:
        self.world = world

    async def append(self, draft: EventDraft) -> Event:
        seq, prev = await self.head(draft.workspace)
        event = seal(draft, seq + 1, prev)
        self.world.events.append(event)
        return event

    async def for_item(self, workspace: str, number: int) -> list[Event]:
        return [e for e in self.world.events if e.workspace == workspace and e.item == number]

    async def all(self, workspace: str) -> list[Event]:
        return [e for e in self.world.events if e.workspace == workspace]

    async def head(self, workspace: str) -> tuple[int, str]:
        mine = await self.all(workspace)
        return (mine[-1].seq, mine[-1].hash) if mine else (0, GENESIS)

    async def workspaces(self) -> list[str]:
        return sorted({e.workspace for e in self.world.events})


class FakeOutbox(Outbox):
    def __init__(self, world: World) -> None:
        self.world = world

    async def put(self, message: Outgoing) -> None:
        if all(m.key != message.key for m in self.world.outbox):
            self.world.outbox.append(message)


class FakeQueue(OutboxQueue):
    """The world's outbox as one surface's delivery queue (what is not sent is ready)."""

    def __init__(self, world: World, surface: str = "console") -> None:
        self.world = world
        self.surface = surface

    async def lease(self, limit: int, now: datetime, worker: str, lease: timedelta,
                    surfaces: Sequence[str]) -> list[Queued]:
        found = [Queued(i, self.surface, m, 0) for i, m in enumerate(self.world.outbox)
                 if i not in self.world.sent][:limit]
        self.world.sent.update(q.id for q in found)  # held: a fake lease never expires
        return found

    async def sent(self, message_ids: Sequence[int], now: datetime) -> None:
        self.world.sent.update(message_ids)

    async def skipped(self, message_id: int, reason: str, now: datetime) -> None:
        self.world.sent.add(message_id)

    async def failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        pass

    async def postpone(self, message_ids: Sequence[int], until: datetime) -> None:
        self.world.sent.difference_update(message_ids)

    async def release(self, worker: str, now: datetime) -> int:
        return 0

    async def stats(self, now: datetime) -> OutboxStats:
        waiting = len(self.world.outbox) - len(self.world.sent)
        return OutboxStats(waiting, waiting, 0, 0.0)


class FakeFollowups(Followups):
    def __init__(self, world: World) -> None:
        self.world = world

    async def claim(self, claim: Claim) -> bool:
        key = (claim.workspace, claim.item, claim.target, claim.step)
        if any((c.workspace, c.item, c.target, c.step) == key for c in self.world.followups):
            return False
        self.world.followups.append(claim)
        return True


_LIVE = (State.OPEN, State.ACTIVE, State.BLOCKED)
_WEEK = timedelta(days=7)


class FakeStatistics(Statistics):
    """The digest figures computed item by item: the reference the SQL aggregates must match."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _team(self, workspace: str, team: str) -> list[Item]:
        return [i for i in self.world.items.values()
                if i.workspace == workspace and i.team == team]

    async def daily(self, workspace: str, team: str, now: datetime, day_end: datetime,
                    limit: int) -> DailyFigures:
        live = [i for i in self._team(workspace, team) if i.state in _LIVE]

        def listing(items: list[Item], key: object) -> Listing:
            ordered = sorted(items, key=key)  # type: ignore[arg-type]
            return Listing(tuple(ordered[:limit]), len(ordered))

        return DailyFigures(
            blocked=listing([i for i in live if i.state is State.BLOCKED],
                            lambda i: (i.updated_at, i.number)),
            overdue=listing([i for i in live if i.state is not State.BLOCKED and any(
                d is not None and d <= now for d in (i.due_at, i.resolve_deadline))],
                lambda i: i.number),
            unassigned=listing([i for i in live if i.kind is Kind.EXCEPTION and i.owner is None],
                               lambda i: (i.created_at, i.number)),
            approvals=listing([i for i in live if i.kind is Kind.APPROVAL
                               and i.state is not State.BLOCKED],
                              lambda i: (i.created_at, i.number)),
            due_today=listing([i for i in live if i.due_at and now < i.due_at < day_end],
                              lambda i: (i.due_at, i.number)),
        )

    async def weekly(self, workspace: str, team: str, now: datetime,
                     weeks: int = 8) -> WeeklyFigures:
        items = self._team(workspace, team)

        def open_at(at: datetime) -> list[Item]:
            return [i for i in items if i.created_at < at
                    and (i.closed_at is None or i.closed_at >= at)]

        def within(instant: datetime | None, start: datetime, end: datetime) -> bool:
            return instant is not None and start <= instant < end

        def spread(pairs: list[tuple[datetime, datetime]]) -> Spread:
            values = sorted((end - start).total_seconds() for start, end in pairs)
            if not values:
                return Spread()
            return Spread(len(values), timedelta(seconds=round(percentile(values, 0.5) or 0, 3)),
                          timedelta(seconds=round(percentile(values, 0.9) or 0, 3)))

        def week(start: datetime, end: datetime) -> Week:
            acked = [i for i in items if within(i.acked_at, start, end)]
            done = [i for i in items if i.state is State.DONE and within(i.closed_at, start, end)]
            still = open_at(end)
            load: dict[str, int] = {}
            for i in still:
                load[i.owner or ""] = load.get(i.owner or "", 0) + 1
            backlog: dict[str, int] = {}
            for i in still:
                label = age_bucket(end - i.created_at)
                backlog[label] = backlog.get(label, 0) + 1
            return Week(
                start, end,
                created=_by_kind([i for i in items if within(i.created_at, start, end)]),
                done=_by_kind(done),
                ack=spread([(i.created_at, i.acked_at) for i in acked if i.acked_at]),
                resolve=spread([(i.created_at, i.closed_at) for i in done if i.closed_at]),
                ack_met=sum(1 for i in acked if i.ack_deadline and i.acked_at
                            and i.acked_at <= i.ack_deadline),
                ack_total=sum(1 for i in acked if i.ack_deadline),
                resolve_met=sum(1 for i in done if i.resolve_deadline and i.closed_at
                                and i.closed_at <= i.resolve_deadline),
                resolve_total=sum(1 for i in done if i.resolve_deadline),
                escalations=sum(1 for c in self.world.followups if c.workspace == workspace
                                and c.team == team and c.kind == "escalate"
                                and start <= c.at < end),
                backlog={label: backlog[label] for label, _ in AGE_BUCKETS if label in backlog},
                load=load,
            )

        trend = []
        for k in range(weeks):
            start, end = now - _WEEK * (weeks - k), now - _WEEK * (weeks - k - 1)
            trend.append(TrendPoint(
                end, sum(1 for i in items if within(i.created_at, start, end)),
                sum(1 for i in items if i.state is State.DONE and within(i.closed_at, start, end)),
                len(open_at(end))))
        oldest = sorted((i for i in items if i.state in _LIVE),
                        key=lambda i: (i.created_at, i.number))[:5]
        return WeeklyFigures(team, week(now - _WEEK, now), week(now - 2 * _WEEK, now - _WEEK),
                             tuple(oldest), tuple(trend))


def _by_kind(items: list[Item]) -> dict[Kind, int]:
    counts: dict[Kind, int] = {}
    for i in items:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    return counts


class FakeAbsences(Absences):
    def __init__(self, world: World) -> None:
        self.world = world

    async def get(self, workspace: str, person: str) -> Absence | None:
        return self.world.absences.get((workspace, person))

    async def put(self, absence: Absence) -> None:
        self.world.absences[(absence.workspace, absence.person)] = absence

    async def remove(self, workspace: str, person: str) -> None:
        self.world.absences.pop((workspace, person), None)

    async def delegating_to(self, workspace: str, delegate: str) -> list[Absence]:
        return [a for a in self.world.absences.values()
                if a.workspace == workspace and a.delegate == delegate]

    async def ending_by(self, now: datetime) -> list[Absence]:
        return [a for a in self.world.absences.values() if a.until and a.until <= now]


class FakeCardPosts(CardPosts):
    def __init__(self, world: World) -> None:
        self.world = world

    async def add(self, post: CardPost) -> None:
        if post not in self.world.posts:
            self.world.posts.append(post)

    async def of_item(self, workspace: str, item: int, surface: str) -> list[CardPost]:
        return [p for p in self.world.posts
                if (p.workspace, p.item, p.surface) == (workspace, item, surface)]


class FakeDeliveries(Deliveries):
    def __init__(self, world: World) -> None:
        self.world = world

    async def first_time(self, key: str, now: datetime, ttl: timedelta) -> bool:
        expires = self.world.deliveries.get(key)
        if expires is not None and expires > now:
            return False
        self.world.deliveries[key] = now + ttl
        return True


class FakeUnitOfWork(UnitOfWork):
    """Works on a copy of the world; commit publishes it, anything else discards it."""

    def __init__(self, world: World) -> None:
        self.shared = world
        self.work = copy.deepcopy(world)
        self.items = FakeItems(self.work)
        self.events = FakeEvents(self.work)
        self.outbox = FakeOutbox(self.work)
        self.absences = FakeAbsences(self.work)
        self.posts = FakeCardPosts(self.work)
        self.followups = FakeFollowups(self.work)
        self.stats = FakeStatistics(self.work)
        self.deliveries = FakeDeliveries(self.work)

    async def commit(self) -> None:
        self.shared.__dict__.update(copy.deepcopy(self.work).__dict__)

    async def rollback(self) -> None:
        pass


class FakeUnits(UnitOfWorkFactory):
    """Units of work over one world; `run` is the port's own (the work in this event loop)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.world)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class FakeDirectory(Directory):
    """Teams `release` (lead lena: alice, bob) and `eval` (lead ed: carol, dave); admin root."""

    def __init__(self, clocks: dict[str, TeamClock] | None = None,
                 targets: SlaTargets | None = None) -> None:
        self._people = {p: Person(p, p.capitalize(), "Europe/London")
                        for p in ("alice", "bob", "carol", "dave", "lena", "ed", "root")}
        self._teams = [Team("release", "lena", ("alice", "bob")),
                       Team("eval", "ed", ("carol", "dave"))]
        self._clocks = clocks or {}
        self._targets = targets

    def person(self, handle: str) -> Person | None:
        return self._people.get(handle.lower())

    def team(self, name: str) -> Team | None:
        return next((t for t in self._teams if t.name == name), None)

    def teams(self) -> list[Team]:
        return list(self._teams)

    def default_team(self) -> str:
        return "release"

    def is_admin(self, person: str) -> bool:
        return person == "root"

    def sla(self, team: str, kind: Kind, priority: Priority) -> SlaTargets:
        return self._targets or SlaTargets(timedelta(hours=4), timedelta(days=3))

    def clock(self, team: str) -> TeamClock:
        return self._clocks.get(team, TeamClock())


class FakeAccounts(Accounts):
    """Accounts kept in memory, as the database keeps them."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], tuple[Identity, str]] = {}

    async def all(self) -> list[tuple[Identity, str]]:
        return list(self.kept.values())

    async def find(self, identity: Identity) -> str | None:
        if (found := self.kept.get((identity.surface, identity.id))) is not None:
            return found[1]
        mail = identity.email.lower()
        return next((person for known, person in self.kept.values()
                     if mail and known.email.lower() == mail), None)

    async def add(self, identity: Identity, person: str) -> None:
        self.kept.setdefault((identity.surface, identity.id), (identity, person))
