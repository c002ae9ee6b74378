"""Slack wired into `baton serve`: the Bolt app on our aiohttp routes (or Socket Mode), OAuth
installs kept in our database, the Slack-aware directory and the outbox transport."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

from adapters.http.metrics import Metrics
from adapters.http.server import METRICS
from adapters.slack.app import SlackConfig, SlackSetupError, SlackSurface
from adapters.slack.people import SlackDirectory
from adapters.slack.redact import protect
from adapters.slack.transport import SlackTransport
from baton.app import App
from baton.settings import Settings, SettingsError
from bot.config import ConfigDirectory

log = logging.getLogger(__name__)

OAUTH_STATE_SECONDS = 600


@dataclass
class SlackWiring:
    surface: SlackSurface
    session: aiohttp.ClientSession

    @property
    def transport(self) -> SlackTransport:
        """What the outbox worker delivers Slack messages through."""
        return self.surface.transport

    async def close(self) -> None:
        await self.surface.close()
        await self.session.close()


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


async def attach_slack(web_app: web.Application, app: App) -> SlackWiring | None:
    """Add Slack to the server when Slack credentials are configured; None otherwise.

    The core's directory becomes the Slack-aware one (teams' Slack channels, people found by
    Slack id, names and zones from users.info), so cards, digests and DMs name Slack's
    channels and users. Slack's retries and replays are remembered where `app.dedup` says:
    Redis when BATON_REDIS_URL is set, else the database.
    """
    if app.settings.chat_surface() != "slack":
        return None
    config = slack_config(app.settings, app.workspace)
    protect(config.signing_secret, config.bot_token, config.app_token, config.client_secret)
    base = ConfigDirectory(app.config, surface="slack")
    directory = SlackDirectory(base)
    app.directory = base
    app.baton.directory = directory
    installations = states = None
    if config.oauth:
        engine = app.database.engine
        installations = AsyncSQLAlchemyInstallationStore(
            client_id=config.client_id, engine=engine,
            logger=logging.getLogger("baton.slack.installations"))
        states = AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=OAUTH_STATE_SECONDS, engine=engine,
            logger=logging.getLogger("baton.slack.oauth_states"))
    metrics: Metrics | None = web_app.get(METRICS)
    session = aiohttp.ClientSession()
    surface = SlackSurface(
        config, core=app.baton, directory=directory, uow=app.database.unit_of_work,
        clock=app.clock, dedup=app.dedup, session=session,
        installations=installations, states=states,
        observe=(lambda command, seconds: metrics.observe_command("slack", command, seconds))
        if metrics is not None else None)
    surface.add_routes(web_app)
    wiring = SlackWiring(surface, session)
    try:
        await surface.start()
    except SlackSetupError as exc:
        await wiring.close()
        raise SettingsError([str(exc)]) from None
    except Exception:
        await wiring.close()
        raise

    async def cleanup(_: web.Application) -> None:
        await wiring.close()

    web_app.on_cleanup.append(cleanup)
    mode = "Socket Mode" if config.socket_mode else "HTTP (/slack/events)"
    installs = "OAuth installs (/slack/install)" if config.oauth else "one workspace by token"
    log.info("Slack: %s, %s", mode, installs)
    return wiring
