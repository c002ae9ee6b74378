"""Webhooks delivered through the outbox to receivers on 127.0.0.1 that verify every signature:
each event of each item once to each receiver that hears about it, one receiver's 500, 429 or
refusal neither delaying nor doubling another's deliveries. Baton's real API and store on a
SQLite file; the outbox worker on an injected clock (retries come due when it moves)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.api.transport import WebhookTransport, retry_after
from adapters.api.webhooks import (
    BREACHED,
    CHANGED,
    CREATED,
    DECIDED,
    RESOLVED,
    event_id,
    event_types,
    outcome_of,
)
from baton import wire_api
from bot.events import Event
from bot.items import Kind
from jobs.outbox import OutboxWorker, WorkerSettings
from store.outbox import PARKED, PENDING, SENT, SKIPPED, OutboxEntry, SqlOutbox
from store.queue import SqlOutboxQueue
from tests.adapters.api.harness import CONFIG, Api, start_api, stop_api
from tests.adapters.api.receivers import Answer, Receivers
from tests.fakes import FakeClock

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
# The API tests' organisation, its release team on a 24x7 SLA (acknowledge in 4 hours).
WITH_SLA = CONFIG.replace("    members: [bob, carol]\n",
                          "    members: [bob, carol]\n    sla: fast\n") + """
sla_policies:
  fast:
    business_hours: false
    targets:
      default:
        default: {ack: 4h, resolve: 2d}
"""


@dataclass
class Hooks:
    api: Api
    clock: FakeClock
    receivers: Receivers
    transport: WebhookTransport
    worker: OutboxWorker

    async def client(self, name: str, path: str | None, *, team: str = "release",
                     item: int | None = None) -> str:
        """A token whose deliveries `path` verifies; with a path, a webhook to it."""
        token, client = await wire_api.create_token(
            self.api.app, name, team, ["items:write", "webhooks:write"], None)
        if path is not None:
            self.receivers.secrets[path] = client.signing_secret
            await self.subscribe(token, path, item)
        return token

    async def subscribe(self, token: str, path: str, item: int | None = None) -> None:
        status, body, _ = await self.api.call("POST", "/api/v1/webhooks", token, json={
            "url": self.receivers.url(path), "item": item})
        assert status == 201, body

    async def raise_item(self, token: str, **body: Any) -> int:
        status, created, _ = await self.api.call("POST", "/api/v1/items", token, json=body)
        assert status == 201, created
        return int(created["id"])

    async def deliver(self) -> None:
        await self.worker.drain()

    async def rows(self) -> list[OutboxEntry]:
        """The API surface's outbox rows, oldest first."""
        async with self.api.app.database.unit_of_work() as uow:
            rows = await SqlOutbox(uow.session).rows(None, 1000)
        return sorted((r for r in rows if r.surface == "api"), key=lambda r: r.id)

    async def trail(self, number: int) -> list[Event]:
        return await self.api.app.database.read(
            lambda uow: uow.events.for_item(self.api.app.workspace, number))

    async def expected_ids(self, number: int) -> list[str]:
        """The webhook ids the item's trail makes, in order, worked out from the events."""
        item = await self.api.app.database.read(
            lambda uow: uow.items.get(self.api.app.workspace, number))
        assert item is not None
        return [event_id("acme", e.seq, kind) for e in await self.trail(number)
                for kind in event_types(e.action, item.kind, outcome_of(e))]


@pytest.fixture
async def hooks(tmp_path: Path) -> AsyncIterator[Hooks]:
    clock = FakeClock(T0)
    api = await start_api(tmp_path, config=WITH_SLA, clock=clock)
    receivers = await Receivers().start()
    transport = wire_api.webhooks(api.app)
    worker = OutboxWorker(SqlOutboxQueue(api.app.database), [transport], clock,
                          WorkerSettings(worker_id="test"))
    try:
        yield Hooks(api, clock, receivers, transport, worker)
    finally:
        await transport.close()
        await receivers.stop()
        await stop_api(api)
    assert receivers.forged == 0  # every delivery was signed with its client's secret


