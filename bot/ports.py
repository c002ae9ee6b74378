"""The interfaces the core calls. store/ and adapters/ implement them; tests fake them. What the
delivery side implements (the outbox queue, transports) is in bot.delivery."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, TypeVar

from bot.events import Event, EventDraft
from bot.figures import DailyFigures, WeeklyFigures
from bot.items import Absence, Item, Kind, State
from bot.messages import Outgoing
from bot.people import Identity


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class ConcurrentChange(Exception):
    """Someone else changed the item between load and save; the command may be retried."""


@dataclass(frozen=True)
class ItemQuery:
    """A filter over one workspace's items; unset fields do not filter."""

    owner: str | None = None
    requester: str | None = None
    approver: str | None = None  # approvals naming this person that they have not decided
    team: str | None = None
    kind: Kind | None = None
    states: tuple[State, ...] = (State.OPEN, State.ACTIVE, State.BLOCKED)
    due_before: datetime | None = None  # due or resolve deadline before this instant
    limit: int = 200


class ItemRepository(ABC):
    @abstractmethod
    async def allocate_number(self, workspace: str) -> int:
        """The next item number of the workspace (#1, #2…), taken for good."""

    @abstractmethod
    async def add(self, item: Item) -> None: ...

    @abstractmethod
    async def get(self, workspace: str, number: int) -> Item | None: ...

    @abstractmethod
    async def save(self, item: Item) -> Item:
        """Store a changed item; raise ConcurrentChange if its version moved meanwhile."""

    @abstractmethod
    async def find(self, workspace: str, query: ItemQuery) -> list[Item]:
        """Matching items, soonest deadline first, then by number."""

    @abstractmethod
    async def blocked_on(self, workspace: str, number: int) -> list[Item]:
        """Items blocked on item `number`."""

    @abstractmethod
    async def due_followups(self, workspace: str, now: datetime, limit: int) -> list[Item]:
        """Items whose `next_followup_at` is at or before `now`, soonest first, read through
        an index so the cost follows what is due, not what is open. Where the database can,
        the rows stay locked for this unit of work and rows another one holds are skipped."""


class EventLog(ABC):
    @abstractmethod
    async def append(self, draft: EventDraft) -> Event:
        """Seal the draft onto its workspace's chain and store it."""

    @abstractmethod
    async def for_item(self, workspace: str, number: int) -> list[Event]: ...

    @abstractmethod
    async def all(self, workspace: str) -> list[Event]:
        """Every event of the workspace in stored order."""

    @abstractmethod
    async def head(self, workspace: str) -> tuple[int, str]:
        """The sequence number and hash of the workspace's last event."""

    @abstractmethod
    async def workspaces(self) -> list[str]: ...


class Outbox(ABC):
    """Where the core writes the messages a change causes, in the change's own transaction
    (bot.delivery is what delivers them)."""

    @abstractmethod
    async def put(self, message: Outgoing) -> None:
        """Queue a message for every surface that delivers; a second message with the same key
        is ignored."""


class Absences(ABC):
    @abstractmethod
    async def get(self, workspace: str, person: str) -> Absence | None: ...

    @abstractmethod
    async def put(self, absence: Absence) -> None: ...

    @abstractmethod
    async def remove(self, workspace: str, person: str) -> None: ...

    @abstractmethod
    async def delegating_to(self, workspace: str, delegate: str) -> list[Absence]: ...

    @abstractmethod
    async def ending_by(self, now: datetime) -> list[Absence]:
        """Absences whose `until` has passed, across workspaces."""


@dataclass(frozen=True)
class CardPost:
    """Where a surface posted an item's card, so later changes update it in place."""

    workspace: str
    item: int
    surface: str
    channel: str
    ref: str  # the platform's message id: Slack's ts, Teams' activity id


class CardPosts(ABC):
    @abstractmethod
    async def add(self, post: CardPost) -> None:
        """Remember a posted card; the same post recorded twice is kept once."""

    @abstractmethod
    async def of_item(self, workspace: str, item: int, surface: str) -> list[CardPost]:
        """Every copy of the item's card on that surface, oldest first."""


