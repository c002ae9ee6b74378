"""What Baton's Slack listeners share: which workspace a request is from, running a command as
the Slack user who sent it, answering that user alone, and the Web API reads they need."""

from __future__ import annotations

import logging
from dataclasses import replace

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import mrkdwn
from adapters.slack.background import Background
from adapters.slack.blocks import Block, Renderer
from adapters.slack.home import Home
from adapters.slack.payloads import BlockAction
from adapters.slack.people import MentionError, SlackPeople, SlackText
from adapters.slack.views import notice_modal
from adapters.slack.workspaces import Workspaces
from bot import presenters as say
from bot.commands import Command, Create
from bot.context import Request
from bot.rich import Rich
from bot.runner import Runner
from bot.service import Reply

log = logging.getLogger(__name__)

SURFACE = "slack"


def postable(channel_id: str, channel_name: str = "") -> str:
    """The channel to post a new item's card in, if Baton can post there (not a DM)."""
    if channel_id[:1] in ("C", "G") and not channel_name.startswith("mpdm-") \
            and channel_name != "directmessage":
        return channel_id
    return ""


def first_line(text: str, limit: int) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return mrkdwn.clip(line, limit)


class Answering:
    def __init__(self, runner: Runner, people: SlackPeople, workspaces: Workspaces, home: Home,
                 background: Background, session: aiohttp.ClientSession | None = None) -> None:
        self.runner = runner
        self.people = people
        self.text = SlackText(people)
        self.workspaces = workspaces
        self.home = home
        self.background = background
        self.session = session

    def renderer(self) -> Renderer:
        return Renderer(self.people.slack_id, self.people.name_of)

    def workspace(self, context: AsyncBoltContext) -> str:
        return self.workspaces.of(context.team_id, context.enterprise_id,
                                  bool(context.is_enterprise_install))

    def teams(self) -> list[str]:
        return [t.name for t in self.people.directory.teams()]

    # --- running commands ---------------------------------------------------------------

    async def run(self, client: AsyncWebClient, workspace: str, user: str, command: Command,
                  delivery: str = "", *, names: tuple[str, ...] = ()) -> Reply:
        """One command through the core as this Slack user (and the Slack users it names,
        recognised first)."""
        await self.people.learn(client, {user, *names})
        request = Request(workspace, self.people.person_id(user), SURFACE, delivery)
        return await self.runner.command(request, command)

    async def run_text(self, client: AsyncWebClient, workspace: str, user: str, text: str,
                       channel: str = "", delivery: str = "") -> Reply:
        """Command text as typed in Slack: its mentions read as Baton's references."""
        await self.people.learn(client, {user})
        try:
            line = await self.text.read(client, text)
        except MentionError as exc:
            return Reply(say.cannot_use(str(exc)), ok=False)
        request = Request(workspace, self.people.person_id(user), SURFACE, delivery)

        def raised_here(command: Command) -> Command:
            if isinstance(command, Create) and channel:
                return replace(command, channel=channel)
            return command

        return await self.runner.text(request, line, raised_here)

    # --- answering one person -----------------------------------------------------------

    async def tell(self, client: AsyncWebClient, channel: str, user: str, reply: Reply) -> None:
        """An ephemeral note to one person in a channel (they may not be in it: best effort)."""
        renderer = self.renderer()
        try:
            await client.chat_postEphemeral(channel=channel, user=user,
                                            text=renderer.fallback(reply.text),
                                            blocks=renderer.message(reply.text, reply.cards))
        except SlackApiError as exc:
            log.info("ephemeral note not posted: %s", exc.response.get("error"))

    async def refuse(self, client: AsyncWebClient, click: BlockAction, text: Rich) -> None:
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

    async def more_pages(self, response_url: str, pages: list[list[Block]], text: Rich) -> None:
        """A reply's pages after the first, in order, as further ephemeral messages."""
        webhook = AsyncWebhookClient(response_url, session=self.session)
        fallback = self.renderer().fallback(text)
        for page in pages:
            await webhook.send(text=fallback, blocks=page, response_type="ephemeral",
                               replace_original=False)

    # --- Web API reads ------------------------------------------------------------------

    async def permalink(self, client: AsyncWebClient, channel: str, ts: str) -> str:
        if not channel or not ts:
            return ""
        try:
            response = await client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            log.warning("chat.getPermalink failed: %s", type(exc).__name__)
            return ""
        link = response.get("permalink")
        return link if isinstance(link, str) else ""

    async def message_text(self, client: AsyncWebClient, channel: str, ts: str) -> str:
        """A message's text as Slack sends it, whether it starts a thread or sits in one."""
        try:
            found = await client.conversations_history(channel=channel, latest=ts, oldest=ts,
                                                       inclusive=True, limit=1)
            messages = found.get("messages") or []
            if not messages:
                found = await client.conversations_replies(channel=channel, ts=ts,
                                                           inclusive=True, limit=1)
                messages = found.get("messages") or []
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            log.warning("reading the message failed: %s", type(exc).__name__)
            return ""
        match = next((m for m in messages if m.get("ts") == ts), None)
        return str(match.get("text") or "") if match else ""