async def test_every_event_once_to_each_receiver_that_hears_of_it(hooks: Hooks) -> None:
    api, receivers = hooks.api, hooks.receivers
    pipeline = await hooks.client("pipeline", "a")  # hears of every item of team release
    await hooks.client("ml-bot", "ml", team="ml")  # hears of ml's items only
    receivers.secrets["cb"] = receivers.secrets["a"]  # the pipeline's callback_url
    approval = await hooks.raise_item(pipeline, kind="approval", title="Ship v3.3",
                                      approvers=["@bob"], policy="any",
                                      callback_url=receivers.url("cb"))
    await hooks.subscribe(pipeline, "a", item=approval)  # the same URL, for one item
    await hooks.client("pipeline-2", "b", item=approval)  # another client: that item only
    exception = await hooks.raise_item(pipeline, kind="exception", title="Bad rows in feed",
                                       callback_url=receivers.url("a"))  # the same URL again
    handoff = await hooks.raise_item(pipeline, kind="handoff", title="Rotate the keys",
                                     to="@carol")
    await api.person("bob", f"approve #{approval} looks good")  # a person, in the console
    await api.person("alice", f"ack #{exception}")
    await api.person("alice", f"resolve #{exception} fixed upstream")
    hooks.clock.advance(timedelta(hours=5))  # the handoff's SLA lapses
    await api.app.baton.tick("acme", hooks.clock.now())
    await hooks.deliver()

    a = receivers.handled("a")
    assert {p.type for p in a.values()} == {CREATED, CHANGED, DECIDED, RESOLVED, BREACHED}
    # Each event of each item, exactly once, in the order of its trail; nothing else.
    accepted = receivers.accepted("a")
    everything = [i for n in (approval, exception, handoff) for i in await hooks.expected_ids(n)]
    assert sorted(accepted) == sorted(everything) and len(set(accepted)) == len(accepted)
    for number in (approval, exception, handoff):
        mine = await hooks.expected_ids(number)
        assert [i for i in accepted if i in mine] == mine
    # The callback given when the approval was raised hears of that item only, and so does
    # another client's webhook for that item (signed with that client's secret).
    assert receivers.accepted("cb") == await hooks.expected_ids(approval)
    assert receivers.accepted("b") == await hooks.expected_ids(approval)
    assert receivers.at("ml") == []

    decided = next(p for p in a.values() if p.type == DECIDED)
    data = decided.payload["data"]
    assert data["item"]["id"] == approval and data["item"]["outcome"] == "approved"
    assert data["event"]["actor"] == "bob" and data["event"]["action"] == "approve"
    assert data["item"]["decisions"][0]["comment"] == "looks good"
    assert decided.id == f"acme.{data['event']['seq']}.approval.decided"
    resolved = next(p for p in a.values() if p.type == RESOLVED)
    assert resolved.payload["data"]["event"]["note"] == "fixed upstream"
    breached = next(p for p in a.values() if p.type == BREACHED)
    assert breached.payload["data"]["item"]["id"] == handoff
    assert breached.payload["data"]["event"]["actor"] == "baton"
    assert {r.state for r in await hooks.rows()} == {SENT}


async def test_only_item_changes_get_a_row_and_none_is_posted_without_a_webhook(
        hooks: Hooks) -> None:
    api = hooks.api
    token = await hooks.client("pipeline", None)
    number = await hooks.raise_item(token, kind="handoff", title="Rotate the keys", to="@carol")
    await api.person("carol", f"accept #{number}")  # DMs and thread lines for chat, too
    rows = await hooks.rows()
    # One row per change of the item (its card, then each update); no thread line, direct
    # message or team message gains a row for the API.
    assert [r.delivery for r in rows] == ["card", "card_update"]
    assert len(rows) == len(await hooks.trail(number))
    await hooks.deliver()
    assert [(r.state, r.last_error) for r in await hooks.rows()] == \
        [(SKIPPED, "no webhook hears about this item")] * 2
    assert hooks.receivers.posts == []


