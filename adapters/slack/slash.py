"""/baton: the command text run as the person who typed it, answered to them alone (paged)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.answering import Answering, postable
from adapters.slack.dedup import delivery_key
from adapters.slack.errors import UNREADABLE
from adapters.slack.payloads import SlashCommand, ValidationError

log = logging.getLogger(__name__)


class Slash:
    def __init__(self, answering: Answering) -> None:
        self.answering = answering

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext,
                         client: AsyncWebClient) -> None:
        try:
            slash = SlashCommand.model_validate(body)
        except ValidationError:
            await ack(response_type="ephemeral", text=UNREADABLE)
            return
        answering = self.answering
        reply = await answering.run_text(client, answering.workspace(context), slash.user_id,
                                         slash.text,
                                         postable(slash.channel_id, slash.channel_name),
                                         delivery_key(body) or "")
        if reply.duplicate:
            log.info("duplicate Slack delivery ignored (slack:command)")
            await ack()
            return
        renderer = answering.renderer()
        pages = renderer.pages(reply.text, reply.cards)
        await ack(response_type="ephemeral", text=renderer.fallback(reply.text),
                  blocks=pages[0] or None)
        if len(pages) > 1 and slash.response_url:
            answering.background.spawn(
                answering.more_pages(slash.response_url, pages[1:], reply.text),
                name="slash continuation")
