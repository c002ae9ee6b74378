"""The interfaces the core needs. store/ and adapters/ implement them; tests fake them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol

from bot.events import Event, EventDraft
from bot.items import Absence, Item, Kind, State
from bot.messages import Outgoing, Queued


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
    @abstractmethod
    async def put(self, message: Outgoing) -> None:
        """Queue a message; a second message with the same key is ignored."""

    @abstractmethod
    async def claim(self, limit: int, now: datetime) -> list[Queued]:
        """Messages ready for delivery, oldest first."""

    @abstractmethod
    async def sent(self, message_id: int, now: datetime) -> None: ...

    @abstractmethod
    async def failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; with no retry_at the message is parked."""


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


class UnitOfWork(ABC):
    """One transaction: everything done through it commits together or not at all."""

    items: ItemRepository
    events: EventLog
    outbox: Outbox
    absences: Absences
    posts: CardPosts

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


UnitOfWorkFactory = Callable[[], UnitOfWork]


class DeliveryFailed(Exception):
    """A message could not be delivered now. `retry_after` (seconds) is the platform's own wish
    (Retry-After); `permanent` means retrying cannot help (channel gone, bad token)."""

    def __init__(self, reason: str, *, retry_after: float | None = None,
                 permanent: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Transport(ABC):
    """A platform's way of delivering outbox messages (Slack, Teams, the console)."""

    surface: str

    @abstractmethod
    async def deliver(self, message: Outgoing) -> None:
        """Deliver one message or raise DeliveryFailed. Called outside any unit of work; a
        transport that must read or record card posts opens its own, briefly."""


class Deduplicator(ABC):
    """Remembers keys (a platform's event id, a click's action ts) to act on each only once."""

    @abstractmethod
    async def first_time(self, key: str, ttl: timedelta) -> bool:
        """True the first time `key` is seen within `ttl`; False for every repeat."""
