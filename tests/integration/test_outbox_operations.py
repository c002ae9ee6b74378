"""What operators see of the outbox: `baton outbox list|retry`, and the depth and failures on
/metrics of a running `baton serve`."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bot import rich
from bot.messages import Audience, Outgoing
from store.migrate import upgrade
from store.uow import Database

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


async def seeded(tmp_path: Path) -> str:
    """A database with three messages: one sent, one parked, one waiting."""
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    await upgrade(url)
    async with Database(url) as db, db.unit_of_work() as uow:
        for key in ("sent-one", "parked-one", "waiting-one"):
            await uow.outbox.put(Outgoing("w", Audience.PERSON, "bob",
                                          rich.text(f"text of {key}"), key))
        leased = await uow.outbox.lease(10, T0, "r1", timedelta(minutes=5))
        ids = {q.message.key: q.id for q in leased}
        await uow.outbox.sent(ids["sent-one"], T0)
        await uow.outbox.failed(ids["parked-one"], "channel_not_found", None)
        await uow.outbox.postpone([ids["waiting-one"]], T0 + timedelta(days=3650))
        await uow.commit()
    return url


def env(tmp_path: Path, url: str, **more: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    return clean | {"BATON_DATABASE_URL": url, "BATON_DATA_DIR": str(tmp_path / "data"),
                    "PYTHONPATH": str(ROOT)} | more


async def baton(args: list[str], environment: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton.cli", *args, env=environment, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode()


async def test_outbox_list_and_retry(tmp_path: Path) -> None:
    url = await seeded(tmp_path)
    environment = env(tmp_path, url)
    code, out = await baton(["outbox", "list"], environment, tmp_path)
    assert code == 0, out
    assert "outbox: 1 pending (0 ready now), 1 parked" in out
    assert "parked  attempts 1" in out and "last error: channel_not_found" in out
    code, out = await baton(["outbox", "list", "--state", "parked"], environment, tmp_path)
    assert "text of parked-one" in out and "text of waiting-one" not in out
    assert "text of sent-one" not in out
    code, out = await baton(["outbox", "retry"], environment, tmp_path)
    assert code == 2 and "--all" in out
    code, out = await baton(["outbox", "retry", "--all"], environment, tmp_path)
    assert code == 0 and "1 parked message queued again." in out
    code, out = await baton(["outbox", "list"], environment, tmp_path)
    assert "outbox: 2 pending (1 ready now), 0 parked" in out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_serve_shows_the_outbox_on_metrics(tmp_path: Path) -> None:
    url = await seeded(tmp_path)
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton.cli", "serve", cwd=tmp_path,
        env=env(tmp_path, url, BATON_PORT=str(port)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        body = ""
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                        body = await response.text()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        assert 'baton_outbox_depth{state="pending"} 1.0' in body
        assert 'baton_outbox_depth{state="parked"} 1.0' in body
    finally:
        process.terminate()
        await process.wait()
