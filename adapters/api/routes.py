"""/api/v1 on aiohttp: each handler reads and validates the request, asks ApiService, and
answers JSON; every refusal is an RFC 9457 problem, never a stack trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from adapters.api import models as m
from adapters.api.errors import ApiError, invalid
from adapters.api.openapi import (
    NEW_ITEM,
    OPERATIONS,
    GetQuery,
    IdPath,
    ListQuery,
    WebhookPath,
    document,
    reference_html,
)
from adapters.api.ratelimit import RateLimit
from adapters.api.service import ApiService
from bot.clients import Client, Subscription
from bot.rules import Verb

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # bytes; a larger body is answered 413
PROBLEM_JSON = "application/problem+json"
SERVICE = web.AppKey("api_service", ApiService)
LIMIT = web.AppKey("api_rate_limit", RateLimit)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status, headers=error.headers,
                             content_type=PROBLEM_JSON)


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as a problem body: ours, aiohttp's (unknown route, wrong method), and
    anything unexpected (logged here, answered without its details)."""
    try:
        return await handler(request)
    except ApiError as error:
        return problem(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        detail = exc.reason if exc.status != 404 else f"There is no {request.path} here."
        return problem(ApiError(exc.status, "http-" + str(exc.status), detail,
                                headers=headers))
    except Exception:
        log.exception("API request failed: %s %s", request.method, request.path)
        return problem(ApiError(500, "internal", "Baton could not complete this request; it "
                                "is logged on the server. Retrying with the same "
                                "Idempotency-Key is safe."))


async def _client(request: web.Request) -> Client:
    service = request.app[SERVICE]
    client = await service.authenticate(request.headers.get("Authorization"))
    wait = await request.app[LIMIT].retry_after(str(client.id))
    if wait is not None:
        raise ApiError(429, "rate-limited", f"This token made more than "
                       f"{request.app[LIMIT].rate} requests; retry in {wait} s.",
                       headers={"Retry-After": str(wait)})
    return client


async def _json(request: web.Request) -> Any:
    """The body as JSON, refused whole when larger than MAX_BODY."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _too_large()
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise _too_large()
    if not raw.strip():
        raise invalid([{"field": "", "message": "a JSON body is required"}])
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid([{"field": "", "message": f"not JSON: {exc}"}]) from None


def _too_large() -> ApiError:
    return ApiError(413, "too-large", f"The body is larger than {MAX_BODY // 1024} KiB.")


def _errors(exc: ValidationError, tags: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    out = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = list(error["loc"])
        if loc and loc[0] in tags:  # the union's branch, named by `kind`
            loc = loc[1:]
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = ["kind"]
        out.append({"field": ".".join(str(p) for p in loc), "message": error["msg"]})
    return out


T = TypeVar("T", bound=BaseModel)


def _valid(model: type[T], data: Any) -> T:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(_errors(exc)) from None


def _out(model: BaseModel, status: int = 200, **headers: str) -> web.Response:
    return web.Response(body=model.model_dump_json(), status=status, headers=headers,
                        content_type="application/json")


def _id(request: web.Request, model: type[IdPath] | type[WebhookPath] = IdPath) -> int:
    try:
        return model.model_validate(dict(request.match_info)).id
    except ValidationError as exc:
        raise invalid(_errors(exc)) from None


# --- handlers, one per operation in adapters.api.openapi.OPERATIONS -------------------------

async def create_item(request: web.Request) -> web.Response:
    client = await _client(request)
    raw = await _json(request)
    try:
        body = NEW_ITEM.validate_python(raw)
    except ValidationError as exc:
        raise invalid(_errors(exc, ("handoff", "exception", "approval"))) from None
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 255:
        raise invalid([{"field": "Idempotency-Key", "message": "1 to 255 characters"}])
    created = await request.app[SERVICE].create(client, body, raw, key)
    headers = {"Location": f"/api/v1/items/{created.item.id}"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _out(created.item, created.status, **headers)


async def list_items(request: web.Request) -> web.Response:
    client = await _client(request)
    query = _valid(ListQuery, dict(request.query))
    page = await request.app[SERVICE].list_items(
        client, team=query.team, state=query.state, kind=query.kind,
        updated_since=query.updated_since, cursor=query.cursor, limit=query.limit)
    return _out(page)


async def get_item(request: web.Request) -> web.Response:
    client = await _client(request)
    number = _id(request)
    query = _valid(GetQuery, dict(request.query))
    service = request.app[SERVICE]
    if query.wait:
        return _out(await service.wait(client, number, query.wait, query.version))
    return _out(await service.get(client, number))


async def comment_item(request: web.Request) -> web.Response:
    client = await _client(request)
    number = _id(request)
    body = _valid(m.Comment, await _json(request))
    return _out(await request.app[SERVICE].comment(client, number, body.text))


async def cancel_item(request: web.Request) -> web.Response:
    client = await _client(request)
    number = _id(request)
    body = _valid(m.Cancel, await _json(request))
    return _out(await request.app[SERVICE].cancel(client, number, body.reason))


async def approve_item(request: web.Request) -> web.Response:
    return await _decide(request, Verb.APPROVE)


async def reject_item(request: web.Request) -> web.Response:
    return await _decide(request, Verb.REJECT)


async def _decide(request: web.Request, verdict: Verb) -> web.Response:
    client = await _client(request)
    number = _id(request)
    raw = await _json(request)
    comment = _valid(m.Approve, raw).comment if verdict is Verb.APPROVE else \
        _valid(m.Reject, raw).comment
    return _out(await request.app[SERVICE].decide(client, number, verdict, comment))


def _webhook(sub: Subscription) -> m.WebhookOut:
    return m.WebhookOut(id=sub.id, url=sub.url, item=sub.item, created_at=sub.created_at)


async def list_webhooks(request: web.Request) -> web.Response:
    client = await _client(request)
    found = await request.app[SERVICE].webhooks(client)
    return _out(m.WebhookList(webhooks=[_webhook(s) for s in found]))


async def create_webhook(request: web.Request) -> web.Response:
    client = await _client(request)
    body = _valid(m.NewWebhook, await _json(request))
    added = await request.app[SERVICE].add_webhook(client, body.url, body.item)
    return _out(_webhook(added), 201)


async def delete_webhook(request: web.Request) -> web.Response:
    client = await _client(request)
    await request.app[SERVICE].remove_webhook(client, _id(request, WebhookPath))
    return web.Response(status=204)


async def openapi_json(_: web.Request) -> web.Response:
    return web.json_response(document())


async def reference(_: web.Request) -> web.Response:
    return web.Response(text=reference_html(), content_type="text/html")


_HANDLERS: dict[str, Handler] = {
    "create_item": create_item, "list_items": list_items, "get_item": get_item,
    "comment_item": comment_item, "cancel_item": cancel_item, "approve_item": approve_item,
    "reject_item": reject_item, "list_webhooks": list_webhooks,
    "create_webhook": create_webhook, "delete_webhook": delete_webhook,
}


def api_app(service: ApiService, limit: RateLimit) -> web.Application:
    """The /api/v1 sub-application: add it with `app.add_subapp("/api/v1", api_app(…))`."""
    app = web.Application(middlewares=[problems])
    app[SERVICE] = service
    app[LIMIT] = limit
    for op in OPERATIONS:
        app.router.add_route(op.method.upper(), op.path, _HANDLERS[op.id])
    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/reference", reference)

    async def stop_watching(_: web.Application) -> None:
        await service.close()

    app.on_cleanup.append(stop_watching)
    return app
