"""Which Baton workspace a Slack team is, and which bot token speaks for a Baton workspace.

With one bot token Baton serves one workspace, named in baton.yaml. With OAuth installs each
installing Slack team is its own workspace, named by its ids, and its token is the one the
installation stored.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore


class Workspaces(ABC):
    @abstractmethod
    def of(self, team_id: str | None, enterprise_id: str | None,
           enterprise_install: bool = False) -> str:
        """The Baton workspace of a request from this Slack team."""

    @abstractmethod
    async def token(self, workspace: str) -> str | None:
        """The bot token for the workspace; None if Baton is not installed there."""


class SingleWorkspace(Workspaces):
    """One Slack workspace by its bot token (BATON_SLACK_BOT_TOKEN)."""

    def __init__(self, workspace: str, token: str) -> None:
        self.workspace = workspace
        self._token = token

    def of(self, team_id: str | None, enterprise_id: str | None,
           enterprise_install: bool = False) -> str:
        return self.workspace

    async def token(self, workspace: str) -> str | None:
        return self._token if workspace == self.workspace else None


class InstalledWorkspaces(Workspaces):
    """Every Slack team or organisation that installed Baton through OAuth."""

    def __init__(self, store: AsyncInstallationStore, ttl: float = 300.0) -> None:
        self.store = store
        self.ttl = ttl
        self._tokens: dict[str, tuple[str, float]] = {}

    def of(self, team_id: str | None, enterprise_id: str | None,
           enterprise_install: bool = False) -> str:
        if enterprise_install or not team_id:
            return enterprise_id or ""
        return f"{enterprise_id}/{team_id}" if enterprise_id else team_id

    async def token(self, workspace: str) -> str | None:
        cached = self._tokens.get(workspace)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        enterprise, _, team = workspace.rpartition("/")
        if not enterprise and workspace.startswith("E"):
            bot = await self.store.async_find_bot(enterprise_id=workspace, team_id=None,
                                                  is_enterprise_install=True)
        else:
            bot = await self.store.async_find_bot(enterprise_id=enterprise or None,
                                                  team_id=team)
        if bot is None or not bot.bot_token:
            return None
        self._tokens[workspace] = (bot.bot_token, time.monotonic() + self.ttl)
        return bot.bot_token
