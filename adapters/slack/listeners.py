"""Bolt listeners: each Slack request becomes one core command, run as the person who sent it.

Every listener reads its payload into a typed model first, so a payload Baton cannot read is
answered with a short message (or a 200 and a log line), never a traceback. Replays and
Slack's retries are dropped by `SlackListeners.once` before any listener runs. Events are
acknowledged at once and handled afterwards (`after_ack`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import mrkdwn
from adapters.slack.background import Background
from adapters.slack.blocks import Block, Renderer
from adapters.slack.forms import Form, create_form, error_block, reason_form
from adapters.slack.home import Home
from adapters.slack.payloads import (
    ACTION_PREFIX,
    NEW_PREFIX,
    AppMention,
    BlockAction,
    ButtonValue,
    CallbackId,
    CreateMeta,
    GlobalShortcut,
    HomeOpened,
    MessageShortcut,
    ReactionAdded,
    ReasonMeta,
    SlashCommand,
    ValidationError,
    ViewSubmission,
    action_id,
)
from adapters.slack.people import MentionError, Mentions, SlackDirectory
from adapters.slack.views import create_modal, notice_modal, reason_modal
from adapters.slack.workspaces import Workspaces
from bot.commands import Act, Command, Create
from bot.context import Request
from bot.grammar import UsageError, parse
from bot.items import Kind
from bot.ports import Deduplicator
from bot.rules import NEEDS_REASON, Verb
from bot.service import DELIVERY_REMEMBERED, Baton, Reply

log = logging.getLogger(__name__)

Observe = Callable[[str, float], None]
EventWork = Callable[[dict[str, Any], AsyncBoltContext], Coroutine[Any, Any, None]]
SURFACE = "slack"
TRACKED_FOR = timedelta(days=30)  # a message reacted to twice raises one exception
INTERNAL = "Baton could not do that just now (an internal error); nothing was changed."
UNREADABLE = "Baton could not read that request from Slack; nothing was changed."
_CARD_ACTION = re.compile(rf"^{re.escape(ACTION_PREFIX)}({'|'.join(v.value for v in Verb)})$")
_NEW_ACTION = re.compile(rf"^{re.escape(NEW_PREFIX)}(handoff|exception|approval)$")


def delivery_key(body: dict[str, Any]) -> str | None:
    """What makes a delivery from Slack the same delivery when it comes again: the event id,
    the clicking user and action time, the submitted view and its values, the trigger id."""
    kind = body.get("type")
    if kind == "event_callback" and body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if kind == "block_actions":
        user = (body.get("user") or {}).get("id", "")
        stamps = ",".join(str(a.get("action_ts", "")) for a in body.get("actions") or [])
        return f"slack:action:{user}:{stamps}" if user and stamps else None
    if kind == "view_submission":
        view = body.get("view") or {}
        state = json.dumps(view.get("state"), sort_keys=True).encode()
        digest = hashlib.sha256(state).hexdigest()[:32]
        return f"slack:view:{view.get('id', '')}:{digest}" if view.get("id") else None
    if kind in ("message_action", "shortcut") and body.get("trigger_id"):
        return f"slack:shortcut:{body['trigger_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"slack:command:{body['trigger_id']}"
    return None


def postable(channel_id: str, channel_name: str = "") -> str:
    """The channel to post a new item's card in, if Baton can post there (not a DM)."""
    if channel_id[:1] in ("C", "G") and not channel_name.startswith("mpdm-") \
            and channel_name != "directmessage":
        return channel_id
    return ""


def first_line(text: str, limit: int) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return mrkdwn.clip(line, limit)


