"""Benchmark: outbox delivery rate to a local mock platform over HTTP.

    .venv/bin/python bench/outbox.py

The mock (an aiohttp server accepting POST /post) runs in its own process pinned to CPU 1;
this process, the outbox worker over a SQLite file, is pinned to CPU 0. Messages are queued as
commands queue them, then delivered by OutboxWorker with the real clock:

  paced     Slack's pacing, one message a second per conversation: 100 conversations x 10
            messages. Pacing alone needs 9 s (each conversation's 10th message goes 9 s after
            its first); Baton should take about that, i.e. be limited by the pacing rule.
  unpaced   no pacing, 200 conversations x 10 messages: Baton's own ceiling in messages/s
            (claim, HTTP post, `sent` recorded, one short transaction each).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bot import rich  # noqa: E402
from bot.delivery import DeliveryFailed, Pacing, Transport  # noqa: E402
from bot.messages import Audience, Outgoing  # noqa: E402
from bot.ports import UnitOfWork  # noqa: E402
from jobs.outbox import OutboxWorker, WorkerSettings  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.queue import SqlOutboxQueue  # noqa: E402
from store.uow import Database  # noqa: E402


async def serve(port_file: Path) -> None:
    """The mock platform: accepts every post, counts them."""
    accepted = 0

    async def post(request: web.Request) -> web.Response:
        nonlocal accepted
        await request.read()
        accepted += 1
        return web.json_response({"ok": True, "n": accepted})

    async def count(_: web.Request) -> web.Response:
        return web.json_response({"accepted": accepted})

    app = web.Application()
    app.router.add_post("/post", post)
    app.router.add_get("/count", count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    await asyncio.to_thread(port_file.write_text, str(port))
    await asyncio.Event().wait()


class HttpTransport(Transport):
    surface = "bench"

    def __init__(self, url: str, pacing: Pacing) -> None:
        self.url = url
        self.pacing = pacing
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=64), timeout=aiohttp.ClientTimeout(total=30))

    async def deliver(self, message: Outgoing) -> None:
        body = {"key": message.key, "to": message.to, "text": str(message.text)}
        async with self.session.post(f"{self.url}/post", json=body) as response:
            if response.status != 200:
                raise DeliveryFailed(f"status {response.status}")


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def scenario(url: str, platform: str, conversations: int, per: int,
                   pacing: Pacing) -> tuple[float, int]:
    """Queue the messages, deliver them all; returns (seconds, messages)."""
    await upgrade(url)
    async with Database(url, surfaces=("bench",)) as db:

        async def queue(uow: UnitOfWork) -> None:
            for n in range(per):
                for c in range(conversations):
                    await uow.outbox.put(Outgoing("bench", Audience.TEAM, f"team{c:04d}",
                                                  rich.text(f"message {n} to {c}"),
                                                  f"k{c}-{n}"))
            await uow.commit()

        await db.unit_of_work.run(queue)
        transport = HttpTransport(platform, pacing)
        worker = OutboxWorker(SqlOutboxQueue(db), [transport], Clock(),
                              WorkerSettings(batch=500, concurrency=256,
                                             horizon=timedelta(seconds=30)))
        total = conversations * per
        started = time.perf_counter()
        delivered = 0
        while delivered < total:
            await worker.run_once()
            stats = await db.read(lambda uow: uow.outbox.stats(Clock().now()))
            delivered = total - stats.pending
            if delivered < total:
                await asyncio.sleep(0.01)  # postponed slots: wait for the next
        elapsed = time.perf_counter() - started
        await transport.session.close()
    return elapsed, total


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.serve:
        os.sched_setaffinity(0, {1})
        await serve(args.serve)
        return
    os.sched_setaffinity(0, {0})
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        server = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve",
                                                      str(port_file))
        try:
            port = ""
            for _ in range(100):
                port = await asyncio.to_thread(_read, port_file)
                if port:
                    break
                await asyncio.sleep(0.05)
            platform = f"http://127.0.0.1:{port}"
            for name, conversations, per, pacing, bound in (
                    ("paced", 100, 10, Pacing(timedelta(seconds=1)), 9.0),
                    ("unpaced", 200, 10, Pacing(timedelta()), None)):
                times = []
                for run in range(args.runs):
                    elapsed, total = await scenario(
                        f"sqlite+aiosqlite:///{tmp}/{name}-{run}.db", platform, conversations,
                        per, pacing)
                    times.append(elapsed)
                median = statistics.median(times)
                limit = f", pacing alone needs {bound:.1f} s" if bound else ""
                print(f"{name:>8}: {total} messages to {conversations} conversations in "
                      f"{median:.2f} s median of {args.runs} ({total / median:,.0f} msg/s)"
                      f"{limit}", flush=True)
        finally:
            server.terminate()
            await server.wait()


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


if __name__ == "__main__":
    asyncio.run(main())
