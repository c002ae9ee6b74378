"""Audit checkpoints on each backend: written once per head however many replicas run them,
checked by `verify`, written by the timers daily and after each digest they post."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from baton import wire_jobs
from baton.app import build
from baton.audit import Anchoring, Verified, checkpoint_all, verify_all
from baton.demo import load_demo
from baton.settings import Settings
from bot.events import EventDraft
from jobs.scheduler import CHECKPOINT_DAILY
from store.uow import Database

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[2] / "baton.example.yaml"


async def append(db: Database, workspace: str, count: int) -> None:
    async with db.unit_of_work() as uow:
        for i in range(count):
            await uow.events.append(EventDraft(workspace, i + 1, "alice", "comment", T0,
                                               "console", {}, {"text": f"note {i}"}))
        await uow.commit()


def anchoring_in(folder: Path) -> Anchoring:
    return Anchoring(folder / "signing.key", folder / "checkpoints.jsonl")


async def test_checkpoints_pin_each_workspace_head_on_each_backend(db: Database,
                                                                   tmp_path: Path) -> None:
    anchoring = anchoring_in(tmp_path)
    await append(db, "T1", 5)
    await append(db, "T2", 3)
    assert await checkpoint_all(db, anchoring, T0) == (
        ["T1: checkpoint at event 5", "T2: checkpoint at event 3"], [])
    assert await verify_all(db, anchoring) == Verified(8, 2, [])
    await append(db, "T1", 2)  # the head moves: the next run pins the new one only
    assert await checkpoint_all(db, anchoring, T0 + timedelta(days=1)) == (
        ["T1: checkpoint at event 7"], [])

    async with db.engine.begin() as conn:  # cut T1's tail; the row agrees; the chain holds
        await conn.execute(text("DELETE FROM events WHERE workspace = 'T1' AND seq > 4"))
        await conn.execute(text(
            "UPDATE workspaces SET last_seq = 4, last_hash = (SELECT hash FROM events "
            "WHERE workspace = 'T1' AND seq = 4) WHERE id = 'T1'"))
    verified = await verify_all(db, anchoring)
    assert verified.problems == [
        "T1: event 5: missing: the checkpoint of 2025-03-03 09:00 UTC recorded event 5, the "
        "chain ends at event 4 (events deleted)",
        "T1: event 7: missing: the checkpoint of 2025-03-04 09:00 UTC recorded event 7, the "
        "chain ends at event 4 (events deleted)",
    ]
    assert await checkpoint_all(db, anchoring, T0 + timedelta(days=2)) == ([], [
        "T1: not checkpointed: event 7 is not as the last checkpoint recorded it (run baton "
        "audit verify)"])


async def test_replicas_sharing_the_file_write_one_checkpoint_per_head(db: Database,
                                                                       tmp_path: Path) -> None:
    await append(db, "T1", 4)
    replicas = [Database(db.url) for _ in range(3)]
    try:
        runs = await asyncio.gather(*(checkpoint_all(r, anchoring_in(tmp_path), T0)
                                      for r in replicas))
    finally:
        for replica in replicas:
            await replica.dispose()
    assert sorted(written for written, _ in runs) == [[], [], ["T1: checkpoint at event 4"]]
    lines = (tmp_path / "checkpoints.jsonl").read_text().splitlines()
    assert [(c["workspace"], c["seq"]) for c in map(json.loads, lines)] == [("T1", 4)]


async def test_the_timers_checkpoint_daily_and_after_each_digest(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}",
                        config=EXAMPLE, data_dir=data, redis_url=None)
    app = await build(settings)
    try:
        assert not await load_demo(app.baton, app.database, app.workspace,
                                   app.clock.now())
        timers = wire_jobs.jobs(app)
        key = data / "audit" / "signing.key"
        assert key.is_file()  # made at start, before any checkpoint
        timers.start()
        try:
            assert timers.scheduler is not None
            daily = timers.scheduler.get_job("checkpoint")
            assert daily is not None and daily.trigger is CHECKPOINT_DAILY
            fire = daily.next_run_time.astimezone(UTC)
            assert (fire.hour, fire.minute) == (0, 5)
        finally:
            timers.shutdown()
        checkpoints = data / "audit" / "checkpoints.jsonl"
        assert not checkpoints.exists()
        [job] = [j for j in wire_jobs.schedules(app) if not j.weekly][:1]
        assert await timers.digest(job)
        async with app.database.unit_of_work() as uow:
            head = await uow.events.head(app.workspace)
        [line] = checkpoints.read_text().splitlines()
        assert (json.loads(line)["workspace"], json.loads(line)["seq"]) == (app.workspace,
                                                                            head[0])
    finally:
        await app.close()
