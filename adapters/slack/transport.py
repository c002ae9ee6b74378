"""Delivers outbox messages to Slack: cards posted and kept current, thread lines, DMs.

The outbox worker calls `deliver` outside any unit of work; reading the item and recording
where its card went each take a short unit of work of their own, never one held across a
call to Slack.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import Renderer
from adapters.slack.home import Home
from adapters.slack.people import SlackPeople
from adapters.slack.webapi import delivery_failure, error_code
from adapters.slack.workspaces import Workspaces
from bot.approvals import pending_approvers
from bot.cards import Card
from bot.delivery import DeliveryFailed, NotHere, Pacing, Transport
from bot.items import Item
from bot.messages import ABOUT_A_CARD, Audience, Outgoing
from bot.ports import CardPost, UnitOfWorkFactory
from bot.presenters import card_for
from bot.rules import state_allows

log = logging.getLogger(__name__)

SURFACE = "slack"
METADATA_EVENT = "baton_outbox_message"
LOOK_BACK = 100  # recent messages searched for a post whose outcome was lost
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
#: A copy of a card that is gone for good is skipped; the other copies are still updated.
_GONE = frozenset({"message_not_found", "channel_not_found", "cant_update_message",
                   "is_archived", "not_in_channel"})


class SlackTransport(Transport):
    surface = SURFACE
    #: Slack allows about one message a second per channel, with short bursts above it.
    pacing = Pacing(timedelta(seconds=1), burst=3)

    def __init__(self, client: AsyncWebClient, workspaces: Workspaces, uow: UnitOfWorkFactory,
                 people: SlackPeople, home: Home | None = None) -> None:
        self.client = client
        self.workspaces = workspaces
        self.uow = uow
        self.people = people
        self.directory = people.directory
        self.home = home
        self.renderer = Renderer(people.slack_id, people.name_of)

    def places(self, message: Outgoing) -> tuple[str, ...]:
        """A new card counts in its channel's pace too, with that channel's other cards and
        its team's digests (a digest's conversation is the team's: the same place)."""
        conversation = self.conversation(message)
        if message.audience is not Audience.CARD:
            return (conversation,)
        channel = self.card_channel(message)
        if not channel:
            return (conversation,)
        team = self.directory.team(message.to)
        if team is not None and channel == team.channel(SURFACE):
            return (conversation, f"{message.workspace}/{Audience.TEAM.value}/{team.name}")
        return (conversation, f"{message.workspace}/slack-channel/{channel}")

    def card_channel(self, message: Outgoing) -> str:
        """Where a new card goes on Slack: the channel the item was raised in, else its team's
        Slack channel; "" when it has neither."""
        platform, _, channel = message.origin.partition(":")
        if platform == SURFACE and channel:
            return channel
        team = self.directory.team(message.to)
        return team.channel(SURFACE) if team is not None else ""

    async def deliver(self, message: Outgoing) -> None:
        token = await self.workspaces.token(message.workspace)
        if token is None:
            raise DeliveryFailed(f"Baton is not installed in Slack workspace "
                                 f"{message.workspace}", permanent=True)
        item, posts = await self._read(message)
        match message.audience:
            case Audience.CARD:
                await self._post_card(message, item, posts, token)
            case Audience.CARD_UPDATE:
                await self._update_cards(message, item, posts, token)
            case Audience.THREAD:
                await self._thread(message, posts, token)
            case Audience.PERSON:
                await self._dm(message, token)
            case Audience.TEAM:
                posted = await self._call("chat.postMessage", token,
                                          channel=self._team_channel(message.to),
                                          text=self.renderer.fallback(message.text),
                                          blocks=self.renderer.message(message.text),
                                          metadata=_metadata(message))
                await self._upload(message, str(posted.get("channel", "")), token)
        if self.home is not None:
            self.home.refresh(message.workspace, _concerned(message, item))

    async def delivered_already(self, message: Outgoing) -> bool:
        """Whether Slack has this message already: each post carries the outbox key in its
        metadata, so a delivery whose outcome was lost is looked for before posting again.
        False when it cannot tell (the worker then posts)."""
        if message.audience is Audience.CARD_UPDATE:
            return False  # updating twice is harmless
        token = await self.workspaces.token(message.workspace)
        if token is None:
            return False
        try:
            found = await self._find(message, token)
        except DeliveryFailed as failed:
            log.info("could not tell whether %s was delivered: %s", message.key, failed)
            return False
        if found is None:
            return False
        channel, ts = found
        if message.item is not None and message.audience in (Audience.CARD, Audience.PERSON) \
                and (message.audience is Audience.CARD or message.card):
            await self._record(message, message.item, channel, ts)
        return True

    async def _find(self, message: Outgoing, token: str) -> tuple[str, str] | None:
        """The channel and ts of the post carrying this message's key, if Slack has one."""
        if message.audience is Audience.THREAD:
            _, posts = await self._read(message)
            if not posts:
                return None
            first = _thread_home(posts)
            method, channel = "conversations.replies", first.channel
            arguments: dict[str, Any] = {"ts": first.ref}
        else:
            method, arguments = "conversations.history", {}
            if message.audience is Audience.PERSON:
                user = self.people.slack_id(message.to)
                if user is None:
                    return None
                opened = await self._call("conversations.open", token, users=user)
                channel = str(opened["channel"]["id"])
            elif message.audience is Audience.CARD:
                channel = self._channel(self.card_channel(message))
            else:
                try:
                    channel = self._team_channel(message.to)
                except NotHere:
                    return None
        history = await self._call(method, token, channel=channel, include_all_metadata=True,
                                   limit=LOOK_BACK, **arguments)
        for post in history.get("messages") or []:
            payload = (post.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == message.key:
                return str(history.get("channel") or channel), str(post["ts"])
        return None

    # --- deliveries ---------------------------------------------------------------------

    async def _post_card(self, message: Outgoing, item: Item | None, posts: list[CardPost],
                         token: str) -> None:
        """Post the card where it belongs, once: a retried delivery updates the copy it
        already posted there instead of posting another."""
        if message.item is None:
            raise DeliveryFailed("a card message without an item", permanent=True)
        channel = self.card_channel(message)
        if not channel:
            raise NotHere(f"#{message.to} has no Slack channel and #{message.item} was not "
                          f"raised on Slack")
        channel = self._channel(channel)
        card = self._card(message, item)
        blocks = self.renderer.card(card)
        text = self.renderer.fallback(message.text)
        posted = [p for p in posts if not p.channel.startswith("D")]
        if posted:
            await self._call("chat.update", token, channel=channel, ts=posted[0].ref, text=text,
                             blocks=blocks)
            return
        response = await self._call("chat.postMessage", token, channel=channel, text=text,
                                    blocks=blocks, unfurl_links=False,
                                    metadata=_metadata(message))
        await self._record(message, message.item, str(response["channel"]), str(response["ts"]))

    async def _update_cards(self, message: Outgoing, item: Item | None,
                            posts: list[CardPost], token: str) -> None:
        """Refresh every posted copy of the card; one copy deleted does not stop the rest."""
        if not posts:
            return
        card = self._card(message, item)
        blocks = self.renderer.card(card)
        text = self.renderer.fallback(message.text)
        for post in posts:
            try:
                await self.client.chat_update(channel=post.channel, ts=post.ref, text=text,
                                              blocks=blocks, token=token)
            except SlackApiError as exc:
                if error_code(exc) not in _GONE:
                    raise delivery_failure("chat.update", exc) from None
                log.info("card of #%s in %s is gone (%s); skipped", post.item, post.channel,
                         error_code(exc))
            except (SlackClientError, OSError, TimeoutError) as exc:
                raise delivery_failure("chat.update", exc) from None

    async def _thread(self, message: Outgoing, posts: list[CardPost], token: str) -> None:
        """A line in the thread under the item's card; no card, no thread."""
        if not posts:
            raise NotHere(f"no card of #{message.item} on Slack to reply under")
        first = _thread_home(posts)
        await self._call("chat.postMessage", token, channel=first.channel, thread_ts=first.ref,
                         text=self.renderer.fallback(message.text),
                         blocks=self.renderer.message(message.text),
                         metadata=_metadata(message))

    async def _dm(self, message: Outgoing, token: str) -> None:
        """A direct message from the app, with the card and the buttons this person may use."""
        user = self.people.slack_id(message.to)
        if user is None:
            raise NotHere(f"{message.to} has no Slack user (`slack: U…` in baton.yaml, or the "
                          f"same e-mail on Slack)")
        cards = (Card.from_dict(message.card),) if message.card else ()
        response = await self._call("chat.postMessage", token, channel=user,
                                    text=self.renderer.fallback(message.text),
                                    blocks=self.renderer.message(message.text, cards),
                                    unfurl_links=False, metadata=_metadata(message))
        if message.item is not None and cards:
            await self._record(message, message.item, str(response["channel"]),
                               str(response["ts"]))

    async def _upload(self, message: Outgoing, channel: str, token: str) -> None:
        """The message's file (a digest's chart), under the text just posted. The text is
        delivered already, so a failed upload is logged rather than retried with it."""
        if not message.attachment or not channel:
            return
        path = Path(message.attachment)
        try:
            await self.client.files_upload_v2(file=str(path), filename=path.name,
                                              title=path.stem.replace("-", " "),
                                              channel=channel, token=token)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            log.warning("uploading %s failed: %s", path.name, delivery_failure(
                "files.upload", exc))

    # --- helpers ------------------------------------------------------------------------

    async def _call(self, method: str, token: str, **arguments: Any) -> dict[str, Any]:
        try:
            response = await self.client.api_call(method, json={**arguments, "token": token})
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            raise delivery_failure(method, exc) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _channel(self, to: str) -> str:
        """A channel id as given; a name as #name."""
        to = to.strip()
        return to if _CHANNEL_ID.fullmatch(to) else "#" + to.lstrip("#")

    def _team_channel(self, to: str) -> str:
        """A team's Slack channel; NotHere if it has none. A row written before messages
        named their audience may name a channel itself."""
        team = self.directory.team(to)
        if team is None:
            if _CHANNEL_ID.fullmatch(to.strip()) or to.startswith("#"):
                return self._channel(to)
            raise NotHere(f"no team #{to}")
        channel = team.channel(SURFACE)
        if not channel:
            raise NotHere(f"#{team.name} has no Slack channel")
        return self._channel(channel)

    async def _read(self, message: Outgoing) -> tuple[Item | None, list[CardPost]]:
        """The item as it is now and where its card was posted, in one short unit of work."""
        if message.item is None or message.audience not in ABOUT_A_CARD:
            return None, []
        async with self.uow() as uow:
            posts = await uow.posts.of_item(message.workspace, message.item, SURFACE)
            if message.audience is Audience.THREAD:
                return None, posts
            return await uow.items.get(message.workspace, message.item), posts

    def _card(self, message: Outgoing, item: Item | None) -> Card:
        """The card as the item is now (a delayed delivery never shows an older state), with
        every button its state allows: each click is checked against the clicker's rights."""
        if item is None:
            if message.card is None:
                raise DeliveryFailed(f"no card for item #{message.item}", permanent=True)
            return Card.from_dict(message.card)
        team = self.directory.team(item.team)
        zone = ZoneInfo(team.time_zone) if team else ZoneInfo("UTC")
        return card_for(item, list(state_allows(item)), zone, zone)

    async def _record(self, message: Outgoing, item: int, channel: str, ts: str) -> None:
        async with self.uow() as uow:
            await uow.posts.add(CardPost(message.workspace, item, SURFACE, channel, ts))
            await uow.commit()


def _thread_home(posts: list[CardPost]) -> CardPost:
    """The copy whose thread tells the item's story: the first in a channel (DM copies are
    delivered alongside and may be recorded first), else the first of all."""
    return next((p for p in posts if not p.channel.startswith("D")), posts[0])


def _metadata(message: Outgoing) -> dict[str, Any]:
    """Slack message metadata naming the outbox message a post delivers."""
    return {"event_type": METADATA_EVENT, "event_payload": {"key": message.key}}


def _concerned(message: Outgoing, item: Item | None) -> set[str]:
    """Whose Home tab a message may change: the DM's recipient, the item's people."""
    people = {message.to} if message.audience is Audience.PERSON else set()
    if item is not None:
        people |= {item.requester, *item.approvers, *pending_approvers(item)}
        if item.owner:
            people.add(item.owner)
    return people
