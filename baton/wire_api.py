"""The API surface wired to the core and the store: /api/v1 (and /mcp) on `baton serve`, and
what `baton token` and `baton mcp` use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass

from aiohttp import web

from adapters.api.ratelimit import RateLimit
from adapters.api.routes import api_app
from adapters.api.service import ApiService, hash_token, new_signing_secret, new_token
from adapters.api.transport import WebhookTransport
from adapters.api.watch import Watch
from baton.app import App
from bot.clients import Client, Scope
from store.api import SqlApiRequests, SqlClients, SqlItemIndex, SqlReceipts, SqlSubscriptions

log = logging.getLogger(__name__)

CLIENT_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def service(app: App) -> ApiService:
    """The API's service over this deployment's database (and Redis, when configured)."""
    db = app.database
    channel = f"baton:items:{app.workspace}"
    redis = app.redis

    async def publish(number: int) -> None:
        assert redis is not None
        await redis.publish(channel, str(number))

    index = SqlItemIndex(db)
    watch = Watch(index, app.workspace, interval=1.0 if redis else 0.25,
                  publish=publish if redis else None)
    return ApiService(app.baton, app.directory, app.clock, app.workspace,
                      SqlClients(db), SqlApiRequests(db), index, watch, SqlSubscriptions(db))


def webhooks(app: App) -> WebhookTransport:
    """What delivers the API's webhooks from the outbox (surface "api")."""
    db = app.database
    return WebhookTransport(SqlItemIndex(db), SqlSubscriptions(db), SqlReceipts(db), app.clock)


@dataclass
class ApiSurface:
    service: ApiService
    web: web.Application


def attach_api(web_app: web.Application, app: App) -> ApiSurface:
    """Serve /api/v1 on `web_app` (baton/surfaces.py adds /mcp beside it)."""
    api = service(app)
    limit = RateLimit(app.settings.api_rate_limit, app.settings.redis_url)
    sub = api_app(api, limit)
    if app.redis is not None:
        sub.cleanup_ctx.append(_listen(app, api.watch))
    web_app.add_subapp("/api/v1", sub)
    return ApiSurface(api, sub)


def _listen(app: App, watch: Watch):  # type: ignore[no-untyped-def]
    """Wake this replica's long-polls when another replica publishes a change."""

    async def context(_: web.Application):  # type: ignore[no-untyped-def]
        assert app.redis is not None
        task = asyncio.create_task(_subscribe(app, watch), name="baton-api-changes")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context


async def _subscribe(app: App, watch: Watch) -> None:
    assert app.redis is not None
    while True:
        try:
            async with app.redis.pubsub() as pubsub:
                await pubsub.subscribe(f"baton:items:{app.workspace}")
                async for message in pubsub.listen():
                    data = message.get("data")
                    if message.get("type") == "message" and data is not None:
                        text = data.decode() if isinstance(data, bytes) else str(data)
                        if text.isdecimal():
                            watch.wake(int(text))
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis away: the database reads still wake every waiter
            log.warning("Redis subscription for long-polls lost; retrying", exc_info=True)
            await asyncio.sleep(5)


# --- baton token ------------------------------------------------------------------------------

class TokenError(ValueError):
    """A token request that cannot be granted; str() says what to change."""


async def create_token(app: App, name: str, team: str, scopes: list[str],
                       owner: str | None) -> tuple[str, Client]:
    """A new token (returned once, stored hashed) for client `name`."""
    if not CLIENT_NAME.fullmatch(name):
        raise TokenError(f"--name {name!r}: use lower-case letters, digits, '.', '_' or '-' "
                         f"(at most 64), as in release-pipeline")
    if not app.directory.config.open and app.directory.person(name) is not None:
        raise TokenError(f"--name {name!r} is a person in baton.yaml; name the client for "
                         f"the system it is (and use --owner for the person it acts for)")
    found = app.directory.team(team)
    if found is None:
        known = ", ".join(t.name for t in app.directory.teams())
        raise TokenError(f"--team {team!r}: no such team (teams: {known})")
    granted: set[Scope] = set()
    for scope in scopes or [Scope.WRITE.value]:
        try:
            granted.add(Scope(scope))
        except ValueError:
            raise TokenError(f"--scope {scope!r}: expected one of "
                             f"{', '.join(s.value for s in Scope)}") from None
    person = None
    if owner is not None:
        who = app.directory.person(owner.lstrip("@"))
        if who is None:
            raise TokenError(f"--owner {owner!r}: no such person in baton.yaml")
        person = who.id
    if Scope.DECIDE in granted and person is None:
        raise TokenError("--scope items:decide needs --owner: a decision is made by a person, "
                         "as that person")
    token = new_token()
    client = Client(0, name, found.name, frozenset(granted), person, token[:12],
                    app.clock.now(), signing_secret=new_signing_secret())
    stored = await SqlClients(app.database).add(client, hash_token(token))
    return token, stored


async def list_tokens(app: App) -> list[Client]:
    return await SqlClients(app.database).listed()


async def revoke_tokens(app: App, ref: str) -> list[Client]:
    return await SqlClients(app.database).revoke(ref, app.clock.now())
