"""Shortcuts: "Track with Baton" on a message opens the create form filled in from it; the
global shortcut opens it empty."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import mrkdwn
from adapters.slack.answering import Answering, first_line
from adapters.slack.payloads import CreateMeta, GlobalShortcut, MessageShortcut, ValidationError
from adapters.slack.people import MentionError
from adapters.slack.views import create_modal

log = logging.getLogger(__name__)


class Shortcuts:
    def __init__(self, answering: Answering) -> None:
        self.answering = answering

    async def on_track(self, ack: AsyncAck, body: dict[str, Any],
                       client: AsyncWebClient) -> None:
        await ack()
        try:
            shortcut = MessageShortcut.model_validate(body)
        except ValidationError:
            log.warning("a message shortcut Baton cannot read was ignored")
            return
        text = await self.readable(client, shortcut.message.text)
        meta = CreateMeta(channel=shortcut.channel.id, message_ts=shortcut.message_ts)
        await client.views_open(trigger_id=shortcut.trigger_id, view=create_modal(
            meta, self.answering.teams(), title=first_line(text, 200), details=text))

    async def readable(self, client: AsyncWebClient, text: str) -> str:
        """A message's text as a person reads it (mentions as @person, links as addresses)."""
        try:
            return await self.answering.text.read(client, text, prose=True)
        except MentionError:
            return mrkdwn.unescape(text)

    async def on_new(self, ack: AsyncAck, body: dict[str, Any],
                     client: AsyncWebClient) -> None:
        await ack()
        try:
            shortcut = GlobalShortcut.model_validate(body)
        except ValidationError:
            log.warning("a shortcut Baton cannot read was ignored")
            return
        await client.views_open(trigger_id=shortcut.trigger_id,
                                view=create_modal(CreateMeta(), self.answering.teams()))
