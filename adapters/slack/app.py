"""Baton's Slack app: a Bolt AsyncApp dispatched from our own aiohttp routes, or over Socket
Mode, with the transport the outbox delivers through.

Bolt runs with `process_before_response=True`: a listener finishes before Slack gets its
answer, so a slash command is answered with its reply in the acknowledgement itself. Work
that needs not hold the acknowledgement (events) runs in Bolt's lazy listeners.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.answering import Answering
from adapters.slack.background import Background
from adapters.slack.home import Home
from adapters.slack.listeners import register
from adapters.slack.people import SlackPeople
from adapters.slack.signing import refusal
from adapters.slack.transport import SlackTransport
from adapters.slack.webapi import (
    TIMEOUT,
    api_url,
    authorize_url,
    delivery_failure,
    error_code,
    web_client,
)
from adapters.slack.workspaces import InstalledWorkspaces, SingleWorkspace, Workspaces
from bot.people import Directory
from bot.ports import Accounts, Clock, Deduplicator, UnitOfWorkFactory
from bot.runner import Runner

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
#: What the bot may do; the manifests ask for the same.
BOT_SCOPES = ("app_mentions:read", "channels:history", "chat:write", "chat:write.public",
              "commands", "files:write", "groups:history", "im:history", "im:write",
              "mpim:history", "reactions:read", "usergroups:read", "users:read",
              "users:read.email")


#: The largest body taken on Slack's routes, checked before the signature (which needs the
#: whole body). Slack's largest payloads, a shortcut on a 40,000-character message with its
#: blocks, form-encoded, stay well below it.
MAX_BODY_BYTES = 1024 * 1024
#: A Bolt log line is cut to its first line and this many characters: Bolt logs whole
#: request bodies (and multi-line code suggestions) on some paths.
LOG_LINE_LIMIT = 300
#: Socket Mode while Slack cannot be reached: the first wait before asking again, doubled
#: (give or take a fifth, so replicas do not ask in step) up to the longest.
RETRY_FIRST_SECONDS = 1.0
RETRY_LONGEST_SECONDS = 60.0


class OneLine(logging.Filter):
    """Cuts each log record to one short line (and, with `tracebacks=False`, drops the
    traceback a library attaches to what is only a passing failure). Bolt copies the filters
    of the logger it is given to every logger it makes, so one filter covers all of Bolt's."""

    def __init__(self, *, tracebacks: bool = True) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        line = message.split("\n", 1)[0]
        if len(line) > LOG_LINE_LIMIT:
            line = line[:LOG_LINE_LIMIT - 1] + "…"
        if line != message:
            record.msg, record.args = line, None
        if not self.tracebacks:
            record.exc_info = record.exc_text = None
        return True


def bolt_logger() -> logging.Logger:
    """The logger Bolt is given (and copies to the loggers it makes), lines cut short."""
    return _one_line(logging.getLogger("baton.bolt"), tracebacks=True)


def socket_logger() -> logging.Logger:
    """The logger slack_sdk's Socket Mode client is given: it logs each failed reconnection
    with a traceback; here each is one line (the error is in its message)."""
    return _one_line(logging.getLogger("baton.slack.socket"), tracebacks=False)


def _one_line(logger: logging.Logger, *, tracebacks: bool) -> logging.Logger:
    if not any(isinstance(f, OneLine) for f in logger.filters):
        logger.addFilter(OneLine(tracebacks=tracebacks))
    return logger


async def _capped_body(request: web.Request, limit: int) -> bytes | None:
    """The request's body, or None when it is longer than `limit` (refused by its
    Content-Length before any of it is read, or as soon as a chunked body passes it)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _utf8(body: bytes, charset: str | None) -> str | None:
    """The body as text when it is UTF-8 (as Slack sends it) and says so or says nothing."""
    if charset is not None:
        try:
            if codecs.lookup(charset).name != "utf-8":
                return None
        except LookupError:
            return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _odd_shape(body: Any) -> str:
    """What in a parsed Slack body would trip Bolt's own code ('' when nothing does)."""
    if not isinstance(body, dict):
        return f"the body is not an object ({type(body).__name__})"
    event = body.get("event")
    if event is not None and not isinstance(event, dict):
        return f"its event is not an object ({type(event).__name__})"
    return ""


def _unreadable() -> web.Response:
    return web.json_response({"error": "unreadable request"}, status=400)


