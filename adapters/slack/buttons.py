"""Clicks: a card's buttons act as the person who clicked (a reason asked first where one is
needed); the Home tab's New buttons open the create form."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.answering import Answering
from adapters.slack.payloads import (
    ACTION_PREFIX,
    NEW_PREFIX,
    BlockAction,
    ButtonValue,
    CreateMeta,
    ReasonMeta,
    ValidationError,
    action_id,
)
from adapters.slack.views import create_modal, reason_modal
from bot.commands import Act
from bot.items import Kind
from bot.rules import NEEDS_REASON, Verb

log = logging.getLogger(__name__)

CARD_ACTION = re.compile(rf"^{re.escape(ACTION_PREFIX)}({'|'.join(v.value for v in Verb)})$")
NEW_ACTION = re.compile(rf"^{re.escape(NEW_PREFIX)}(handoff|exception|approval)$")


class Buttons:
    def __init__(self, answering: Answering) -> None:
        self.answering = answering

    async def on_card(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext,
                      client: AsyncWebClient) -> None:
        await ack()
        try:
            click = BlockAction.model_validate(body)
            value = ButtonValue.model_validate_json(click.action.value)
        except ValidationError:
            log.warning("a button click Baton cannot read was ignored")
            return
        if click.action.action_id != action_id(value.verb):
            log.warning("a button whose value does not match its action was ignored")
            return
        if value.verb in NEEDS_REASON:
            meta = ReasonMeta(verb=value.verb, number=value.number, channel=click.channel_id)
            await client.views_open(trigger_id=click.trigger_id, view=reason_modal(meta))
            return
        answering = self.answering
        workspace = answering.workspace(context)
        reply = await answering.run(client, workspace, click.user.id,
                                    Act(value.verb, value.number))
        if not reply.ok:
            await answering.refuse(client, click, reply.text)
        elif click.container.type == "view":
            await answering.home.publish(workspace, click.user.id, context.bot_token)

    async def on_new(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        try:
            click = BlockAction.model_validate(body)
            kind = Kind(click.action.action_id.removeprefix(NEW_PREFIX))
        except (ValidationError, ValueError):
            log.warning("a New button Baton cannot read was ignored")
            return
        await client.views_open(trigger_id=click.trigger_id, view=create_modal(
            CreateMeta(kind=kind), self.answering.teams()))
