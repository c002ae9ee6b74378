"""Delivers outbox messages to Teams through the Bot Connector: new items' cards in their team's
Teams channel, every Teams copy of a card kept current (`update_activity`) with the change told
in the card's thread, direct messages in each person's 1:1 chat (opened when Baton has none
yet), and team messages (digests, the weekly one with its chart in a card).

A copy one person sees (their 1:1 chat) carries their buttons; a copy in a channel or group
chat carries none, and a `refresh` naming the item's people, so each of them sees their own.

Teams allows a bot about 7 messages a second in one conversation, 8 in two seconds and 60 in
thirty (the pacing below keeps under all three), and 50 requests a second in one tenant (a
moving window here); it asks bots to retry 429, 412, 502 and 504, honouring Retry-After.

The outbox worker calls `deliver` outside any unit of work; reading the item and recording
where its card went each take a short one of their own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botbuilder.schema.teams import TeamsChannelAccount
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from adapters.teams.compose import Composer
from adapters.teams.connector import (
    Connectors,
    TokenError,
    delivery_failure,
    error_code,
    status_of,
)
from adapters.teams.images import data_uri
from adapters.teams.kept import CHANNEL, PERSONAL, Kept, base_id
from adapters.teams.people import Profile, TeamsPeople
from adapters.teams.views import SURFACE, Views
from bot.cards import Card
from bot.conversations import Conversation
from bot.delivery import DeliveryFailed, NotHere, Pacing, Transport
from bot.items import Item
from bot.messages import Audience, Outgoing
from bot.ports import CardPost
from bot.rich import Rich

log = logging.getLogger(__name__)

#: What Teams allows a bot in one tenant (requests of every kind, every conversation).
TENANT_RATE = "50/second"
#: Items whose channel places() remembers (the oldest forgotten first).
KEPT_CHANNELS = 10_000
#: A copy of a card that is gone for good is skipped; the other copies are still updated.
_GONE_STATUS = frozenset({403, 404})
_NOT_REACHABLE = frozenset({403, 404})


class TeamsTransport(Transport):
    surface = SURFACE
    #: 4 at once after a quiet spell, then one every 0.55 s: at most 5 in a second, 7 in two,
    #: 58 in thirty (Teams: 7, 8 and 60).
    pacing = Pacing(timedelta(seconds=0.55), burst=4)

    def __init__(self, connectors: Connectors, kept: Kept, people: TeamsPeople,
                 composer: Composer, views: Views, *, tenant: str = "",
                 tenant_rate: str = TENANT_RATE) -> None:
        self.connectors = connectors
        self.kept = kept
        self.people = people
        self.directory = people.directory
        self.composer = composer
        self.views = views
        self.tenant = tenant
        self._tenant_rate = parse(tenant_rate)
        self._channels: dict[tuple[str, int], str] = {}  # (workspace, item) -> its channel
        self._tenants = MovingWindowRateLimiter(MemoryStorage())

    # --- where -----------------------------------------------------------------------------

    def places(self, message: Outgoing) -> tuple[str, ...]:
        """A new card and a team message count in their channel's pace too, and so do an
        item's card updates and thread lines once its channel is known here (its card posted
        or updated by this process): many items changing at once share their channel's 7 a
        second rather than each taking 7."""
        conversation = self.conversation(message)
        if message.audience in (Audience.CARD, Audience.TEAM):
            channel = self.team_channel(message.to)
        elif message.audience in (Audience.CARD_UPDATE, Audience.THREAD) and message.item:
            channel = self._channels.get((message.workspace, message.item), "")
        else:
            channel = ""
        if not channel:
            return (conversation,)
        return (conversation, f"{message.workspace}/teams-conversation/{channel}")

    def _learn(self, workspace: str, number: int, channel: str) -> None:
        """Where an item's card lives in its team's channel, for places()."""
        if channel:
            if len(self._channels) >= KEPT_CHANNELS:
                self._channels.pop(next(iter(self._channels)))
            self._channels[(workspace, number)] = channel

    def team_channel(self, team_name: str) -> str:
        team = self.directory.team(team_name)
        return team.channel(SURFACE) if team is not None else ""

    async def where(self, conversation_id: str) -> Conversation:
        """The conversation as kept; a channel Baton was never spoken to in is reached through
        the service of the team's tenant (any conversation kept there)."""
        found = await self.kept.get(conversation_id)
        if found is not None:
            return found
        latest = await self.kept.latest(self.tenant)
        if latest is None:
            raise NotHere("Baton has not been added to Teams yet: add the app to the team "
                          "(or chat with it) so it may post there")
        return Conversation(SURFACE, base_id(conversation_id), CHANNEL,
                            latest.reference, "", latest.tenant)

    # --- deliveries ----------------------------------------------------------------------

    async def deliver(self, message: Outgoing) -> None:
        match message.audience:
            case Audience.CARD:
                await self._post_card(message)
            case Audience.CARD_UPDATE:
                await self._update_cards(message)
            case Audience.THREAD:
                await self._thread(message)
            case Audience.PERSON:
                await self._dm(message)
            case Audience.TEAM:
                await self._team(message)

    async def _post_card(self, message: Outgoing) -> None:
        """The new item's card in its team's Teams channel, once: where it was raised on Teams
        the reply carried it already, and a retried delivery updates the copy it posted."""
        number = self._number(message)
        channel = self.team_channel(message.to)
        surface, _, origin = message.origin.partition(":")
        if surface == SURFACE and origin and (not channel or base_id(origin) == channel):
            raise NotHere(f"#{number} was raised on Teams: its card went with the reply")
        if not channel:
            raise NotHere(f"#{message.to} has no Teams channel")
        self._learn(message.workspace, number, channel)
        item = await self.views.item(message.workspace, number)
        posted = [p for p in await self.views.posts(message.workspace, number)
                  if base_id(p.channel) == channel]
        conversation = await self.where(channel)
        card = await self._copy(message, item, conversation, channel)
        if posted and await self._update(conversation, posted[0], message.text, card):
            return
        sent = await self._send(conversation, channel,
                                self._activity(conversation, message.text, card))
        await self.views.record(CardPost(message.workspace, number, SURFACE, channel, sent))

    async def _update_cards(self, message: Outgoing) -> None:
        """Every Teams copy of the card, as the item now is; a copy deleted (or a chat Baton
        left) does not stop the others."""
        number = self._number(message)
        posts = await self.views.posts(message.workspace, number)
        if not posts:
            return
        item = await self.views.item(message.workspace, number)
        if item is not None:
            self._learn(message.workspace, number, self.team_channel(item.team))
        for post in posts:
            conversation = await self.where(post.channel)
            card = await self._copy(message, item, conversation, post.channel)
            if not await self._update(conversation, post, message.text, card):
                log.info("Teams copy of #%s in %s is gone; skipped", number,
                         post.channel[:40])

    async def _thread(self, message: Outgoing) -> None:
        """A line in the thread under the item's card: its first copy in a channel or group
        chat. A 1:1 chat has no threads, and the people whose 1:1 chats hold a copy are told
        of the change in a message of their own: with no shared copy, the line is not here."""
        number = self._number(message)
        home = None
        for post in await self.views.posts(message.workspace, number):
            found = await self.kept.get(post.channel)
            if found is not None and found.kind != PERSONAL:
                home = post
                break
        if home is None:
            raise NotHere(f"no card of #{number} in a Teams channel or group chat to reply "
                          "under")
        conversation = await self.where(home.channel)
        await self._send(conversation, home.channel,
                         self._activity(conversation, message.text), reply_to=home.ref)

    async def _dm(self, message: Outgoing) -> None:
        """A message in the person's 1:1 chat with Baton, with the card and their buttons;
        the chat is opened first when Baton has none with them yet."""
        aad = self.people.teams_id(message.to)
        if not aad:
            raise NotHere(f"{message.to} has no Teams account (`teams: <AAD object id>` in "
                          f"baton.yaml, or the same e-mail on Teams)")
        conversation = await self.kept.personal(aad) or await self._open_chat(message.to, aad)
        card = Card.from_dict(message.card) if message.card and "number" in message.card \
            else None
        rendered = self.composer.card(card) if card is not None else None
        sent = await self._send(conversation, conversation.id,
                                self._activity(conversation, message.text, rendered))
        if card is not None and message.item is not None:
            await self.views.record(CardPost(message.workspace, message.item, SURFACE,
                                             conversation.id, sent))

    async def _team(self, message: Outgoing) -> None:
        """A message to the team's Teams channel; a digest's chart rides in a card."""
        channel = self.team_channel(message.to)
        if not channel:
            raise NotHere(f"#{message.to} has no Teams channel")
        conversation = await self.where(channel)
        image = await asyncio.to_thread(data_uri, Path(message.attachment)) \
            if message.attachment else ""
        if image:
            card = self.composer.text_card(message.text, image=image,
                                           image_text=Path(message.attachment or "").stem)
            activity = self._activity(conversation, Rich(), card)
            activity.summary = self.composer.renderer.plain(message.text.lines()[0])[:200]
            await self._send(conversation, channel, activity)
            return
        for part in self.composer.messages(message.text):
            self._address(part, conversation)
            await self._send(conversation, channel, part)

    # --- copies of a card ----------------------------------------------------------------

    async def _copy(self, message: Outgoing, item: Item | None, conversation: Conversation,
                    conversation_id: str) -> dict[str, Any]:
        """The card as this copy shows it: its one viewer's buttons in a 1:1 chat; in a
        channel or group chat none, with the refresh that fetches each person their own."""
        if item is None:
            if message.card is None or "number" not in message.card:
                raise DeliveryFailed(f"no card for item #{message.item}", permanent=True)
            return self.composer.card(Card.from_dict(message.card), buttons=False)
        if conversation.kind == PERSONAL:
            viewer = self.people.person_id(conversation.account) if conversation.account \
                else None
            found = await self.views.card(message.workspace, item.number, viewer)
            if found is not None:
                return self.composer.card(found[1])
        card = self.views.render(item, [], None)
        people = self.views.people_with_buttons(item)
        return self.composer.card(card, buttons=False, refresh_for=await self._mris(
            people, conversation, conversation_id))

    async def _mris(self, people: list[str], conversation: Conversation,
                    conversation_id: str) -> list[str]:
        where = conversation.team or base_id(conversation_id)

        async def lookup(user: str) -> Profile | None:
            client = self.connectors.client(str(conversation.reference.get("serviceUrl")))
            member = await client.conversations.get_conversation_member(where, user)
            account = TeamsChannelAccount().deserialize(
                dict(member.serialize(), **(member.additional_properties or {})))
            return Profile.from_member(account)

        return await self.people.mris(people, lookup)

    # --- the connector -------------------------------------------------------------------

    async def _open_chat(self, person: str, aad: str) -> Conversation:
        """A new 1:1 chat between Baton and the person, through the service of their tenant;
        NotHere when Teams will not open one (the app is not installed for them)."""
        latest = await self.kept.latest(self.tenant)
        if latest is None:
            raise NotHere(f"Baton cannot reach {person} on Teams yet: the app has not been "
                          f"added anywhere in Teams")
        reference = latest.reference
        tenant = self.tenant or latest.tenant
        bot = reference.get("bot") or {}
        parameters = ConversationParameters(
            is_group=False, bot=ChannelAccount(id=bot.get("id"), name=bot.get("name")),
            members=[ChannelAccount(id=aad)], tenant_id=tenant or None,
            channel_data={"tenant": {"id": tenant}} if tenant else None)
        client = self.connectors.client(str(reference.get("serviceUrl")))
        try:
            await self._paced(tenant)
            created = await client.conversations.create_conversation(parameters)
        except Exception as exc:
            if status_of(exc) in _NOT_REACHABLE and not isinstance(exc, TokenError):
                raise NotHere(f"Teams would not open a chat between Baton and {person} "
                              f"({error_code(exc) or status_of(exc)}): the app must be "
                              f"installed for them") from None
            raise self._failure("create_conversation", exc) from None
        conversation = Conversation(
            SURFACE, str(created.id), PERSONAL,
            {**reference, "serviceUrl": created.service_url or reference.get("serviceUrl"),
             "conversationType": PERSONAL, "user": {"id": "", "aadObjectId": aad}},
            aad, tenant)
        await self.kept.keep(conversation)
        return conversation

    def _activity(self, conversation: Conversation, text: Rich,
                  card: dict[str, Any] | None = None) -> Activity:
        activities = self.composer.messages(text, [card] if card is not None else [])
        if len(activities) != 1:  # a card's text is one line; never more than one message
            activities = activities[-1:]
        activity = activities[0]
        self._address(activity, conversation)
        return activity

    def _address(self, activity: Activity, conversation: Conversation) -> None:
        bot = conversation.reference.get("bot") or {}
        activity.from_property = ChannelAccount(id=bot.get("id"), name=bot.get("name"))
        activity.conversation = ConversationAccount(id=conversation.id,
                                                    tenant_id=conversation.tenant or None)
        activity.channel_id = "msteams"

    async def _send(self, conversation: Conversation, conversation_id: str, activity: Activity,
                    *, reply_to: str | None = None) -> str:
        """Post the activity (as a reply in a thread when `reply_to`); the new message's id."""
        client = self.connectors.client(str(conversation.reference.get("serviceUrl")))
        call = "reply_to_activity" if reply_to else "send_to_conversation"
        try:
            await self._paced(conversation.tenant)
            if reply_to:
                response = await client.conversations.reply_to_activity(
                    conversation_id, reply_to, activity)
            else:
                response = await client.conversations.send_to_conversation(
                    conversation_id, activity)
        except Exception as exc:
            raise self._failure(call, exc) from None
        return str(getattr(response, "id", "") or "")

    async def _update(self, conversation: Conversation, post: CardPost, text: Rich,
                      card: dict[str, Any]) -> bool:
        """Replace a posted copy; False when it is gone (deleted, or Baton left the chat)."""
        client = self.connectors.client(str(conversation.reference.get("serviceUrl")))
        activity = self._activity(conversation, text, card)
        activity.id = post.ref
        try:
            await self._paced(conversation.tenant)
            await client.conversations.update_activity(post.channel, post.ref, activity)
        except Exception as exc:
            if status_of(exc) in _GONE_STATUS and not isinstance(exc, TokenError):
                return False
            raise self._failure("update_activity", exc) from None
        return True

    def _failure(self, call: str, exc: BaseException) -> DeliveryFailed:
        """A failed connector call as the outbox reads it; a refused token is forgotten so
        the retry signs in again."""
        if status_of(exc) == 401 and not isinstance(exc, TokenError):
            self.connectors.tokens.forget()
        return delivery_failure(call, exc)

    async def _paced(self, tenant: str) -> None:
        """Wait for room in the tenant's window (50 requests a second)."""
        key = tenant or "-"
        while not await self._tenants.hit(self._tenant_rate, "baton-teams-tenant", key):
            stats = await self._tenants.get_window_stats(self._tenant_rate,
                                                         "baton-teams-tenant", key)
            await asyncio.sleep(min(max(stats.reset_time - time.time(), 0.01), 1.0))

    @staticmethod
    def _number(message: Outgoing) -> int:
        if message.item is None:
            raise DeliveryFailed(f"a {message.audience.value} message without an item",
                                 permanent=True)
        return message.item
