"""Messages the core wants sent. Written to the outbox with the change that causes them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Delivery(StrEnum):
    CARD = "card"  # post an item's card where it was raised (or the team's channel)
    CARD_UPDATE = "card_update"  # refresh every posted copy of the item's card
    THREAD = "thread"  # a line in the thread under the item's card
    DM = "dm"  # a direct message to one person
    CHANNEL = "channel"  # a message to a team's channel


#: What concerns an item's card: the card, its updates and the lines in its thread.
ABOUT_A_CARD = frozenset({Delivery.CARD, Delivery.CARD_UPDATE, Delivery.THREAD})
#: What needs the item's card posted first: an update of it, a line in its thread.
AFTER_THE_CARD = frozenset({Delivery.CARD_UPDATE, Delivery.THREAD})


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver. `key` is unique: a retried delivery never posts twice."""

    workspace: str
    delivery: Delivery
    to: str
    text: str
    key: str
    item: int | None = None
    card: dict[str, Any] | None = None
    # A file to upload with the text (a digest's chart), relative to the data directory; the
    # outbox worker renders it from card["chart"] if it does not exist yet.
    attachment: str | None = None


@dataclass(frozen=True)
class Queued:
    """An outbox row as a deliverer claims it."""

    id: int
    message: Outgoing
    attempts: int
    # The previous attempt ended without a recorded outcome (its deliverer died holding the
    # lease): the platform may have the message already, so ask before posting again.
    uncertain: bool = False
