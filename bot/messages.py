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


@dataclass(frozen=True)
class Queued:
    """An outbox row as a deliverer claims it."""

    id: int
    message: Outgoing
    attempts: int
