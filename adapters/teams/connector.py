"""The Bot Connector (where Baton sends Teams its messages), built once and reused.

botbuilder's stock CloudAdapter builds, for every activity, new credentials, a new
ConnectorClient with its msrest pipeline and a new `requests` session (so a new TCP and TLS
connection for each reply), and runs each call on a thread of the default executor. Here, with
botbuilder's public extension points only:

- one `ConnectorClient` per service URL for the process's life (a `ConnectorFactory` that keeps
  them), its msrest pipeline sending through one shared aiohttp session (keep-alive), so a
  reply is one request on an open connection from the event loop;
- the bot's access token from MSAL's client-credentials flow, run on a worker thread (MSAL
  blocks) and kept until shortly before it expires, added to each request by an msrest policy.

msrest's own aiohttp sender opens a session of its own per sender and sends neither the
headers nor the body it is given, hence the small sender below.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import aiohttp
from botframework.connector import AsyncBfPipeline, BotFrameworkConnectorConfiguration
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ConnectorFactory
from msrest.pipeline import Request, Response
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncHTTPSender
from msrest.universal_http.aiohttp import AioHttpClientResponse

from bot.delivery import DeliveryFailed

log = logging.getLogger(__name__)

#: What a bot's token is for: the Bot Connector of the public cloud.
BOT_SCOPE = "https://api.botframework.com/.default"
PUBLIC_LOGIN = "https://login.microsoftonline.com"
#: The tenant a multi-tenant bot signs in through.
BOT_TENANT = "botframework.com"
USER_AGENT = "Baton (botbuilder-python 4.17.1)"
REQUEST_SECONDS = 15.0
#: A token is renewed this long before it expires.
RENEW_BEFORE = 300.0
#: Service URLs whose clients are kept (Teams uses a handful, one per region).
KEPT_CLIENTS = 32


class TokenError(Exception):
    """The bot could not sign in (wrong app id or secret, or the login service is down)."""


class Tokens:
    """The bot's access token for the Bot Connector, from MSAL's client-credentials flow on a
    worker thread (MSAL is blocking), kept until RENEW_BEFORE seconds before it expires;
    concurrent askers share one sign-in. With no app id (BATON_TEAMS_LOCAL without one),
    there is no token and requests go unsigned, as the Bot Framework Emulator expects."""

    def __init__(self, app_id: str, password: str, *, tenant: str = "",
                 login_url: str = PUBLIC_LOGIN, scope: str = BOT_SCOPE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app_id = app_id
        self._password = password
        self._authority = f"{(login_url or PUBLIC_LOGIN).rstrip('/')}/{tenant or BOT_TENANT}"
        self._scope = scope
        self._clock = clock
        self._token = ""
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self._app: Any = None  # msal.ConfidentialClientApplication, built on first use
        self._refused = False

    async def token(self) -> str:
        if not self.app_id:
            return ""
        if self._token and self._clock() < self._expires:
            return self._token
        async with self._lock:
            if not (self._token and self._clock() < self._expires):
                result = await asyncio.to_thread(self._sign_in)
                if "access_token" not in result:
                    raise TokenError(f"{result.get('error', 'no token')}: "
                                     f"{str(result.get('error_description', ''))[:200]}")
                lifetime = float(result.get("expires_in") or 3600)
                self._token = str(result["access_token"])
                self._expires = self._clock() + max(lifetime - RENEW_BEFORE, lifetime / 2)
        return self._token

    def forget(self) -> None:
        """The Bot Connector refused the kept token: the next request signs in again."""
        self._token = ""
        self._expires = 0.0
        self._refused = True  # and MSAL's cached copy of it too, at the next sign-in

    def _sign_in(self) -> dict[str, Any]:
        """On a worker thread: MSAL's client-credentials flow (MSAL keeps its own cache)."""
        import msal

        try:
            if self._app is None:
                self._app = msal.ConfidentialClientApplication(
                    self.app_id, client_credential=self._password, authority=self._authority,
                    instance_discovery=False, timeout=REQUEST_SECONDS)
            if self._refused:
                self._app.remove_tokens_for_client()
                self._refused = False
            result: dict[str, Any] = self._app.acquire_token_for_client(scopes=[self._scope])
        except Exception as exc:  # MSAL raises for an authority it cannot reach
            return {"error": type(exc).__name__, "error_description": str(exc)}
        return result


