"""The Slack Web API client Baton uses, and what its failures mean for a delivery."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.delivery import DeliveryFailed

SLACK_API = "https://slack.com/api/"
#: Longest Retry-After the client waits out itself; a longer one goes back to the outbox,
#: which retries the message later without holding a worker.
MAX_INLINE_WAIT = 5
TIMEOUT = 10

#: Errors Slack itself says are passing.
TRANSIENT = frozenset({"ratelimited", "rate_limited", "internal_error", "fatal_error",
                       "service_unavailable", "request_timeout"})


class BoundedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Waits out a 429 in place only when Slack asks for a short wait."""

    def __init__(self, max_retry_count: int = 2, max_wait: int = MAX_INLINE_WAIT) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response.headers)
        return wait is None or wait <= self.max_wait


def retry_handlers() -> list[AsyncRetryHandler]:
    """At most two retries in all (slack_sdk counts attempts across its handlers)."""
    return [BoundedRateLimitRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2)]


def api_url(base_url: str | None) -> str:
    url = base_url or SLACK_API
    return url if url.endswith("/") else url + "/"


def authorize_url(base_url: str | None) -> str:
    """Where OAuth installs send people to approve Baton: beside the Web API, so GovSlack's
    `https://slack-gov.com/api/` authorizes at `https://slack-gov.com/oauth/v2/authorize`."""
    root = api_url(base_url).removesuffix("/").removesuffix("/api")
    return f"{root}/oauth/v2/authorize"


class WebClient(AsyncWebClient):
    """slack_sdk's client, sending OAuth's client credentials as a Basic Authorization header
    itself: slack_sdk builds aiohttp's BasicAuth for it, which aiohttp has deprecated."""

    async def oauth_v2_access(self, *, client_id: str, client_secret: str,
                              code: str | None = None, redirect_uri: str | None = None,
                              grant_type: str | None = None, refresh_token: str | None = None,
                              **kwargs: Any) -> AsyncSlackResponse:
        given = {"code": code, "redirect_uri": redirect_uri, "grant_type": grant_type,
                 "refresh_token": refresh_token}
        kwargs.update({k: v for k, v in given.items() if v is not None})
        credentials = base64.b64encode(f"{client_id}:{client_secret}".encode("latin1"))
        return await self.api_call("oauth.v2.access", data=kwargs, headers={
            "Authorization": "Basic " + credentials.decode("ascii")})


def web_client(base_url: str | None = None, *, session: aiohttp.ClientSession | None = None,
               token: str | None = None) -> AsyncWebClient:
    """A client for the Web API at `base_url` (Slack's own by default) that retries 429s,
    5xx and dropped connections the way slack_sdk's retry handlers do."""
    return WebClient(token=token, base_url=api_url(base_url), session=session,
                     timeout=TIMEOUT, retry_handlers=retry_handlers())


def retry_after(headers: Any) -> float | None:
    """The Retry-After header in seconds, whatever shape the headers come in."""
    if not headers:
        return None
    for key in headers:
        if str(key).lower() == "retry-after":
            value = headers[key]
            value = value[0] if isinstance(value, list | tuple) else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def error_code(exc: SlackApiError) -> str:
    error = exc.response.get("error") if exc.response is not None else None
    return str(error) if error else ""


def delivery_failure(method: str, exc: BaseException) -> DeliveryFailed:
    """What a failed Web API call means for the outbox: try later (how much later, if Slack
    said) or give up: any other error (channel_not_found, not_in_channel, invalid_auth,
    account_inactive, invalid_blocks…) is one retrying cannot fix. The reason names the
    method and Slack's error, never a token."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code if exc.response is not None else 0
        code = error_code(exc) or f"HTTP {status}"
        if status == 429 or code in ("ratelimited", "rate_limited"):
            wait = retry_after(exc.response.headers) if exc.response is not None else None
            return DeliveryFailed(f"{method}: rate limited", retry_after=wait or 1.0)
        if status >= 500 or code in TRANSIENT:
            return DeliveryFailed(f"{method}: {code}")
        return DeliveryFailed(f"{method}: {code}", permanent=True)
    if isinstance(exc, SlackClientError | aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return DeliveryFailed(f"{method}: {type(exc).__name__}")
    raise exc
