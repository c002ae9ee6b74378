"""Who may talk to Baton on /api/messages: botframework's own token validation.

Every request with an app id configured carries a JWT from the Bot Framework; botframework's
ConfigurationBotFrameworkAuthentication checks it (issuer, audience = our app id, a signing key
from the OpenID metadata, lifetime, the `serviceurl` claim against the activity's service
URL). With BATON_TEAMS_TENANT_ID the activity must come from that tenant too. Anything it
refuses, or fails on, is a refusal: never a 500.

botframework fetches the signing keys with `requests`, blocking, when they are a day old or a
token names a key it has not seen (at most hourly); so validation runs on a thread of its own
with its own event loop, and Baton's loop never waits on that fetch.

With BATON_TEAMS_LOCAL=1 nothing is checked (the Bot Framework Emulator, local tries): Baton
says so loudly at start.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

from adapters.teams.connector import PUBLIC_LOGIN, Connectors

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Where the Bot Framework publishes its signing keys, and whose tokens it issues.
PUBLIC_OPENID = "https://login.botframework.com/v1/.well-known/openidconfiguration"
CHANNEL_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
CHANNEL_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE


@dataclass(frozen=True)
class TeamsConfig:
    """The Teams side of the settings. The password is a plain string here: handle with care."""

    workspace: str
    app_id: str = ""
    app_password: str = ""
    tenant_id: str = ""
    local: bool = False  # no token checks (the Emulator, local tries)
    openid_metadata_url: str = ""  # another cloud's (or a test's) signing keys
    login_url: str = ""  # another cloud's (or a test's) sign-in service


class Refused(Exception):
    """A request Baton does not take: str() says why, for the log (never for the caller)."""


class _Settings:
    """What ConfigurationBotFrameworkAuthentication reads (attributes in botbuilder's naming)."""

    def __init__(self, config: TeamsConfig) -> None:
        self.APP_ID = config.app_id
        self.APP_PASSWORD = config.app_password
        self.APP_TYPE = "SingleTenant" if config.tenant_id and config.app_id else "MultiTenant"
        self.APP_TENANTID = config.tenant_id
        if config.openid_metadata_url:
            # Another cloud's keys: botbuilder then takes every endpoint from here.
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = config.openid_metadata_url
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = config.openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = CHANNEL_ISSUER
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = CHANNEL_SCOPE
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = \
                f"{(config.login_url or PUBLIC_LOGIN).rstrip('/')}/" \
                f"{config.tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT}"
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
            self.CALLER_ID = CallerIdConstants.public_azure_channel
            self.VALIDATE_AUTHORITY = True


class TeamsAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """botframework's authentication with Baton's connectors: every connector the adapter
    asks for (replies, proactive messages) is one of the kept ones, and the user-token client
    is built once. Validation itself is botframework's, on its own thread (`check`)."""

    def __init__(self, config: TeamsConfig, connectors: Connectors) -> None:
        self.config = config
        self.connectors = connectors
        self.inner = ConfigurationBotFrameworkAuthentication(_Settings(config))
        self._user_tokens: UserTokenClient | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="baton-teams-auth", daemon=True)
        self._thread.start()

    # --- what /api/messages asks ---------------------------------------------------------

    async def check(self, activity: Activity, header: str) -> AuthenticateRequestResult:
        """The request's claims, or Refused. With BATON_TEAMS_LOCAL nothing is checked."""
        if self.config.local:
            result = AuthenticateRequestResult()
            result.claims_identity = ClaimsIdentity(
                {}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)
            result.audience = CHANNEL_SCOPE
        else:
            if not header:
                raise Refused("no Authorization header")
            try:
                result = await self._aside(self.inner.authenticate_request(activity, header))
            except Exception as exc:  # botframework raises whatever it meets: all refusals
                raise Refused(f"{type(exc).__name__}: {str(exc)[:120]}") from None
            if result is None or result.claims_identity is None:
                raise Refused("no identity in the token")
            tenant = _tenant_of(activity)
            if self.config.tenant_id and tenant != self.config.tenant_id:
                raise Refused(f"tenant {tenant[:40]!r} is not BATON_TEAMS_TENANT_ID")
        result.connector_factory = self.connectors
        return result

    async def _aside(self, work: Coroutine[Any, Any, T]) -> T:
        """`work` run on the validation thread's loop, awaited from the caller's."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    # --- BotFrameworkAuthentication, as the adapter uses it --------------------------------

    async def authenticate_request(self, activity: Activity,
                                   auth_header: str) -> AuthenticateRequestResult:
        try:
            return await self.check(activity, auth_header)
        except Refused as exc:
            raise PermissionError(str(exc)) from None

    async def authenticate_streaming_request(self, auth_header: str,
                                             channel_id_header: str) -> AuthenticateRequestResult:
        raise PermissionError("Baton takes Teams activities over HTTP only")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self.connectors

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        if self._user_tokens is None:
            self._user_tokens = await self.inner.create_user_token_client(claims_identity)
        return self._user_tokens

    def get_originating_audience(self) -> str:
        return str(self.inner.get_originating_audience())


def _tenant_of(activity: Activity) -> str:
    conversation = activity.conversation
    tenant = getattr(conversation, "tenant_id", None) if conversation is not None else None
    if not tenant:
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        tenant = (data.get("tenant") or {}).get("id") if isinstance(data.get("tenant"),
                                                                     dict) else None
    return str(tenant or "")
