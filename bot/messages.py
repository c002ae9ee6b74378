"""Messages the core wants sent. Written to the outbox with the change that causes them.

A message names its audience (a person, a team, the copies of an item's card), never a
platform or a channel: each surface that delivers finds where that audience is on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.rich import Rich


class Audience(StrEnum):
    CARD = "card"  # an item's new card: where the item was raised, and its team's channels
    CARD_UPDATE = "card_update"  # refresh every posted copy of the item's card
    THREAD = "thread"  # a line under the item's card (each posted copy's thread)
    PERSON = "person"  # a direct message to one person
    TEAM = "team"  # a message to a team: its channel on each surface that has one


#: What concerns an item's card: the card, its updates and the lines in its thread.
ABOUT_A_CARD = frozenset({Audience.CARD, Audience.CARD_UPDATE, Audience.THREAD})
#: What needs the item's card posted first: an update of it, a line in its thread.
AFTER_THE_CARD = frozenset({Audience.CARD_UPDATE, Audience.THREAD})


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver. `key` is unique: a retried delivery never posts twice.

    `to` is a person id (PERSON), a team name (TEAM, CARD) or the item's number (CARD_UPDATE,
    THREAD). `action` is what happened (the event's action: created, accept, remind, digest…),
    for surfaces that say it their own way (webhooks, notifications); `event` is that event's
    place in its workspace's audit chain (its seq), so such a surface can name the change the
    same way on every retry."""

    workspace: str
    audience: Audience
    to: str
    text: Rich
    key: str
    item: int | None = None
    card: dict[str, Any] | None = None
    # A file to upload with the text (a digest's chart), relative to the data directory; the
    # outbox worker renders it from card["chart"] if it does not exist yet.
    attachment: str | None = None
    action: str = ""
    # Where the item was raised, `<surface>:<conversation>`, for the surface that posts its
    # card there as well as in the team's channel.
    origin: str = ""
    event: int | None = None
