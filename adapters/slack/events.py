"""Events, handled after Slack has its acknowledgement: the Home tab opened, the reaction that
raises an exception from a message, and `@Baton <command>` in a channel."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from adapters.slack import mrkdwn
from adapters.slack.answering import Answering, first_line, postable
from adapters.slack.payloads import AppMention, HomeOpened, ReactionAdded, ValidationError
from adapters.slack.shortcuts import Shortcuts
from bot.commands import Create
from bot.items import Kind
from bot.ports import Deduplicator

log = logging.getLogger(__name__)

EventWork = Callable[[dict[str, Any], AsyncBoltContext], Coroutine[Any, Any, None]]
TRACKED_FOR = timedelta(days=30)  # a message reacted to twice raises one exception


class Events:
    def __init__(self, answering: Answering, dedup: Deduplicator, reaction_emoji: str = "",
                 shortcuts: Shortcuts | None = None) -> None:
        self.answering = answering
        self.dedup = dedup
        self.reaction_emoji = reaction_emoji.strip(":")
        self.shortcuts = shortcuts or Shortcuts(answering)

    def after_ack(self, work: EventWork) -> Callable[..., Awaitable[None]]:
        """A listener that acknowledges at once and does `work` afterwards, so no Web API
        call holds Slack's answer (and Slack does not retry for want of one)."""
        async def listener(ack: AsyncAck, body: dict[str, Any],
                           context: AsyncBoltContext) -> None:
            await ack()
            self.answering.background.spawn(work(body, context), name=work.__name__)
        listener.__name__ = work.__name__
        return listener

    async def on_home_opened(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        event = _read(HomeOpened, body)
        if event is None or event.tab != "home":
            return
        await self.answering.people.learn(context.client, {event.user})
        await self.answering.home.publish(self.answering.workspace(context), event.user,
                                          context.bot_token)

    async def on_reaction(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """The configured emoji on a message raises an exception from it, once."""
        event = _read(ReactionAdded, body)
        if event is None or not self.reaction_emoji or event.reaction != self.reaction_emoji \
                or event.item.type != "message" or not event.item.channel:
            return
        answering = self.answering
        workspace = answering.workspace(context)
        channel, ts = event.item.channel, event.item.ts
        if not await self.dedup.first_time(f"slack:tracked:{workspace}:{channel}:{ts}",
                                           TRACKED_FOR):
            return
        client = context.client
        text = await self.shortcuts.readable(
            client, await answering.message_text(client, channel, ts))
        permalink = await answering.permalink(client, channel, ts)
        title = first_line(text, 200) or "An exception raised from a message"
        reply = await answering.run(client, workspace, event.user, Create(
            Kind.EXCEPTION, title, details=mrkdwn.clip(text, 3000), channel=postable(channel),
            message=ts, permalink=permalink))
        await answering.tell(client, channel, event.user, reply)

    async def on_mention(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """`@Baton <command>` in a channel: answered to the sender alone, like /baton."""
        event = _read(AppMention, body)
        if event is None:
            return
        text = re.sub(rf"^\s*<@{re.escape(context.bot_user_id or '')}(\|[^>]*)?>", "",
                      event.text).strip()
        client = context.client
        reply = await self.answering.run_text(client, self.answering.workspace(context),
                                              event.user, text, postable(event.channel))
        await self.answering.tell(client, event.channel, event.user, reply)


def _read(model: type[Any], body: dict[str, Any]) -> Any:
    """The event as `model`, or None (logged in one line) when Slack sent something else."""
    try:
        return model.model_validate(body.get("event"))
    except ValidationError:
        log.warning("a Slack %s event Baton cannot read was ignored", model.__name__)
        return None