class SlackListeners:
    """Baton's answers to Slack, registered on a Bolt AsyncApp by `register`."""

    def __init__(self, core: Baton, directory: SlackDirectory, workspaces: Workspaces,
                 dedup: Deduplicator, home: Home, background: Background, *,
                 reaction_emoji: str = "", observe: Observe | None = None,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.core = core
        self.directory = directory
        self.mentions = Mentions(directory)
        self.workspaces = workspaces
        self.dedup = dedup
        self.home = home
        self.background = background
        self.reaction_emoji = reaction_emoji.strip(":")
        self.observe = observe
        self.session = session
        self.changed: Callable[[], None] | None = None

    def register(self, app: AsyncApp) -> None:
        app.middleware(self.once)
        app.error(self.on_error)
        app.command(re.compile(r"^/"))(self.on_command)
        app.action(_CARD_ACTION)(self.on_button)
        app.action(_NEW_ACTION)(self.on_new)
        app.view(CallbackId.CREATE.value)(self.on_create)
        app.view(CallbackId.REASON.value)(self.on_reason)
        app.shortcut(CallbackId.TRACK.value)(self.on_track)
        app.shortcut(CallbackId.NEW.value)(self.on_new_shortcut)
        app.event("app_home_opened")(self.after_ack(self.on_home_opened))
        app.event("reaction_added")(self.after_ack(self.on_reaction))
        app.event("app_mention")(self.after_ack(self.on_mention))

    def renderer(self) -> Renderer:
        return Renderer(self.directory.slack_id, self.directory.name_of)

    def workspace(self, context: AsyncBoltContext) -> str:
        return self.workspaces.of(context.team_id, context.enterprise_id,
                                  bool(context.is_enterprise_install))

    # --- every request ------------------------------------------------------------------

    async def once(self, body: dict[str, Any],
                   next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """Drop a delivery already handled: Slack's retries (X-Slack-Retry-Num), replays.
        A slash command is left to `on_command`, which has the core record its key in the
        command's own transaction."""
        key = delivery_key(body)
        if key is not None and not body.get("command") \
                and not await self.dedup.first_time(key, DELIVERY_REMEMBERED):
            log.info("duplicate Slack delivery ignored (%s)", key.rsplit(":", 1)[0])
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def on_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.error("Slack request failed: %s", type(error).__name__, exc_info=error)
        if body.get("command"):
            return BoltResponse(status=200, headers={"content-type": "application/json"},
                                body=json.dumps({"response_type": "ephemeral",
                                                 "text": INTERNAL}))
        return BoltResponse(status=200, body="")

    def after_ack(self, work: EventWork) -> Callable[..., Awaitable[None]]:
        """A listener that acknowledges at once and does `work` afterwards, so no Web API
        call holds Slack's answer (and Slack does not retry for want of one)."""
        async def listener(ack: AsyncAck, body: dict[str, Any],
                           context: AsyncBoltContext) -> None:
            await ack()
            self.background.spawn(work(body, context), name=work.__name__)
        listener.__name__ = work.__name__
        return listener

    # --- running commands ---------------------------------------------------------------

    async def run(self, workspace: str, user: str, command: Command,
                  delivery: str = "") -> Reply:
        """One command through the core as this Slack user; any failure is a reply."""
        started = time.perf_counter()
        try:
            reply = await self.core.handle(Request(workspace, user, SURFACE, delivery), command)
        except Exception:
            log.exception("the core failed on a %s from Slack", type(command).__name__)
            reply = Reply(INTERNAL, ok=False)
        if self.observe is not None:
            name = command.verb.value if isinstance(command, Act) else \
                type(command).__name__.lower()
            self.observe(name, time.perf_counter() - started)
        if reply.ok and self.changed is not None:
            self.changed()  # the command may have queued messages: deliver them now
        return reply

    async def run_text(self, client: AsyncWebClient, workspace: str, user: str, text: str,
                       channel: str = "", delivery: str = "") -> Reply:
        """Command text as typed in Slack: mentions resolved, the people it names looked up."""
        try:
            text = mrkdwn.unescape(await self.mentions.rewrite(client, text))
        except MentionError as exc:
            return Reply(f"Baton can't use that: {exc}.", ok=False)
        await self.directory.learn(client, {user} | Mentions.users_in(text))
        try:
            command = parse(text)
        except UsageError as exc:
            return Reply(str(exc), ok=False)
        if isinstance(command, Create) and channel:
            command = replace(command, channel=channel)
        return await self.run(workspace, user, command, delivery)

    # --- /baton -------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext,
                         client: AsyncWebClient) -> None:
        try:
            slash = SlashCommand.model_validate(body)
        except ValidationError:
            await ack(response_type="ephemeral", text=UNREADABLE)
            return
        reply = await self.run_text(client, self.workspace(context), slash.user_id, slash.text,
                                    postable(slash.channel_id, slash.channel_name),
                                    delivery_key(body) or "")
        if reply.duplicate:
            log.info("duplicate Slack delivery ignored (slack:command)")
            await ack()
            return
        pages = self.renderer().pages(reply.text, reply.cards)
        await ack(response_type="ephemeral", text=self.renderer().fallback(reply.text),
                  blocks=pages[0] or None)
        if len(pages) > 1 and slash.response_url:
            self.background.spawn(self._continue(slash.response_url, pages[1:], reply.text),
                                  name="slash continuation")

    async def _continue(self, response_url: str, pages: list[list[Block]], text: str) -> None:
        """The pages after the first, in order, as further ephemeral messages."""
        webhook = AsyncWebhookClient(response_url, session=self.session)
        fallback = self.renderer().fallback(text)
        for page in pages:
            await webhook.send(text=fallback, blocks=page, response_type="ephemeral",
                               replace_original=False)

    # --- buttons ------------------------------------------------------------------------

    async def on_button(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext,
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
        workspace = self.workspace(context)
        await self.directory.learn(client, {click.user.id})
        reply = await self.run(workspace, click.user.id, Act(value.verb, value.number))
        if not reply.ok:
            await self._refuse(client, click, reply.text)
        elif click.container.type == "view":
            await self.home.publish(workspace, click.user.id, context.bot_token)

    async def _refuse(self, client: AsyncWebClient, click: BlockAction, text: str) -> None:
        """Tell only the clicker why nothing happened: under the message, or in a modal on
        the Home tab."""
        renderer = self.renderer()
        blocks = renderer.message(text)
        if click.response_url:
            webhook = AsyncWebhookClient(click.response_url, session=self.session)
            await webhook.send(text=renderer.fallback(text), blocks=blocks,
                               response_type="ephemeral", replace_original=False)
        elif click.channel_id:
            await client.chat_postEphemeral(channel=click.channel_id, user=click.user.id,
                                            text=renderer.fallback(text), blocks=blocks)
        else:
            await client.views_open(trigger_id=click.trigger_id,
                                    view=notice_modal(text, renderer))

    async def on_new(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        try:
            click = BlockAction.model_validate(body)
            kind = Kind(click.action.action_id.removeprefix(NEW_PREFIX))
        except (ValidationError, ValueError):
            log.warning("a New button Baton cannot read was ignored")
            return
        await client.views_open(trigger_id=click.trigger_id, view=create_modal(
            CreateMeta(kind=kind), self._teams()))

    def _teams(self) -> list[str]:
        return [t.name for t in self.directory.teams()]

    # --- modals -------------------------------------------------------------------------

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
        permalink = await self._permalink(client, meta.channel, meta.message_ts)
        form = create_form(view, meta, channel=postable(channel), permalink=permalink)
        people = {"to_user": (view.value("to_user").selected_user or "",),
                  "owner": (view.value("owner").selected_user or "",),
                  "approvers": tuple(view.value("approvers").selected_users or ())}
        reply = await self._submit(ack, context, client, submission, form, people)
        if reply is not None and reply.ok and channel:
            self.background.spawn(self._tell(client, channel, submission.user.id, reply),
                                  name="created notice")

    async def _submit(self, ack: AsyncAck, context: AsyncBoltContext, client: AsyncWebClient,
                      submission: ViewSubmission, form: Form,
                      people: dict[str, tuple[str, ...]]) -> Reply | None:
        """Run a form's command; the modal closes if it worked, else shows why in the form."""
        if form.command is None:
            await ack(response_action="errors", errors=form.errors)
            return None
        user = submission.user.id
        await self.directory.learn(client, {user, *form.users})
        reply = await self.run(self.workspace(context), user, form.command)
        if reply.ok:
            await ack()
        else:
            block = error_block(reply.text, {k: v for k, v in people.items() if any(v)}) \
                if people else "reason"
            await ack(response_action="errors", errors={block: mrkdwn.clip(reply.text, 2000)})
        return reply

    async def _permalink(self, client: AsyncWebClient, channel: str, ts: str) -> str:
        if not channel or not ts:
            return ""
        try:
            response = await client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            log.warning("chat.getPermalink failed: %s", type(exc).__name__)
            return ""
        link = response.get("permalink")
        return link if isinstance(link, str) else ""

    async def _tell(self, client: AsyncWebClient, channel: str, user: str, reply: Reply) -> None:
        """An ephemeral note to one person in a channel (they may not be in it: best effort)."""
        renderer = self.renderer()
        try:
            await client.chat_postEphemeral(channel=channel, user=user,
                                            text=renderer.fallback(reply.text),
                                            blocks=renderer.message(reply.text, reply.cards))
        except SlackApiError as exc:
            log.info("ephemeral note not posted: %s", exc.response.get("error"))

    # --- shortcuts ----------------------------------------------------------------------

    async def on_track(self, ack: AsyncAck, body: dict[str, Any],
                       client: AsyncWebClient) -> None:
        """"Track with Baton": the create form, filled in from the message."""
        await ack()
        try:
            shortcut = MessageShortcut.model_validate(body)
        except ValidationError:
            log.warning("a message shortcut Baton cannot read was ignored")
            return
        text = mrkdwn.unescape(shortcut.message.text)
        meta = CreateMeta(channel=shortcut.channel.id, message_ts=shortcut.message_ts)
        title = first_line(mrkdwn.plain(text, self.directory.name_of), 200)
        await client.views_open(trigger_id=shortcut.trigger_id, view=create_modal(
            meta, self._teams(), title=title, details=text))

    async def on_new_shortcut(self, ack: AsyncAck, body: dict[str, Any],
                              client: AsyncWebClient) -> None:
        await ack()
        try:
            shortcut = GlobalShortcut.model_validate(body)
        except ValidationError:
            log.warning("a shortcut Baton cannot read was ignored")
            return
        await client.views_open(trigger_id=shortcut.trigger_id,
                                view=create_modal(CreateMeta(), self._teams()))

    # --- events (after the acknowledgement) --------------------------------------------

    async def on_home_opened(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        try:
            event = HomeOpened.model_validate(body.get("event"))
        except ValidationError:
            return
        if event.tab != "home":
            return
        client = context.client
        await self.directory.learn(client, {event.user})
        await self.home.publish(self.workspace(context), event.user, context.bot_token)

    async def on_reaction(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """The configured emoji on a message raises an exception from it, once."""
        try:
            event = ReactionAdded.model_validate(body.get("event"))
        except ValidationError:
            return
        if not self.reaction_emoji or event.reaction != self.reaction_emoji \
                or event.item.type != "message" or not event.item.channel:
            return
        workspace = self.workspace(context)
        channel, ts = event.item.channel, event.item.ts
        if not await self.dedup.first_time(f"slack:tracked:{workspace}:{channel}:{ts}",
                                           TRACKED_FOR):
            return
        client = context.client
        text = mrkdwn.unescape(await self._message_text(client, channel, ts))
        permalink = await self._permalink(client, channel, ts)
        title = first_line(mrkdwn.plain(text, self.directory.name_of), 200) or \
            "An exception raised from a message"
        details = mrkdwn.clip(text, 3000)
        await self.directory.learn(client, {event.user})
        reply = await self.run(workspace, event.user, Create(
            Kind.EXCEPTION, title, details=details, channel=postable(channel), message=ts,
            permalink=permalink))
        await self._tell(client, channel, event.user, reply)

    async def _message_text(self, client: AsyncWebClient, channel: str, ts: str) -> str:
        """A message's text, whether it starts a thread or sits in one."""
        try:
            found = await client.conversations_history(channel=channel, latest=ts, oldest=ts,
                                                       inclusive=True, limit=1)
            messages = found.get("messages") or []
            if not messages:
                found = await client.conversations_replies(channel=channel, ts=ts,
                                                           inclusive=True, limit=1)
                messages = found.get("messages") or []
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            log.warning("reading the reacted message failed: %s", type(exc).__name__)
            return ""
        match = next((m for m in messages if m.get("ts") == ts), None)
        return str(match.get("text") or "") if match else ""

    async def on_mention(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """`@Baton <command>` in a channel: answered to the sender alone, like /baton."""
        try:
            event = AppMention.model_validate(body.get("event"))
        except ValidationError:
            return
        text = re.sub(rf"^\s*<@{re.escape(context.bot_user_id or '')}(\|[^>]*)?>", "",
                      event.text).strip()
        client = context.client
        reply = await self.run_text(client, self.workspace(context), event.user, text,
                                    postable(event.channel))
        await self._tell(client, event.channel, event.user, reply)
