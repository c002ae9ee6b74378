"""Systems that use Baton through its API (a release pipeline, an AI agent), and the records the
API keeps for them: their tokens, the requests they made, their webhook subscriptions.

The ports here are implemented by store/ and used by the API surface; each call is one short
transaction of its own, apart from the core's units of work.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.events import Event
from bot.items import Item, State


class Scope(StrEnum):
    """What a token may do. Deciding is never implied: it is granted on its own."""

    READ = "items:read"  # get, list and wait for items
    WRITE = "items:write"  # raise items, comment, cancel (and read)
    DECIDE = "items:decide"  # approve or reject, as the token's owner
    WEBHOOKS = "webhooks:write"  # register and remove callback URLs

    @classmethod
    def implied(cls, granted: frozenset[Scope]) -> frozenset[Scope]:
        """The scopes a grant carries: writing or deciding on items includes reading them."""
        return granted | {cls.READ} if granted & {cls.WRITE, cls.DECIDE} else granted


@dataclass(frozen=True)
class Client:
    """One token of a named client: its team, what it may do and on whose behalf it acts."""

    id: int
    name: str
    team: str
    scopes: frozenset[Scope]
    owner: str | None  # the person the client acts for; None: in its own name
    prefix: str  # the token's first characters, to tell tokens apart in lists
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    signing_secret: str = ""  # signs this client's webhook deliveries

    @property
    def actor(self) -> str:
        """Whom the core sees acting: the owner, else the client itself."""
        return self.owner or self.name

    def may(self, scope: Scope) -> bool:
        return scope in Scope.implied(self.scopes)


class Clients(ABC):
    """API clients' tokens, stored as hashes."""

    @abstractmethod
    async def add(self, client: Client, token_hash: str) -> Client:
        """Store a new token; the returned client carries its id."""

    @abstractmethod
    async def by_hash(self, token_hash: str) -> Client | None:
        """The unrevoked token with this hash, if any."""

    @abstractmethod
    async def listed(self) -> list[Client]:
        """Every token, revoked ones included, oldest first."""

    @abstractmethod
    async def revoke(self, ref: str, now: datetime) -> list[Client]:
        """Revoke the tokens of client `ref` (a name) or the one token `ref` (an id or
        prefix); returns those revoked now."""

    @abstractmethod
    async def used(self, client_id: int, now: datetime) -> None:
        """Record the token's last use."""


@dataclass(frozen=True)
class ApiRequest:
    """An item raised through the API: written before the item, so what the caller sent
    with it (its metadata, links, callback) is never lost and a retry finds its result."""

    id: str  # also the item's source message, and the core's delivery key
    client_id: int
    workspace: str
    body_hash: str
    created_at: datetime
    key: str | None = None  # the caller's Idempotency-Key
    item: int | None = None  # set once the item exists
    status: int = 0  # the HTTP status answered; 0 while in progress
    metadata: dict[str, Any] | None = None
    links: tuple[dict[str, str], ...] = ()
    callback_url: str | None = None


class ApiRequests(ABC):
    @abstractmethod
    async def begin(self, request: ApiRequest, forget_keys_before: datetime) -> ApiRequest:
        """Record a new request, or return the one already recorded under the same client
        and Idempotency-Key (keys recorded before `forget_keys_before` are forgotten)."""

    @abstractmethod
    async def finish(self, request_id: str, item: int, status: int) -> None: ...

    @abstractmethod
    async def drop(self, request_id: str) -> None:
        """Forget a request that raised nothing (the core refused it)."""

    @abstractmethod
    async def of_item(self, workspace: str, request_id: str) -> ApiRequest | None:
        """The request that raised an item (its source message), if the API raised it."""

    @abstractmethod
    async def item_raised_by(self, workspace: str, request_id: str) -> int | None:
        """The number of the item whose source is this request, if it exists (a request
        whose answer was lost in a crash)."""


@dataclass(frozen=True)
class Subscription:
    """A callback URL receiving a client's item events: all of them, or one item's."""

    id: int
    client_id: int
    url: str
    workspace: str
    item: int | None = None
    created_at: datetime | None = None


class Subscriptions(ABC):
    @abstractmethod
    async def add(self, subscription: Subscription) -> Subscription: ...

    @abstractmethod
    async def of_client(self, client_id: int) -> list[Subscription]: ...

    @abstractmethod
    async def remove(self, client_id: int, subscription_id: int) -> bool: ...

    @abstractmethod
    async def for_item(self, workspace: str, item: int, team: str,
                       request_id: str | None) -> list[tuple[Subscription, Client]]:
        """Every live subscription that should hear about this item: per-item ones, and the
        per-client ones of clients that may see it (its team, or they raised it)."""


@dataclass(frozen=True)
class Receipt:
    """What one receiver answered to one webhook delivery (its `webhook-id`): accepted, or
    refused for good. `receiver` tells receivers apart (a client's callback URL)."""

    webhook_id: str
    receiver: str
    status: int  # the HTTP status it answered
    at: datetime
    refused: bool = False


class Receipts(ABC):
    """Which receivers have had which webhook deliveries: kept as each answers, so that a
    delivery retried for one receiver, or after a crash, is not posted again to the others."""

    @abstractmethod
    async def of(self, webhook_ids: list[str]) -> dict[tuple[str, str], Receipt]:
        """The receipts kept for these deliveries, by (webhook id, receiver)."""

    @abstractmethod
    async def keep(self, receipt: Receipt) -> None:
        """Record one receiver's answer; one kept already stays as it is."""


@dataclass(frozen=True)
class Mark:
    """Where an item stands, to tell whether it moved."""

    state: State
    version: int


@dataclass(frozen=True)
class PageQuery:
    """Items a client may see (its team's, or those it raised), by number after `after`."""

    team: str
    client: str
    states: tuple[State, ...] = tuple(State)
    kind: str | None = None
    updated_since: datetime | None = None
    after: int = 0
    limit: int = 50


@dataclass(frozen=True)
class ItemRead:
    """An item as the API shows it: with the request that raised it (if the API did), and its
    trail when asked for."""

    item: Item
    raised: ApiRequest | None = None
    events: list[Event] | None = None


class ItemIndex(ABC):
    """Cheap reads of items for the API, outside the core's units of work."""

    @abstractmethod
    async def marks(self, workspace: str, numbers: list[int]) -> dict[int, Mark]:
        """The state and version of each existing item, in one read."""

    @abstractmethod
    async def page(self, workspace: str, query: PageQuery) -> list[int]:
        """The numbers of the matching items, ascending, at most `query.limit`."""

    @abstractmethod
    async def items(self, workspace: str, numbers: list[int]) -> list[ItemRead]:
        """These items (those that exist), in the order asked, each with its API request."""

    @abstractmethod
    async def item(self, workspace: str, number: int, *,
                   trail: bool = False) -> ItemRead | None:
        """One item with its API request and, with `trail`, its events, in one read."""

    @abstractmethod
    async def change(self, workspace: str, number: int,
                     seq: int) -> tuple[ItemRead, Event] | None:
        """One item with its API request, and the event `seq` of its trail, in one read;
        None if either is not there."""


IDEMPOTENCY_KEPT = timedelta(hours=24)
