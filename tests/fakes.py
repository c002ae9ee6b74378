"""In-memory fakes that subclass the real ports, for fast unit and property tests."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.events import GENESIS, Event, EventDraft, seal
from bot.items import Absence, Item, Kind, Priority
from bot.messages import Outgoing, Queued
from bot.people import Directory, Person, SlaTargets, Team
from bot.ports import (
    Absences,
    CardPost,
    CardPosts,
    ConcurrentChange,
    EventLog,
    ItemQuery,
    ItemRepository,
    Outbox,
    UnitOfWork,
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

    async def claim(self, limit: int, now: datetime) -> list[Queued]:
        return [Queued(i, m, 0) for i, m in enumerate(self.world.outbox)
                if i not in self.world.sent][:limit]

    async def sent(self, message_id: int, now: datetime) -> None:
        self.world.sent.add(message_id)

    async def failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        pass


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

    async def commit(self) -> None:
        self.shared.__dict__.update(copy.deepcopy(self.work).__dict__)

    async def rollback(self) -> None:
        pass


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class FakeDirectory(Directory):
    """Teams `release` (lead lena: alice, bob) and `eval` (lead ed: carol, dave); admin root."""

    def __init__(self) -> None:
        self._people = {p: Person(p, p.capitalize(), "Europe/London")
                        for p in ("alice", "bob", "carol", "dave", "lena", "ed", "root")}
        self._teams = [Team("release", "lena", ("alice", "bob")),
                       Team("eval", "ed", ("carol", "dave"))]

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
        return SlaTargets(timedelta(hours=4), timedelta(days=3))
