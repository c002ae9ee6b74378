"""What the delivery side implements: the queue the outbox worker takes messages from, and the
transports that deliver them, one per surface. The core never calls these; it only writes
messages (bot.ports.Outbox). Each platform's pacing rules live with its transport.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.messages import ABOUT_A_CARD, Audience, Outgoing


@dataclass(frozen=True)
class Delivering:
    """What one surface takes from the outbox: the audiences it is given a row for (a message
    to any other audience is not kept for it at all), and whether its messages about an item
    keep their order there (`ordered`: an update or a thread line waits until the item's card
    is posted on that surface)."""

    audiences: frozenset[Audience] = frozenset(Audience)
    ordered: bool = True


#: A chat surface: every message, an item's in the order they were written.
EVERY_MESSAGE = Delivering()
#: A surface that reports what happens to items (webhooks): an item's new card and each of its
#: changes, nothing addressed to a person, a team or a thread, and each change standing alone
#: (it carries its own number to order by).
ITEM_CHANGES = Delivering(frozenset({Audience.CARD, Audience.CARD_UPDATE}), ordered=False)


@dataclass(frozen=True)
class Queued:
    """An outbox row as a deliverer takes it: one message, for one surface."""

    id: int
    surface: str
    message: Outgoing
    attempts: int
    # The previous attempt ended without a recorded outcome (its deliverer died holding the
    # lease): the platform may have the message already, so ask before posting again.
    uncertain: bool = False


@dataclass(frozen=True)
class OutboxStats:
    """The outbox's depth: messages waiting (and how many of them are ready now), parked ones,
    and the age in seconds of the oldest ready message."""

    pending: int
    ready: int
    parked: int
    oldest_ready_age: float


class OutboxQueue(ABC):
    """The outbox as the delivery worker sees it. Each call is one short transaction of its
    own; none is held across a call to a platform."""

    @abstractmethod
    async def lease(self, limit: int, now: datetime, worker: str, lease: timedelta,
                    surfaces: Sequence[str]) -> list[Queued]:
        """Ready messages for these surfaces, oldest first, held by `worker` until
        `now + lease`; one taken again after its holder vanished comes back `uncertain`."""

    @abstractmethod
    async def sent(self, message_ids: Sequence[int], now: datetime) -> None:
        """Record these messages delivered (the worker records them in batches)."""

    @abstractmethod
    async def skipped(self, message_id: int, reason: str, now: datetime) -> None:
        """The surface has no one to deliver to (the person is not on it, the team has no
        channel there): done, and not an error."""

    @abstractmethod
    async def failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; with no retry_at the message is parked."""

    @abstractmethod
    async def postpone(self, message_ids: Sequence[int], until: datetime) -> None:
        """Give leased messages back, to be tried at `until`; no attempt is counted."""

    @abstractmethod
    async def release(self, worker: str, now: datetime) -> int:
        """Make what `worker` held ready again (it restarted); returns how many."""

    @abstractmethod
    async def stats(self, now: datetime) -> OutboxStats: ...

    async def outcomes(self, key: str) -> list[tuple[str, str, str]]:
        """Each surface's row of one message (by its key): surface, state, last error. Empty
        when the queue cannot tell."""
        return []


class DeliveryFailed(Exception):
    """A message could not be delivered now. `retry_after` (seconds) is the platform's own wish
    (Retry-After); `permanent` means retrying cannot help (channel gone, bad token)."""

    def __init__(self, reason: str, *, retry_after: float | None = None,
                 permanent: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class NotHere(Exception):
    """The audience is not on this surface (a person with no account there, a team with no
    channel there): nothing to deliver, nothing failed. str() says why, for the record."""


@dataclass(frozen=True)
class Pacing:
    """How fast one place (a channel, a DM) may receive messages: a slot every `interval`, up
    to `burst` at once after a quiet spell."""

    interval: timedelta = timedelta(seconds=1)
    burst: int = 1

    @property
    def unlimited(self) -> bool:
        return self.interval <= timedelta()


UNPACED = Pacing(timedelta())


class Transport(ABC):
    """One surface's way of delivering outbox messages (Slack, Teams, the console…)."""

    surface: str
    #: What the platform allows per conversation; places() may name more than one place.
    pacing: Pacing = UNPACED
    #: Whether the messages of one conversation must not overtake each other (a chat thread):
    #: a failed one holds back the rest of its conversation, and a Retry-After holds its
    #: places. False: once tried, each message stands alone, so a failure or a Retry-After
    #: delays that message only (webhooks: one receiver's failure must not hold back what
    #: every other receiver is owed; see Delivering.ordered for the outbox's side).
    ordered: bool = True

    @abstractmethod
    async def deliver(self, message: Outgoing) -> None:
        """Deliver one message, or raise DeliveryFailed, or NotHere when its audience is not
        on this surface. Called outside any unit of work; a transport that must read or record
        card posts opens its own, briefly."""

    def conversation(self, message: Outgoing) -> str:
        """Where the message lands, for order: an item's card, its updates and its thread
        share one conversation and go out in the order they were queued; messages of one
        conversation never overtake each other, and one conversation never waits for another."""
        if message.item is not None and message.audience in ABOUT_A_CARD:
            return f"{message.workspace}/item/{message.item}"
        return f"{message.workspace}/{message.audience.value}/{message.to}"

    def places(self, message: Outgoing) -> tuple[str, ...]:
        """Where the message counts toward the platform's pace: its conversation, and any
        place the platform counts it in as well (Slack: a new card, in its channel too)."""
        return (self.conversation(message),)

    async def delivered_already(self, message: Outgoing) -> bool:
        """Whether the platform already has this message (found by its key), asked before
        re-posting one whose last attempt ended without an outcome. False: cannot tell."""
        return False