async def test_a_failing_receiver_neither_delays_nor_doubles_another(hooks: Hooks) -> None:
    receivers = hooks.receivers
    receivers.always["a"] = Answer(500)
    pipeline = await hooks.client("pipeline", "a")
    await hooks.client("auditor", "b")
    number = await hooks.raise_item(pipeline, kind="approval", title="Ship v3.3",
                                    approvers=["@bob"])
    await hooks.deliver()
    await hooks.api.person("alice", f"comment #{number} on its way")
    await hooks.deliver()  # the clock has not moved: the card's row is still waiting to retry

    ids = await hooks.expected_ids(number)
    assert len(ids) == 2
    assert receivers.accepted("b") == ids  # at once, in order, each once
    assert [p.id for p in receivers.at("a")] == ids  # each tried once, and refused with 500
    assert [r.state for r in await hooks.rows()] == [PENDING, PENDING]
    assert all("could not" not in r.last_error and "answered 500" in r.last_error
               for r in await hooks.rows())

    del receivers.always["a"]  # back up
    hooks.clock.advance(timedelta(minutes=10))
    await hooks.deliver()
    assert receivers.accepted("a") == ids
    assert receivers.accepted("b") == ids  # not posted again
    assert [r.state for r in await hooks.rows()] == [SENT, SENT]


async def test_retry_after_is_honoured(hooks: Hooks) -> None:
    receivers = hooks.receivers
    receivers.script["a"] = deque([Answer(429, retry_after=120)])
    pipeline = await hooks.client("pipeline", "a")
    await hooks.client("auditor", "b")
    number = await hooks.raise_item(pipeline, kind="exception", title="Bad rows in feed")
    await hooks.deliver()
    created = (await hooks.rows())[0]
    assert created.state == PENDING and created.next_attempt_at is not None
    assert created.next_attempt_at >= T0 + timedelta(seconds=120)

    await hooks.api.person("alice", f"comment #{number} looking")
    await hooks.deliver()  # while "a" waits, nothing is posted to it, not even a new event
    hooks.clock.advance(timedelta(seconds=60))
    await hooks.deliver()
    ids = await hooks.expected_ids(number)
    assert len(receivers.at("a")) == 1
    assert receivers.accepted("b") == ids

    hooks.clock.advance(timedelta(seconds=61))
    await hooks.deliver()
    assert receivers.accepted("a") == ids  # both, once each, after the two minutes asked
    assert receivers.accepted("b") == ids
    assert [r.state for r in await hooks.rows()] == [SENT, SENT]


async def test_a_refusal_parks_only_that_receivers_share(hooks: Hooks) -> None:
    receivers = hooks.receivers
    receivers.always["a"] = Answer(410)
    receivers.script["b"] = deque([Answer(503)])
    pipeline = await hooks.client("pipeline", "a")
    await hooks.client("auditor", "b")
    number = await hooks.raise_item(pipeline, kind="handoff", title="Rotate the keys",
                                    to="@carol")
    await hooks.deliver()
    [created] = await hooks.rows()
    assert created.state == PENDING  # "b" is owed a retry

    hooks.clock.advance(timedelta(minutes=1))
    await hooks.deliver()
    [created] = await hooks.rows()
    ids = await hooks.expected_ids(number)
    assert receivers.accepted("b") == ids
    assert [p.id for p in receivers.at("a")] == ids  # refused once, never asked again
    assert created.state == PARKED
    assert created.last_error == ("webhooks refused: webhook 1 of pipeline (127.0.0.1) "
                                  "refused item.created (410)")

    await hooks.api.person("carol", f"accept #{number}")
    await hooks.deliver()
    ids = await hooks.expected_ids(number)
    assert receivers.accepted("b") == ids
    assert [p.id for p in receivers.at("a")] == ids
    assert [r.state for r in await hooks.rows()] == [PARKED, PARKED]


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("120", T0) == 120
    assert retry_after("Mon, 02 Mar 2026 09:01:30 GMT", T0) == 90
    assert retry_after("Mon, 02 Mar 2026 08:00:00 GMT", T0) == 0  # past: now
    assert retry_after("999999", T0) == 3600  # at most an hour
    assert retry_after("soon", T0) is None
    assert retry_after(None, T0) is None


def test_kinds_are_read_from_the_event_not_the_item_as_it_is_later() -> None:
    quorum_step = Event("acme", 5, 1, "bob", "approve", T0, "console", {},
                        {"decision": {"verdict": "approve"}}, "", "")
    assert event_types("approve", Kind.APPROVAL, outcome_of(quorum_step)) == [CHANGED]
