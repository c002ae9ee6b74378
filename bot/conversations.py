"""Conversations a surface may post in later without being spoken to first, and the port that
keeps them. Teams lets a bot message a chat, a group chat or a channel only through a
conversation reference it was given (when it was installed there, or first spoken to there);
the surface keeps what it needs here, so every replica and every restart can reach them.

The core never reads these: only surfaces do, to deliver what the core asked for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Conversation:
    """One conversation as its surface describes it. `reference` is whatever the surface
    needs to continue it (for Teams: the service URL, the bot's account, the tenant)."""

    surface: str
    id: str  # the platform's conversation id
    kind: str  # personal, groupChat or channel
    reference: Mapping[str, Any] = field(default_factory=dict)
    account: str = ""  # personal: the user's account id on the surface (an AAD object id)
    tenant: str = ""
    team: str = ""  # channel: the platform's team it belongs to


class Conversations(ABC):
    """Each call is a short transaction of its own."""

    @abstractmethod
    async def keep(self, conversation: Conversation) -> None:
        """Remember the conversation, or what changed about it (a new service URL)."""

    @abstractmethod
    async def get(self, surface: str, conversation_id: str) -> Conversation | None: ...

    @abstractmethod
    async def personal(self, surface: str, account: str) -> Conversation | None:
        """The one-to-one chat of this account with the bot, if Baton was given it."""

    @abstractmethod
    async def latest(self, surface: str, tenant: str = "") -> Conversation | None:
        """The conversation (of this tenant, when given) kept most recently: where to find the
        surface's service to open a new chat."""

    @abstractmethod
    async def forget(self, surface: str, conversation_id: str) -> None:
        """The bot was removed from it: nothing more can be posted there."""
