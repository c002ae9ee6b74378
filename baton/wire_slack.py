"""Slack wired into `baton serve`: the Bolt app on our aiohttp routes (or Socket Mode), OAuth
installs kept in our database, and the transport that delivers Slack's messages."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

from adapters.http.metrics import Metrics
from adapters.slack.app import SlackConfig, SlackSetupError, SlackSurface
from adapters.slack.redact import protect
from adapters.slack.transport import SlackTransport
from baton.app import App
from baton.running import Running
from baton.settings import Settings, SettingsError

log = logging.getLogger(__name__)

OAUTH_STATE_SECONDS = 600


def slack_config(settings: Settings, workspace: str) -> SlackConfig:
    def secret(value: SecretStr | None) -> str:
        return value.get_secret_value() if value is not None else ""

    return SlackConfig(
        workspace=workspace,
        signing_secret=secret(settings.slack_signing_secret),
        bot_token=secret(settings.slack_bot_token),
        app_token=secret(settings.slack_app_token),
        client_id=settings.slack_client_id or "",
        client_secret=secret(settings.slack_client_secret),
        api_url=settings.slack_api_url,
        reaction_emoji=settings.slack_reaction_emoji or "",
    )


@dataclass
class SlackWiring:
    """Slack as this process runs it: the surface, and the HTTP session its clients share."""

    surface: SlackSurface
    session: aiohttp.ClientSession
    description: str

    @property
    def transport(self) -> SlackTransport:
        return self.surface.transport

    async def close(self) -> None:
        await self.surface.close()
        await self.session.close()


async def attach(app: App, web_app: web.Application, metrics: Metrics) -> Running | None:
    """Add Slack to the server when Slack credentials are configured; None otherwise."""
    wiring = await start_slack(app, web_app)
    if wiring is None:
        return None
    return Running(wiring.description, wiring.surface.transport, wiring.close)


async def start_slack(app: App, web_app: web.Application) -> SlackWiring | None:
    """Slack's routes on `web_app` (or its Socket Mode connection), when configured.

    Slack's retries and replays are remembered where `app.dedup` says: Redis when
    BATON_REDIS_URL is set, else the database."""
    if "slack" not in app.settings.chat_surfaces():
        return None
    config = slack_config(app.settings, app.workspace)
    protect(config.signing_secret, config.bot_token, config.app_token, config.client_secret)
    installations = states = None
    if config.oauth:
        engine = app.database.engine
        installations = AsyncSQLAlchemyInstallationStore(
            client_id=config.client_id, engine=engine,
            logger=logging.getLogger("baton.slack.installations"))
        states = AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=OAUTH_STATE_SECONDS, engine=engine,
            logger=logging.getLogger("baton.slack.oauth_states"))
    session = aiohttp.ClientSession()
    surface = SlackSurface(
        config, runner=app.runner, directory=app.directory, accounts=app.accounts,
        uow=app.database.unit_of_work, clock=app.clock, dedup=app.dedup, session=session,
        installations=installations, states=states)
    surface.add_routes(web_app)
    mode = "Socket Mode" if config.socket_mode else "HTTP (/slack/events)"
    installs = "OAuth installs (/slack/install)" if config.oauth else "one workspace by token"
    wiring = SlackWiring(surface, session, f"Slack over {mode}, {installs}")
    try:
        await surface.start()
    except SlackSetupError as exc:
        await wiring.close()
        raise SettingsError([str(exc)]) from None
    except Exception:
        await wiring.close()
        raise
    return wiring
