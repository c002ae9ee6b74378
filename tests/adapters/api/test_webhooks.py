"""Webhook signatures and events: a receiver on 127.0.0.1 verifies what Baton signs, with the
Standard Webhooks package (an implementation that is not ours) and with the README's snippet."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from adapters.api.service import new_signing_secret
from adapters.api.webhooks import (
    BREACHED,
    CHANGED,
    CREATED,
    DECIDED,
    RESOLVED,
    WebhookEvent,
    event_id,
    event_types,
    signature_headers,
    verify,
)
from adapters.http.server import serve
from bot.items import Kind, Outcome

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_events_of_each_change() -> None:
    assert event_types("created", Kind.APPROVAL) == [CREATED]
    assert event_types("comment", Kind.HANDOFF) == [CHANGED]
    assert event_types("approve", Kind.APPROVAL) == [CHANGED]  # not settled yet
    assert event_types("approve", Kind.APPROVAL, Outcome.APPROVED) == [CHANGED, DECIDED]
    assert event_types("reject", Kind.APPROVAL, Outcome.REJECTED) == [CHANGED, DECIDED]
    assert event_types("resolve", Kind.EXCEPTION, Outcome.RESOLVED) == [CHANGED, RESOLVED]
    assert event_types("breach", Kind.HANDOFF) == [CHANGED, BREACHED]


async def test_a_receiver_verifies_each_delivery_and_drops_repeats() -> None:
    secret = new_signing_secret()
    seen: list[dict[str, Any]] = []
    refused = 0

    async def receive(request: web.Request) -> web.Response:
        nonlocal refused
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            payload = Webhook(secret).verify(body, headers)  # the standard's own verifier
        except WebhookVerificationError:
            refused += 1
            return web.Response(status=401)
        assert verify(secret, headers, body, time.time())  # the README's snippet, as code
        if payload["id"] not in {p["id"] for p in seen}:
            seen.append(payload)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = await serve(app, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    event = WebhookEvent(event_id("acme", 41, DECIDED), DECIDED, T0,
                         {"id": 7, "outcome": "approved"})
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(2):  # a retry carries the same id
                body = event.body()
                headers = signature_headers(secret, event.id, int(time.time()), body)
                async with http.post(url, data=body, headers=headers) as answer:
                    assert answer.status == 204
            forged = signature_headers(new_signing_secret(), event.id, int(time.time()),
                                       event.body())
            async with http.post(url, data=event.body(), headers=forged) as answer:
                assert answer.status == 401
            stale = signature_headers(secret, event.id, int(time.time()) - 3600, event.body())
            async with http.post(url, data=event.body(), headers=stale) as answer:
                assert answer.status == 401
    finally:
        await runner.cleanup()
    assert [p["type"] for p in seen] == [DECIDED] and seen[0]["data"]["outcome"] == "approved"
    assert refused == 2


@pytest.mark.parametrize("tampered", ["body", "id", "timestamp"])
def test_any_change_breaks_the_signature(tampered: str) -> None:
    secret = new_signing_secret()
    body = b'{"id":"acme.1.item.created"}'
    headers = signature_headers(secret, "acme.1.item.created", 1_800_000_000, body)
    if tampered == "body":
        body = body.replace(b"1", b"2")
    elif tampered == "id":
        headers["webhook-id"] = "acme.2.item.created"
    else:
        headers["webhook-timestamp"] = "1800000001"
    assert not verify(secret, headers, body, 1_800_000_000)
