"""`baton serve` killed with SIGKILL while a webhook delivery is in flight, then started again:
the receiver (signatures verified with the `standardwebhooks` package) sees item.created,
item.changed, approval.decided (a person approves in the console path), exception.resolved and
sla.breached, each exactly once by webhook-id. On the wire, the one delivery whose answer the
killed process never read is posted again with the same id; nothing it had read an answer to
is posted twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from adapters.api.transport import SURFACE, receiver_key
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
from baton.app import App, build
from baton.settings import Settings
from bot.context import Request
from store.api import SqlReceipts
from store.outbox import PENDING, SENT, OutboxEntry, SqlOutbox
from tests.adapters.api.receivers import Receivers
from tests.adapters.api.test_webhook_delivery import WITH_SLA
from tests.fakes import FakeClock

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`baton serve` in a process of its own, over the test's SQLite file."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")} | {
            "BATON_DATABASE_URL": f"sqlite:///{tmp / 'baton.db'}",
            "BATON_CONFIG": str(tmp / "baton.yaml"), "BATON_DATA_DIR": str(tmp / "var"),
            "BATON_HOST": "127.0.0.1", "BATON_PORT": str(self.port),
            "BATON_REPLICA_ID": "replica-1", "PYTHONPATH": str(ROOT)}
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "baton.cli", "serve", env=self.env, cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                try:
                    async with http.get(f"{self.url}/readyz") as answer:
                        if answer.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("baton serve did not start")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()

    async def post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http, http.post(
                self.url + path, json=body,
                headers={"Authorization": f"Bearer {token}"}) as answer:
            found: dict[str, Any] = await answer.json(content_type=None)
            assert answer.status == 201, found
            return found


async def _until(check: Any, what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _api_rows(app: App) -> list[OutboxEntry]:
    async with app.database.unit_of_work() as uow:
        rows = await SqlOutbox(uow.session).rows(None, 1000)
    return sorted((r for r in rows if r.surface == SURFACE), key=lambda r: r.id)


async def _expected(app: App, number: int) -> list[str]:
    item = await app.database.read(lambda uow: uow.items.get(app.workspace, number))
    assert item is not None
    events = await app.database.read(lambda uow: uow.events.for_item(app.workspace, number))
    return [event_id(app.workspace, e.seq, kind) for e in events
            for kind in event_types(e.action, item.kind, outcome_of(e))]


async def test_each_event_once_across_a_kill_mid_delivery(tmp_path: Path) -> None:
    (tmp_path / "baton.yaml").write_text(WITH_SLA)
    receivers = await Receivers().start()
    receivers.hold_type = DECIDED  # the answer to it never reaches the first process
    clock = FakeClock(datetime.now(UTC))
    # People and timers: this test's own Baton over the same file (what `baton chat` and
    # another replica's timers would be).
    app = await build(Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}",
        config=tmp_path / "baton.yaml", data_dir=tmp_path / "var", redis_url=None,
        slack_bot_token=None, slack_app_token=None, slack_client_id=None,
        slack_client_secret=None, slack_signing_secret=None, teams_app_id=None,
        teams_local=False), clock)
    server = Server(tmp_path)
    try:
        token, client = await wire_api.create_token(
            app, "pipeline", "release", ["items:write", "webhooks:write"], None)
        receivers.secrets["a"] = client.signing_secret
        await server.start()
        await server.post("/api/v1/webhooks", token, {"url": receivers.url("a")})
        clock.current = datetime.now(UTC)  # after the webhook was made, by the server's clock
        approval = (await server.post("/api/v1/items", token, {
            "kind": "approval", "title": "Ship v3.3", "approvers": ["@bob"]}))["id"]
        exception = (await server.post("/api/v1/items", token, {
            "kind": "exception", "title": "Bad rows in feed"}))["id"]
        handoff = (await server.post("/api/v1/items", token, {
            "kind": "handoff", "title": "Rotate the keys", "to": "@carol"}))["id"]

        async def created() -> bool:
            return len(receivers.accepted("a")) == 3

        await _until(created, "the three items' item.created")
        reply = await app.baton.run(Request("acme", "bob", "console"),
                                    f"approve #{approval} ship it")
        assert reply.ok, reply.text
        await asyncio.wait_for(receivers.held.wait(), 60)
        await server.kill()  # while the receiver holds its answer to approval.decided

        decided_row = [r for r in await _api_rows(app) if r.item == approval][-1]
        assert decided_row.state == PENDING and decided_row.attempts == 0
        approved = await _expected(app, approval)
        changed_id, decided_id = approved[-2:]
        assert (changed_id.endswith(CHANGED), decided_id.endswith(DECIDED)) == (True, True)
        kept = await SqlReceipts(app.database).of([changed_id, decided_id])
        key = receiver_key(client, receivers.url("a"))
        assert set(kept) == {(changed_id, key)}  # answered before the kill, and kept

        # While no server runs: the exception is resolved, the handoff's SLA lapses.
        for line in (f"ack #{exception}", f"resolve #{exception} fixed upstream"):
            assert (await app.baton.run(Request("acme", "alice", "console"), line)).ok
        clock.advance(timedelta(hours=5))
        await app.baton.tick("acme", clock.now())

        await server.start()  # the same replica: it takes back what it held

        async def all_sent() -> bool:
            return all(r.state == SENT for r in await _api_rows(app))

        await _until(all_sent, "every webhook delivered")
        await server.stop()

        expected = [i for n in (approval, exception, handoff) for i in await _expected(app, n)]
        handled = receivers.handled("a")
        assert sorted(handled) == sorted(expected)  # each event exactly once, by its id
        assert {p.type for p in handled.values()} == {CREATED, CHANGED, DECIDED, RESOLVED,
                                                      BREACHED}
        on_the_wire = Counter(p.id for p in receivers.at("a"))
        assert on_the_wire.pop(decided_id) == 2  # its answer was never read: posted again
        assert set(on_the_wire.values()) == {1}  # everything else once, the approve's
        assert changed_id in on_the_wire  # item.changed included (its receipt was kept)
        assert receivers.forged == 0
        decided = handled[decided_id].payload["data"]
        assert decided["item"]["outcome"] == "approved"
        assert decided["event"]["actor"] == "bob" and decided["event"]["note"] == "ship it"
    finally:
        await server.stop()
        await receivers.stop()
        await app.close()
