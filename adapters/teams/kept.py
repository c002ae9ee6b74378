"""The conversations Baton may post in later, as Teams gave them: kept through the
Conversations port (so every replica and every restart can reach them) and remembered in
memory, so an activity from a conversation Baton knows writes nothing."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.schema import Activity

from bot.conversations import Conversation, Conversations

log = logging.getLogger(__name__)

SURFACE = "teams"
PERSONAL, GROUP_CHAT, CHANNEL = "personal", "groupChat", "channel"
KEPT_IN_MEMORY = 10_000


def base_id(conversation_id: str) -> str:
    """A channel thread's conversation id (`19:…;messageid=…`) as its channel's."""
    return conversation_id.split(";messageid=", 1)[0]


def kind_of(activity: Activity) -> str:
    conversation = activity.conversation
    kind = str(getattr(conversation, "conversation_type", None) or "")
    if kind in (PERSONAL, GROUP_CHAT, CHANNEL):
        return kind
    if getattr(conversation, "is_group", None):
        return CHANNEL if _channel_data(activity).get("team") else GROUP_CHAT
    return PERSONAL


def tenant_of(activity: Activity) -> str:
    tenant = getattr(activity.conversation, "tenant_id", None)
    if not tenant:
        found = _channel_data(activity).get("tenant")
        tenant = found.get("id") if isinstance(found, dict) else None
    return str(tenant or "")


def team_of(activity: Activity) -> str:
    team = _channel_data(activity).get("team")
    return str(team.get("id") or "") if isinstance(team, dict) else ""


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def conversation_of(activity: Activity) -> Conversation | None:
    """What Baton keeps of the conversation an activity came from (None if it names none)."""
    if activity.conversation is None or not activity.conversation.id or not activity.service_url:
        return None
    kind = kind_of(activity)
    recipient = activity.recipient
    reference: dict[str, Any] = {
        "serviceUrl": activity.service_url, "channelId": activity.channel_id or "msteams",
        "bot": {"id": getattr(recipient, "id", "") or "",
                "name": getattr(recipient, "name", "") or ""},
        "conversationType": kind}
    account = ""
    if kind == PERSONAL:
        sender = activity.from_property
        account = str(getattr(sender, "aad_object_id", None) or "")
        reference["user"] = {"id": getattr(sender, "id", "") or "", "aadObjectId": account,
                             "name": getattr(sender, "name", "") or ""}
    conversation_id = base_id(activity.conversation.id) if kind == CHANNEL \
        else activity.conversation.id
    return Conversation(SURFACE, conversation_id, kind, reference, account,
                        tenant_of(activity), team_of(activity) if kind == CHANNEL else "")


class Kept:
    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations
        self._known: dict[str, Conversation] = {}
        self._personal: dict[str, Conversation] = {}  # by the user's AAD object id

    async def note(self, activity: Activity) -> Conversation | None:
        """Keep the activity's conversation if it is new or moved (another service URL)."""
        found = conversation_of(activity)
        if found is None:
            return None
        if self._known.get(found.id) == found:
            return found
        try:
            await self.conversations.keep(found)
        except Exception:  # the answer matters more; the next activity keeps it again
            log.exception("keeping Teams conversation %s failed", found.id[:40])
            return found
        self._remember(found)
        return found

    async def keep(self, conversation: Conversation) -> None:
        """A conversation Baton opened itself (a 1:1 chat)."""
        await self.conversations.keep(conversation)
        self._remember(conversation)

    async def get(self, conversation_id: str) -> Conversation | None:
        found = self._known.get(conversation_id) or self._known.get(base_id(conversation_id))
        if found is None:
            found = await self.conversations.get(SURFACE, conversation_id) or \
                await self.conversations.get(SURFACE, base_id(conversation_id))
            if found is not None:
                self._remember(found)
        return found

    async def personal(self, account: str) -> Conversation | None:
        found = self._personal.get(account)
        if found is None:
            found = await self.conversations.personal(SURFACE, account)
            if found is not None:
                self._remember(found)
        return found

    async def latest(self, tenant: str = "") -> Conversation | None:
        return await self.conversations.latest(SURFACE, tenant)

    async def forget(self, conversation_id: str) -> None:
        gone = self._known.pop(conversation_id, None)
        if gone is not None and self._personal.get(gone.account) == gone:
            del self._personal[gone.account]
        await self.conversations.forget(SURFACE, conversation_id)

    def _remember(self, conversation: Conversation) -> None:
        if len(self._known) >= KEPT_IN_MEMORY:
            self._known.clear()
            self._personal.clear()
        self._known[conversation.id] = conversation
        if conversation.kind == PERSONAL and conversation.account:
            self._personal[conversation.account] = conversation