class SlackSetupError(Exception):
    """Slack refused what Baton was configured with; str() names the setting."""


@dataclass(frozen=True)
class SlackConfig:
    """The Slack side of the settings. Secrets are plain strings here: handle with care."""

    workspace: str  # the Baton workspace a single bot token serves
    signing_secret: str = ""
    bot_token: str = ""
    app_token: str = ""  # Socket Mode
    client_id: str = ""
    client_secret: str = ""
    api_url: str | None = None
    reaction_emoji: str = ""

    @property
    def oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)


class SlackSurface:
    """Everything Slack: the Bolt app, its routes, Socket Mode, the transport, App Home."""

    def __init__(self, config: SlackConfig, *, runner: Runner, directory: Directory,
                 accounts: Accounts, uow: UnitOfWorkFactory, clock: Clock,
                 dedup: Deduplicator, session: aiohttp.ClientSession,
                 installations: AsyncInstallationStore | None = None,
                 states: AsyncOAuthStateStore | None = None) -> None:
        if config.oauth and (installations is None or states is None):
            raise ValueError("OAuth installs need an installation store and a state store")
        self.config = config
        self.session = session
        self.background = Background()
        self.client = web_client(config.api_url, session=session)
        self.workspaces: Workspaces = InstalledWorkspaces(installations) \
            if config.oauth and installations is not None \
            else SingleWorkspace(config.workspace, config.bot_token)
        self.people = SlackPeople(directory, accounts)
        self.home = Home(runner, self.people, self.workspaces, self.client, clock,
                         self.background)
        self.transport = SlackTransport(self.client, self.workspaces, uow, self.people,
                                        self.home)
        answering = Answering(runner, self.people, self.workspaces, self.home,
                              self.background, session)
        self.bolt = self._bolt(installations, states)
        register(self.bolt, answering, dedup, config.reaction_emoji)
        self._socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None

    def _bolt(self, installations: AsyncInstallationStore | None,
              states: AsyncOAuthStateStore | None) -> AsyncApp:
        logger = bolt_logger()
        if not self.config.oauth or installations is None:
            return AsyncApp(name="baton", logger=logger, process_before_response=True,
                            signing_secret=self.config.signing_secret,
                            request_verification_enabled=True,
                            client=web_client(self.config.api_url, session=self.session,
                                              token=self.config.bot_token))
        settings = AsyncOAuthSettings(
            authorization_url=authorize_url(self.config.api_url),
            client_id=self.config.client_id, client_secret=self.config.client_secret,
            scopes=list(BOT_SCOPES), user_scopes=[], installation_store=installations,
            installation_store_bot_only=True, state_store=states, install_path=INSTALL_PATH,
            install_page_rendering_enabled=False,
            redirect_uri_path=REDIRECT_PATH, logger=logger)
        # Bolt's own authorize, with its per-token cache: no auth.test on every request.
        authorize = AsyncInstallationStoreAuthorize(
            logger=logger, installation_store=installations, client_id=self.config.client_id,
            client_secret=self.config.client_secret, bot_only=True, cache_enabled=True,
            client=self.client)
        return AsyncApp(name="baton", logger=logger, process_before_response=True,
                        signing_secret=self.config.signing_secret,
                        request_verification_enabled=True,
                        client=web_client(self.config.api_url, session=self.session),
                        oauth_settings=settings, installation_store_bot_only=True,
                        authorize=cast("Callable[..., Awaitable[AuthorizeResult]]", authorize))

    # --- HTTP ---------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """/slack/events (unless Socket Mode), and /slack/install and /slack/oauth_redirect
        when OAuth installs are configured."""
        if not self.config.socket_mode and self.config.signing_secret:
            app.router.add_post(EVENTS_PATH, self.events)
        if self.bolt.oauth_flow is not None:
            app.router.add_get(INSTALL_PATH, self._oauth(self.bolt.oauth_flow
                                                          .handle_installation))
            app.router.add_get(REDIRECT_PATH, self._oauth(self.bolt.oauth_flow.handle_callback))

    async def events(self, request: web.Request) -> web.Response:
        """Slack's requests: the signature is checked on the body's bytes before anything
        reads them (unsigned, forged, stale or oversized: refused with one log line, no
        body), then the signed text is answered by Bolt. A signed body Baton cannot read
        gets 400; an event that is not an object is acknowledged and dropped."""
        body = await _capped_body(request, MAX_BODY_BYTES)
        if body is None:
            log.info("Slack request refused: body over %d bytes", MAX_BODY_BYTES)
            return web.json_response({"error": "request too large"}, status=413)
        why = refusal(body, request.headers, self.config.signing_secret, time.time())
        if why is not None:
            log.info("Slack request refused (%s): %d bytes", why, len(body))
            return web.json_response({"error": "invalid request"}, status=401)
        text = _utf8(body, request.charset)
        if text is None:
            log.warning("a signed Slack request Baton cannot read: not UTF-8 (charset %.40r)",
                        request.charset)
            return _unreadable()
        try:
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string,
                                            headers=dict(request.headers))
        except Exception as exc:  # not Slack's JSON or form encoding
            log.warning("a signed Slack request Baton cannot read: %s", type(exc).__name__)
            return _unreadable()
        shape = _odd_shape(bolt_request.body)
        if shape:
            # Signed, so Slack's: acknowledge, or Slack would retry what Baton cannot read.
            log.warning("a signed Slack request Baton ignores: %s", shape)
            return web.Response(status=200)
        try:
            response = await self.bolt.async_dispatch(bolt_request)
        except Exception as exc:  # Bolt fails on shapes it does not expect
            log.warning("a signed Slack request Baton cannot read: %s", type(exc).__name__)
            return _unreadable()
        return await to_aiohttp_response(response)

    def _oauth(self, handle: Callable[[AsyncBoltRequest], Awaitable[object]]
               ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def route(request: web.Request) -> web.Response:
            bolt_request = AsyncBoltRequest(body="", query=request.query_string,
                                            headers=dict(request.headers))
            response = await handle(bolt_request)
            return await to_aiohttp_response(response)  # type: ignore[arg-type]
        return route

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Socket Mode, when an app token is configured: the token is checked with Slack
        (one that Slack refuses stops start-up with SlackSetupError), then the connection is
        made in the background, so the HTTP server's health endpoints answer meanwhile and
        slack_sdk keeps reconnecting through an outage."""
        if not self.config.socket_mode:
            return
        failure = await self._app_token_failure()
        self._socket = AsyncSocketModeHandler(self.bolt, self.config.app_token,
                                              logger=socket_logger(), web_client=self.client)
        self._connecting = asyncio.create_task(self._connect(self._socket, failure),
                                               name="slack socket mode")

    async def _app_token_failure(self) -> str | None:
        """Ask Slack for a connection with the app token: None when it answers, else why
        not (a passing failure); SlackSetupError when Slack refuses the token for good."""
        # Asked once per attempt: the backoff below is the retrying (the shared client's own
        # retries would add their waits and log lines to every attempt).
        once = AsyncWebClient(base_url=api_url(self.config.api_url), session=self.session,
                              timeout=TIMEOUT, retry_handlers=[])
        try:
            await once.apps_connections_open(app_token=self.config.app_token)
        except SlackApiError as exc:
            code = error_code(exc)
            # Slack's answer means what it means for a delivery: passing, or for good.
            failed = delivery_failure("apps.connections.open", exc)
            if failed.permanent:
                raise SlackSetupError(
                    f"BATON_SLACK_APP_TOKEN: Slack refused the app token "
                    f"({code or str(failed)}); it must be "
                    "an app-level token (xapp-…) with the connections:write scope") from None
            return code or "no answer"
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            return type(exc).__name__
        return None

    async def _connect(self, socket: AsyncSocketModeHandler, failure: str | None) -> None:
        """Until Slack answers, ask again after a wait that doubles (one log line each time);
        then slack_sdk connects and keeps the connection, reconnecting by itself."""
        delay = RETRY_FIRST_SECONDS
        while failure is not None:
            wait = delay * random.uniform(0.8, 1.2)
            log.warning("Slack: no Socket Mode connection yet (%s); asking again in %.3g s",
                        failure, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, RETRY_LONGEST_SECONDS)
            try:
                failure = await self._app_token_failure()
            except SlackSetupError as exc:
                log.error("Slack: Socket Mode stopped: %s", exc)
                return
        try:
            await socket.connect_async()  # type: ignore[no-untyped-call]
        except Exception as exc:  # slack_sdk retries by itself; this is what it gave up on
            log.error("Slack: the Socket Mode connection failed (%s)", type(exc).__name__)
            return
        log.info("Slack: connected over Socket Mode")

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
            self._connecting = None
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        await self.background.close()
