"""A delivering process killed with SIGKILL while a post is in flight loses no message and, once
restarted, posts none twice (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot import rich
from bot.messages import Audience, Outgoing
from store.migrate import upgrade
from store.outbox import PENDING, SENT, OutboxEntry, SqlOutbox
from store.uow import Database
from tests.integration.outbox_platform import MockPlatform

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [(f"m{c}-{n:02d}", f"#chan{c}") for c in range(3) for n in range(20)]


async def deliverer(url: str, platform: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.outbox_platform", url, platform,
        "--replica", "replica-1", cwd=ROOT)


async def outbox_rows(database: Database) -> list[OutboxEntry]:
    async with database.unit_of_work() as uow:
        return await SqlOutbox(uow.session).rows(None, 1000)


async def test_sigkill_mid_delivery_loses_nothing_and_doubles_nothing(empty_url: str) -> None:
    await upgrade(empty_url)
    platform = await MockPlatform(hold_after=25).start()
    async with Database(empty_url) as database:
        async with database.unit_of_work() as uow:
            for key, to in MESSAGES:
                await uow.outbox.put(Outgoing("w", Audience.TEAM, to, rich.text(f"text {key}"),
                                              key))
            await uow.commit()
        first = await deliverer(empty_url, platform.url)
        try:
            await asyncio.wait_for(platform.held.wait(), 60)
        finally:
            first.send_signal(signal.SIGKILL)
            assert await first.wait() == -signal.SIGKILL
        platform.hold_after = None

        at_kill = await outbox_rows(database)
        in_flight = [r for r in at_kill if r.state == PENDING and r.attempts == 0
                     and r.key in platform.accepted_keys()]
        assert in_flight, "the post held by the platform was accepted but not recorded sent"
        assert sum(r.state == SENT for r in at_kill) < len(MESSAGES)

        second = await deliverer(empty_url, platform.url)
        try:
            for _ in range(600):
                if all(r.state == SENT for r in await outbox_rows(database)):
                    break
                await asyncio.sleep(0.1)
        finally:
            second.terminate()
            await second.wait()
        final = await outbox_rows(database)
    await platform.stop()

    assert {r.key: r.state for r in final} == {key: SENT for key, _ in MESSAGES}
    accepted = platform.accepted_keys()
    assert sorted(accepted) == sorted(key for key, _ in MESSAGES)  # each exactly once
    for channel in ("#chan0", "#chan1", "#chan2"):  # and each conversation in order
        mine = [m["key"] for m in platform.accepted if m["to"] == channel]
        assert mine == sorted(mine)
