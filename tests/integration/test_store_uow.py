"""Units of work: all-or-nothing, serialized writers, SQLite tuned on connect."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.events import GENESIS, EventDraft, verify
from bot.items import Item, Kind
from bot.messages import Delivery, Outgoing
from store.uow import Database
from tests.integration.conftest import T0


async def create_item(db: Database, workspace: str = "T1") -> int:
    """What a create handler does: number, item, event, message; then commit."""
    async with db.unit_of_work() as uow:
        number = await uow.items.allocate_number(workspace)
        await uow.items.add(Item(workspace, number, Kind.HANDOFF, f"item {number}", "alice",
                                 "ops", T0, T0, owner="bob"))
        event = await uow.events.append(EventDraft(workspace, number, "alice", "created", T0,
                                                   "console", {}, {"number": number}))
        await uow.outbox.put(Outgoing(workspace, Delivery.DM, "bob", "yours",
                                      f"{workspace}:{event.seq}:dm:bob", number))
        await uow.commit()
    return number


async def test_a_unit_of_work_that_fails_before_commit_writes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as uow:
            number = await uow.items.allocate_number("T1")
            await uow.items.add(Item("T1", number, Kind.HANDOFF, "lost", "alice", "ops", T0, T0))
            await uow.events.append(EventDraft("T1", number, "alice", "created", T0, "console"))
            await uow.outbox.put(Outgoing("T1", Delivery.DM, "bob", "lost", "k"))
            raise RuntimeError("handler failed")

    async with db.unit_of_work() as uow:
        assert await uow.items.get("T1", 1) is None
        assert await uow.events.head("T1") == (0, GENESIS)
        assert await uow.events.workspaces() == []
        assert await uow.outbox.claim(10, T0) == []
        assert await uow.items.allocate_number("T1") == 1


async def test_leaving_without_commit_rolls_back_and_rollback_after_commit_is_harmless(
        db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.items.allocate_number("T1")
    async with db.unit_of_work() as uow:
        assert await uow.items.allocate_number("T1") == 1
        await uow.commit()
        await uow.rollback()
    async with db.unit_of_work() as uow:
        assert await uow.items.allocate_number("T1") == 2


async def test_concurrent_units_of_work_get_distinct_numbers_and_one_chain(
        db: Database) -> None:
    numbers = await asyncio.gather(*(create_item(db) for _ in range(16)))

    assert sorted(numbers) == list(range(1, 17))
    async with db.unit_of_work() as uow:
        events = await uow.events.all("T1")
        head = await uow.events.head("T1")
        messages = await uow.outbox.claim(100, T0)
    assert head[0] == 16
    assert verify(events, *head) == []
    assert len(messages) == 16


async def test_two_processes_on_one_file_wait_for_each_other(sqlite_db: Database,
                                                             db_url: str) -> None:
    # A second Database stands for another process: its writers meet ours at SQLite's file
    # lock, where BEGIN IMMEDIATE and the busy timeout make them queue instead of failing.
    async with Database(db_url) as other:
        numbers = await asyncio.gather(*(create_item(d) for _ in range(8)
                                         for d in (sqlite_db, other)))

    assert sorted(numbers) == list(range(1, 17))
    async with sqlite_db.unit_of_work() as uow:
        assert verify(await uow.events.all("T1"), *await uow.events.head("T1")) == []


async def test_sqlite_connections_are_tuned(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        settings = {pragma: (await conn.exec_driver_sql(f"PRAGMA {pragma}")).scalar()
                    for pragma in ("journal_mode", "synchronous", "foreign_keys",
                                   "busy_timeout")}
    assert settings == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                        "busy_timeout": 5000}


async def test_ping(db: Database, tmp_path: Path) -> None:
    assert await db.ping()


async def test_ping_says_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    garbage = tmp_path / "not-a-database.db"
    garbage.write_bytes(b"this is no SQLite file" * 100)
    async with Database(f"sqlite+aiosqlite:///{garbage}") as broken:
        assert not await broken.ping()


async def test_units_of_work_leave_the_log_to_a_checkpoint_thread(sqlite_db: Database,
                                                                  db_url: str) -> None:
    """Commits never copy the write-ahead log back themselves (that syncs the file while the
    event loop waits); every so many commits a checkpoint thread does."""
    path = Path(db_url.split(":///", 1)[1])
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = file_size(path)
    async with sqlite_db.unit_of_work() as uow:
        settings = await uow.session.execute(text("PRAGMA wal_autocheckpoint"))
        assert settings.scalar() == 0
    for _ in range(39):
        await create_item(sqlite_db)
    assert file_size(path) == before, "a commit copied the log back"
    await create_item(sqlite_db)  # the 40th: a checkpoint starts on a thread
    for _ in range(1000):  # at most 10 s
        if file_size(path) > before:
            break
        await asyncio.sleep(0.01)
    assert file_size(path) > before


def file_size(path: Path) -> int:
    return path.stat().st_size


async def test_sqlite_transactions_run_without_yielding_to_the_event_loop(
        sqlite_db: Database) -> None:
    """A unit of work holds SQLite's one write lock from BEGIN to COMMIT; if it yielded between
    statements, every other request's work would run inside that window (store.session)."""
    turns, stop = 0, False

    async def spin() -> None:
        nonlocal turns
        while not stop:
            turns += 1
            await asyncio.sleep(0)

    spinner = asyncio.create_task(spin())
    await asyncio.sleep(0)
    before = turns
    await create_item(sqlite_db)
    during_unit = turns - before
    conn = await sqlite_db.engine.connect()
    try:
        before = turns
        async with conn.begin():  # SQLAlchemy closes connections in a task: left out
            for _ in range(5):
                await conn.execute(text("SELECT count(*) FROM items"))
        during_engine = turns - before
    finally:
        await conn.close()
    stop = True
    await spinner
    assert turns > 0, "the spinner should have run"
    assert (during_unit, during_engine) == (0, 0)


async def test_what_a_transaction_read_under_its_locks_is_forgotten_at_rollback(
        db: Database) -> None:
    async with db.unit_of_work() as uow:
        first = await uow.items.allocate_number("T9")
        await uow.rollback()
        again = await uow.items.allocate_number("T9")
        await uow.commit()
    assert (first, again) == (1, 1)


async def test_absences_read_once_still_see_this_transactions_own_changes(
        db: Database) -> None:
    from bot.items import Absence
    async with db.unit_of_work() as uow:
        assert await uow.absences.get("T1", "bob") is None
        await uow.absences.put(Absence("T1", "bob", T0, None, "carol"))
        assert [a.person for a in await uow.absences.delegating_to("T1", "carol")] == ["bob"]
        await uow.absences.remove("T1", "bob")
        assert await uow.absences.get("T1", "bob") is None
        assert await uow.absences.delegating_to("T1", "carol") == []
        await uow.commit()


async def test_a_reader_on_the_async_engine_does_not_hold_up_a_unit_of_work(
        sqlite_db: Database) -> None:
    """Slack's installation store reads through `engine` and SQLAlchemy closes that connection
    in a task of its own: the read must not have taken the write lock meanwhile."""
    conn = await sqlite_db.engine.connect()
    try:
        await conn.execute(text("SELECT count(*) FROM items"))  # a transaction is open
        assert await create_item(sqlite_db) == 1
    finally:
        await conn.close()
