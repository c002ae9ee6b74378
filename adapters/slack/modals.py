"""Submitted forms: the create form (from a shortcut, the Home tab or a message) and the
reason form a card's Decline, Reject, Resolve or Block opens. A form closes when its command
worked; otherwise it shows why, in the form."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import mrkdwn
from adapters.slack.answering import Answering, postable
from adapters.slack.errors import UNREADABLE
from adapters.slack.forms import Form, create_form, error_block, reason_form
from adapters.slack.payloads import CreateMeta, ReasonMeta, ValidationError, ViewSubmission
from bot.service import Reply


class Modals:
    def __init__(self, answering: Answering) -> None:
        self.answering = answering

    async def on_reason(self, ack: AsyncAck, body: dict[str, Any],
                        context: AsyncBoltContext, client: AsyncWebClient) -> None:
        try:
            submission = ViewSubmission.model_validate(body)
            meta = ReasonMeta.model_validate_json(submission.view.private_metadata)
        except ValidationError:
            await ack(response_action="errors", errors={"reason": UNREADABLE})
            return
        form = reason_form(submission.view, meta)
        await self._submit(ack, context, client, submission, form, {})

    async def on_create(self, ack: AsyncAck, body: dict[str, Any],
                        context: AsyncBoltContext, client: AsyncWebClient) -> None:
        try:
            submission = ViewSubmission.model_validate(body)
            meta = CreateMeta.model_validate_json(submission.view.private_metadata or "{}")
        except ValidationError:
            await ack(response_action="errors", errors={"title": UNREADABLE})
            return
        view = submission.view
        channel = meta.channel or view.value("channel").selected_conversation or ""
        permalink = await self.answering.permalink(client, meta.channel, meta.message_ts)
        form = create_form(view, meta, channel=postable(channel), permalink=permalink)
        people = {"to_user": (view.value("to_user").selected_user or "",),
                  "owner": (view.value("owner").selected_user or "",),
                  "approvers": tuple(view.value("approvers").selected_users or ())}
        reply = await self._submit(ack, context, client, submission, form, people)
        if reply is not None and reply.ok and channel:
            self.answering.background.spawn(
                self.answering.tell(client, channel, submission.user.id, reply),
                name="created notice")

    async def _submit(self, ack: AsyncAck, context: AsyncBoltContext, client: AsyncWebClient,
                      submission: ViewSubmission, form: Form,
                      people: dict[str, tuple[str, ...]]) -> Reply | None:
        if form.command is None:
            await ack(response_action="errors", errors=form.errors)
            return None
        answering = self.answering
        reply = await answering.run(client, answering.workspace(context), submission.user.id,
                                    form.command, names=form.users)
        if reply.ok:
            await ack()
        else:
            message = str(reply.text)
            block = error_block(message, {k: v for k, v in people.items() if any(v)}) \
                if people else "reason"
            await ack(response_action="errors", errors={block: mrkdwn.clip(message, 2000)})
        return reply