class Signed(AsyncHTTPPolicy[Any, Any]):
    """Adds the bot's token to each connector request (one per pipeline: msrest links each
    policy to the next)."""

    def __init__(self, tokens: Tokens) -> None:
        super().__init__()
        self.tokens = tokens

    async def send(self, request: Request[Any], **kwargs: Any) -> Response[Any, Any]:
        token = await self.tokens.token()
        if token:
            request.http_request.headers["Authorization"] = f"Bearer {token}"
        assert self.next is not None  # msrest links every policy before the first request
        return await self.next.send(request, **kwargs)


class SharedSession(AsyncHTTPSender[Any, Any]):
    """msrest's last step: the request sent on Baton's one aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> SharedSession:
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        return None

    async def send(self, request: Request[Any], **config: Any) -> Response[Any, Any]:
        http = request.http_request
        async with self.session.request(
                http.method, http.url, headers=dict(http.headers), data=http.data,
                timeout=aiohttp.ClientTimeout(total=REQUEST_SECONDS)) as answer:
            response = AioHttpClientResponse(http, answer)
            await response.load_body()
        return Response(request, response)


class Connectors(ConnectorFactory):  # type: ignore[misc]
    """One ConnectorClient per service URL, built on first use and kept."""

    def __init__(self, tokens: Tokens, session: aiohttp.ClientSession) -> None:
        self.tokens = tokens
        self.session = session
        self._clients: OrderedDict[str, ConnectorClient] = OrderedDict()

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        return self.client(service_url)

    def client(self, service_url: str) -> ConnectorClient:
        client = self._clients.get(service_url)
        if client is not None:
            self._clients.move_to_end(service_url)
            return client
        config = BotFrameworkConnectorConfiguration(
            Signed(self.tokens), service_url, pipeline_type=AsyncBfPipeline,
            sender=SharedSession(self.session))
        client = ConnectorClient(None, custom_configuration=config)
        # msrest's client, once built, links the token policy into a default pipeline of its
        # own that sends with `requests` on a worker thread (a session of its own): the
        # pipeline built again on the configuration links it back to ours, which sends on
        # the shared session (tests/adapters/teams/test_connector.py).
        client.config.pipeline = AsyncBfPipeline(client.config)
        client.config.add_user_agent(USER_AGENT)
        self._clients[service_url] = client
        while len(self._clients) > KEPT_CLIENTS:
            self._clients.popitem(last=False)
        return client


#: What each answer of the Bot Connector means for a delivery: Teams asks bots to retry 429,
#: 412, 502 and 504 (and a 5xx is passing); the rest will not change by retrying.
RETRIED = frozenset({408, 412, 429, 500, 502, 503, 504})


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a failed connector call (msrest keeps aiohttp's response there)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if isinstance(status, int) else None


def error_code(exc: BaseException) -> str:
    """The Bot Connector's error code in a failed call (ConversationNotFound…)."""
    error = getattr(getattr(exc, "error", None), "error", None)
    return str(getattr(error, "code", "") or "")


def delivery_failure(call: str, exc: BaseException) -> DeliveryFailed:
    """A failed connector call as the outbox reads it: retried (after Retry-After, when Teams
    says) or parked."""
    if isinstance(exc, TokenError):
        return DeliveryFailed(f"{call}: the bot could not sign in ({exc})")
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return DeliveryFailed(f"{call}: {type(exc).__name__}")
    status = status_of(exc)
    code = error_code(exc)
    reason = f"{call}: HTTP {status}" + (f" {code}" if code else "")
    if status is None:
        return DeliveryFailed(f"{call}: {type(exc).__name__}: {str(exc)[:200]}")
    if status in RETRIED:
        return DeliveryFailed(reason, retry_after=retry_after(exc))
    if status == 401:  # the token refused (revoked, rotated): signed in again, retried
        return DeliveryFailed(reason + ": the bot's token was refused")
    return DeliveryFailed(reason, permanent=True)


def retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None
