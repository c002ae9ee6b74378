"""A chat platform on 127.0.0.1 for the outbox tests, the transport that posts to it, and the
delivering process the crash test kills (`python -m tests.integration.outbox_platform`).

The platform keeps every message it accepted with its outbox key (as Slack keeps the key in a
post's metadata), can be scripted to answer 429 with Retry-After or 500 before it accepts, and
can hold its answer to one post so a test can kill the deliverer while that post is in flight.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from adapters.http.server import serve
from bot.delivery import UNPACED, DeliveryFailed, Pacing, Transport
from bot.messages import Outgoing


@dataclass
class Answer:
    status: int
    retry_after: int | None = None


@dataclass
class MockPlatform:
    accepted: list[dict[str, str]] = field(default_factory=list)  # in the order accepted
    attempts: list[tuple[str, int]] = field(default_factory=list)  # (key, status answered)
    script: dict[str, deque[Answer]] = field(default_factory=dict)  # per key, then 200
    hold_after: int | None = None  # hold the answer to the Nth accepted post
    held: asyncio.Event = field(default_factory=asyncio.Event)  # set when it holds
    url: str = ""
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def accepted_keys(self) -> list[str]:
        return [m["key"] for m in self.accepted]

    async def start(self) -> MockPlatform:
        app = web.Application()
        app.router.add_post("/post", self._post)
        app.router.add_get("/lookup", self._lookup)
        self._runner = await serve(app, "127.0.0.1", 0)  # a free port
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = str(body["key"])
        scripted = self.script.get(key)
        if scripted:
            answer = scripted.popleft()
            self.attempts.append((key, answer.status))
            headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else {}
            return web.json_response({"ok": False}, status=answer.status, headers=headers)
        self.attempts.append((key, 200))
        self.accepted.append({"key": key, "to": str(body["to"]), "text": str(body["text"])})
        if self.hold_after is not None and len(self.accepted) == self.hold_after:
            self.held.set()
            await self._release.wait()  # no answer until the test is over: the deliverer
            # dies waiting for it
        return web.json_response({"ok": True})

    async def _lookup(self, request: web.Request) -> web.Response:
        key = request.query["key"]
        return web.json_response({"found": key in self.accepted_keys()})


class HttpTransport(Transport):
    """Posts each message with its outbox key; maps 429 (Retry-After), 5xx and other 4xx to
    DeliveryFailed the way the Slack transport does; looks a key up after a lost outcome."""

    surface = "mock"

    def __init__(self, url: str, pacing: Pacing = UNPACED) -> None:
        self.url = url
        self.pacing = pacing
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def deliver(self, message: Outgoing) -> None:
        body = {"key": message.key, "to": message.to, "text": str(message.text)}
        try:
            async with self.session().post(f"{self.url}/post", json=body) as response:
                if response.status == 429:
                    raise DeliveryFailed("rate limited", retry_after=float(
                        response.headers.get("Retry-After", "1")))
                if response.status >= 500:
                    raise DeliveryFailed(f"server error {response.status}")
                if response.status >= 400:
                    raise DeliveryFailed(f"refused {response.status}", permanent=True)
        except aiohttp.ClientError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None

    async def delivered_already(self, message: Outgoing) -> bool:
        async with self.session().get(f"{self.url}/lookup",
                                      params={"key": message.key}) as response:
            return bool((await response.json())["found"])


async def _deliver_forever(database_url: str, platform: str, replica: str) -> None:
    """The deliverer: Baton's outbox worker over the real store, posting to the platform."""
    from bot.ports import Clock
    from jobs.outbox import OutboxWorker, WorkerSettings
    from store.queue import SqlOutboxQueue
    from store.uow import Database

    class Now(Clock):
        def now(self) -> datetime:
            return datetime.now(UTC)

    transport = HttpTransport(platform)
    async with Database(database_url, surfaces=("mock",)) as database:
        worker = OutboxWorker(
            SqlOutboxQueue(database), [transport], Now(),
            WorkerSettings(worker_id=replica, batch=10, concurrency=4))
        await worker.run(asyncio.Event(), poll=0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("platform")
    parser.add_argument("--replica", default="r1")
    args = parser.parse_args()
    asyncio.run(_deliver_forever(args.database_url, args.platform, args.replica))


if __name__ == "__main__":
    main()
