"""The App Home tab: published when someone opens it, republished when their items change."""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.background import Background
from adapters.slack.blocks import Renderer
from adapters.slack.people import SlackPeople
from adapters.slack.views import home_view
from adapters.slack.workspaces import Workspaces
from bot.commands import ListItems, Mine
from bot.context import Request
from bot.ports import Clock
from bot.presenters import when
from bot.runner import Runner

log = logging.getLogger(__name__)


class Home:
    """Publishes each person's Home tab. Only people who have opened it are republished on a
    change, and a burst of changes (a card update, a thread line, a DM) publishes once."""

    def __init__(self, runner: Runner, people: SlackPeople, workspaces: Workspaces,
                 client: AsyncWebClient, clock: Clock, background: Background,
                 delay: float = 0.2) -> None:
        self.runner = runner
        self.people = people
        self.workspaces = workspaces
        self.client = client
        self.clock = clock
        self.background = background
        self.delay = delay
        self.viewers: set[tuple[str, str]] = set()  # (workspace, Slack user id)
        self._due: set[tuple[str, str]] = set()

    def renderer(self) -> Renderer:
        return Renderer(self.people.slack_id, self.people.name_of)

    async def view(self, workspace: str, user: str) -> dict[str, object]:
        """The Home tab of one Slack user, as the core sees their items now."""
        person = self.people.directory.person(user)
        request = Request(workspace, person.id if person else user, "slack")
        mine = await self.runner.command(request, Mine())
        team = self.people.directory.home_team(request.actor)
        board = await self.runner.command(request, ListItems(team=team))
        updated = when(self.clock.now(), person.zone if person else ZoneInfo("UTC"))
        return home_view(self.renderer(), mine.text, f"Team board: #{team}", board.text,
                         updated)

    async def publish(self, workspace: str, user: str, token: str | None = None) -> None:
        """Publish now (someone opened the tab, or acted from it)."""
        self.viewers.add((workspace, user))
        token = token or await self.workspaces.token(workspace)
        if token is None:
            log.warning("no Slack token for workspace %s; Home not published", workspace)
            return
        view = await self.view(workspace, user)
        await self.client.views_publish(user_id=user, view=view, token=token)

    def refresh(self, workspace: str, people: set[str]) -> None:
        """Republish, shortly, the tabs of these people (Baton person ids) who have one open."""
        for person in people:
            user = self.people.slack_id(person)
            key = (workspace, user or "")
            if user is None or key not in self.viewers or key in self._due:
                continue
            self._due.add(key)
            self.background.spawn(self._later(key), name=f"home {user}")

    async def _later(self, key: tuple[str, str]) -> None:
        await asyncio.sleep(self.delay)
        self._due.discard(key)
        try:
            await self.publish(*key)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("views.publish for %s failed: %s", key[1], type(exc).__name__)