@dataclass(frozen=True)
class Claim:
    """One follow-up to do once: `item` 0 stands for work about no single item (a digest)."""

    workspace: str
    item: int
    target: str  # ack, resolve, stall, or digest:daily / digest:weekly
    step: str  # warn, breach, 1, 2… (escalation steps), a nudge's or a period's key
    kind: str  # remind, breach, escalate, stall, digest
    team: str
    at: datetime


class Followups(ABC):
    @abstractmethod
    async def claim(self, claim: Claim) -> bool:
        """Take this follow-up: True the first time, False if it was taken already (by another
        replica, or before a restart). The claim commits or rolls back with the unit of work,
        so it is kept exactly when the work it guards is."""


class Statistics(ABC):
    """Digest figures, computed by the database: aggregates, not every item loaded."""

    @abstractmethod
    async def daily(self, workspace: str, team: str, now: datetime, day_end: datetime,
                    limit: int) -> DailyFigures:
        """The blocker digest's sections, each with at most `limit` items and its total."""

    @abstractmethod
    async def weekly(self, workspace: str, team: str, now: datetime,
                     weeks: int = 8) -> WeeklyFigures:
        """The 7 days to `now` and the 7 before, the oldest open items, and `weeks` weeks of
        created, done and backlog."""


class Deliveries(ABC):
    """Platform deliveries acted on, recorded in the transaction of what they did: a retry
    that arrives after the commit is recognised, and one whose first try did not commit acts
    (neither lost nor done twice)."""

    @abstractmethod
    async def first_time(self, key: str, now: datetime, ttl: timedelta) -> bool:
        """Record `key` for `ttl` from `now`: True if it was not recorded already (or that
        record has expired), False for a repeat."""


class Accounts(ABC):
    """Surface accounts matched to people, kept so every replica and every restart agrees on
    who is who. Each call is a short transaction of its own."""

    @abstractmethod
    async def all(self) -> list[tuple[Identity, str]]:
        """Every account kept, with its person."""

    @abstractmethod
    async def find(self, identity: Identity) -> str | None:
        """The person this account, or another account with its e-mail, was matched to."""

    @abstractmethod
    async def add(self, identity: Identity, person: str) -> None:
        """Keep the match (the account's name, e-mail and zone as the surface gave them)."""


class UnitOfWork(ABC):
    """One transaction: everything done through it commits together or not at all."""

    items: ItemRepository
    events: EventLog
    outbox: Outbox
    absences: Absences
    posts: CardPosts
    followups: Followups
    stats: Statistics
    deliveries: Deliveries

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.rollback()

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def rollback(self) -> None:
        """Undo whatever was not committed; harmless after a commit."""


T = TypeVar("T")


class UnitOfWorkFactory(ABC):
    """Makes units of work: `async with factory() as uow:` drives one from the caller's event
    loop, statement by statement; `await factory.run(work)` hands a whole one to the store,
    which runs it where it runs best (SQLite: on its writer thread, off the event loop)."""

    @abstractmethod
    def __call__(self) -> UnitOfWork: ...

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """`work` done in a new unit of work, which it commits; returns what `work` returns.
        Leaving without a commit rolls back, as `async with` does."""
        async with self() as uow:
            return await work(uow)


class Deduplicator(ABC):
    """Remembers keys (a platform's event id, a click's action ts) to act on each only once."""

    @abstractmethod
    async def first_time(self, key: str, ttl: timedelta) -> bool:
        """True the first time `key` is seen within `ttl`; False for every repeat."""


class Locks(ABC):
    """Short named locks shared by replicas (Redis), or by the tasks of one process."""

    @abstractmethod
    async def acquire(self, name: str, ttl: timedelta) -> str | None:
        """A token if the lock was free (it expires after `ttl`), else None."""

    @abstractmethod
    async def release(self, name: str, token: str) -> None:
        """Free the lock if `token` still holds it."""
