"""Teams wired into `baton serve`: botbuilder's token checks and connector under our own
/api/messages route, the conversations Baton may post in kept in our database, and the
transport that delivers Teams' messages."""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from adapters.http.metrics import Metrics
from adapters.teams.auth import TeamsConfig
from adapters.teams.dialog_turns import DialogTurns
from adapters.teams.surface import MESSAGES_PATH, TeamsSurface
from baton.app import App
from baton.running import Running
from baton.settings import Settings
from store.conversations import SqlConversations

log = logging.getLogger(__name__)

LOCAL_WARNING = ("Teams WITHOUT token checks (BATON_TEAMS_LOCAL=1): anyone who can reach "
                 f"{MESSAGES_PATH} acts as anyone. For the Bot Framework Emulator and local "
                 "tries only")


def teams_config(settings: Settings, workspace: str) -> TeamsConfig:
    password = settings.teams_app_password
    return TeamsConfig(
        workspace=workspace, app_id=settings.teams_app_id or "",
        app_password=password.get_secret_value() if password is not None else "",
        tenant_id=settings.teams_tenant_id or "", local=settings.teams_local,
        openid_metadata_url=settings.teams_openid_metadata_url or "",
        login_url=settings.teams_login_url or "")


async def attach(app: App, web_app: web.Application, metrics: Metrics) -> Running | None:
    """Add Teams to the server when an app id (or BATON_TEAMS_LOCAL) is configured."""
    if "teams" not in app.settings.chat_surfaces():
        return None
    config = teams_config(app.settings, app.workspace)
    session = aiohttp.ClientSession()
    # The dialogs and the message extension (their invokes: turns.py's DIALOG_INVOKES).
    dialogs = DialogTurns(app.workspace, app.runner, app.directory)
    surface = TeamsSurface(
        config, runner=app.runner, directory=app.directory, accounts=app.accounts,
        conversations=SqlConversations(app.database, app.clock),
        uow=app.database.unit_of_work, clock=app.clock, session=session, dialogs=dialogs)
    dialogs.answer_through(surface.turns)
    surface.add_routes(web_app)

    async def close() -> None:
        await surface.close()
        await session.close()

    if config.local:
        log.warning(LOCAL_WARNING)
        description = f"Teams over HTTP ({MESSAGES_PATH}) — {LOCAL_WARNING.upper()}"
    else:
        tenant = f", tenant {config.tenant_id}" if config.tenant_id else ""
        description = f"Teams over HTTP ({MESSAGES_PATH}, app {config.app_id}{tenant})"
    return Running(description, surface.transport, close)
