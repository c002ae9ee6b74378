"""Another process holding SQLite's write lock (an admin's script, a second replica started by
mistake) holds up only the writes that need it: the server's event loop keeps answering."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.http.server import METRICS, health_app, serve
from baton import wire_jobs
from baton.app import App, build
from baton.settings import Settings
from bot.context import Request

ROOT = Path(__file__).resolve().parents[2]
HELD = 3.0  # seconds the other process holds the write lock
WITHIN = 0.1  # seconds each health answer may take meanwhile

HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE workspaces SET last_hash = last_hash")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
print("releasing", flush=True)
db.execute("COMMIT")
"""


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[App, str, Path]]:
    """`baton serve`'s health routes and jobs over a SQLite file, on a free port."""
    file = tmp_path / "baton.db"
    settings = Settings(database_url=f"sqlite:///{file}",
                        config=ROOT / "baton.example.yaml", data_dir=tmp_path / "var")
    app = await build(settings)
    web_app = health_app(app.ready)
    jobs = wire_jobs.start(app, [], web_app[METRICS])  # /metrics reads the outbox's depth
    runner = await serve(web_app, "127.0.0.1", 0)
    try:
        yield app, f"http://127.0.0.1:{runner.addresses[0][1]}", file
    finally:
        await jobs.close()
        await runner.cleanup()
        await app.close()


async def timed_get(http: aiohttp.ClientSession, url: str) -> tuple[float, int, str]:
    started = time.perf_counter()
    async with http.get(url) as response:
        body = await response.text()
    return time.perf_counter() - started, response.status, body


async def test_health_answers_at_once_while_another_process_holds_the_write_lock(
        served: tuple[App, str, Path]) -> None:
    app, url, file = served
    request = Request(app.workspace, "alice", "console")
    first = await app.baton.run(request, "handoff @bob Before the lock")
    assert first.ok, first.text  # the workspace row exists, and the schema
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, str(file), str(HELD), stdout=asyncio.subprocess.PIPE)
    assert holder.stdout is not None
    try:
        assert await holder.stdout.readline() == b"locked\n"
        locked_at = time.perf_counter()
        command = asyncio.create_task(app.baton.run(request, "handoff @bob During the lock"))
        answers: list[tuple[str, float, int, str]] = []
        async with aiohttp.ClientSession() as http:
            while time.perf_counter() - locked_at < HELD - 0.5:
                for path in ("/healthz", "/readyz", "/metrics"):
                    answers.append((path, *await timed_get(http, url + path)))
                await asyncio.sleep(0.2)
        assert not command.done(), ("the command should be waiting for the write lock",
                                    command.result() if command.done() else None)
        assert await holder.stdout.readline() == b"releasing\n"
        reply = await asyncio.wait_for(command, timeout=10)
        waited = time.perf_counter() - locked_at
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()

    assert len(answers) >= 3 * 5
    for path, seconds, status, body in answers:
        assert status == 200, (path, body)
        assert seconds < WITHIN, (path, f"{seconds * 1000:.0f} ms")
        if path == "/readyz":
            assert '"ready"' in body
        if path == "/metrics":
            assert 'baton_outbox_depth{state="pending"}' in body
    assert reply.ok, reply.text  # waited for the lock (within the busy timeout), then acted
    assert str(reply.text).startswith("Created #2")
    assert waited >= HELD - 0.5
