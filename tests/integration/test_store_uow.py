"""Units of work: all-or-nothing, serialized writers off the event loop, reads that wait for no
writer, SQLite tuned on connect."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from bot import rich
from bot.events import GENESIS, EventDraft, verify
from bot.items import Item, Kind
from bot.messages import Audience, Outgoing
from bot.ports import UnitOfWork
from store.uow import Database, SqlUnitOfWork
from tests.integration.conftest import T0


async def create_item(db: Database, workspace: str = "T1") -> int:
    """What a create handler does: number, item, event, message; then commit."""
    async with db.unit_of_work() as uow:
        number = await uow.items.allocate_number(workspace)
        await uow.items.add(Item(workspace, number, Kind.HANDOFF, f"item {number}", "alice",
                                 "ops", T0, T0, owner="bob"))
        event = await uow.events.append(EventDraft(workspace, number, "alice", "created", T0,
                                                   "console", {}, {"number": number}))
        await uow.outbox.put(Outgoing(workspace, Audience.PERSON, "bob", rich.text("yours"),
                                      f"{workspace}:{event.seq}:dm:bob", number))
        await uow.commit()
    return number


async def test_a_unit_of_work_that_fails_before_commit_writes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as uow:
            number = await uow.items.allocate_number("T1")
            await uow.items.add(Item("T1", number, Kind.HANDOFF, "lost", "alice", "ops", T0, T0))
            await uow.events.append(EventDraft("T1", number, "alice", "created", T0, "console"))
            await uow.outbox.put(Outgoing("T1", Audience.PERSON, "bob", rich.text("lost"), "k"))
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
    """Commits never copy the write-ahead log back themselves (that syncs the file while every
    command waits behind the writer); every so many commits a checkpoint thread does."""
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


async def test_sqlite_work_runs_on_the_writer_thread_not_the_event_loops(
        sqlite_db: Database) -> None:
    """A whole unit of work handed over (`run`) and one driven from here (`async with`) both
    execute every statement on the one writer thread."""
    threads: list[str] = []

    def seen(*_: Any) -> None:
        threads.append(threading.current_thread().name)

    async def work(uow: UnitOfWork) -> int:
        number = await uow.items.allocate_number("T1")
        await uow.commit()
        return number

    event.listen(sqlite_db.unit_engine, "before_cursor_execute", seen)
    try:
        assert await sqlite_db.unit_of_work.run(work) == 1
        ran_whole = list(threads)
        threads.clear()
        await create_item(sqlite_db)
    finally:
        event.remove(sqlite_db.unit_engine, "before_cursor_execute", seen)
    assert ran_whole and threads
    assert {*ran_whole, *threads} == {"baton-sqlite-writer-1"}


async def test_a_long_statement_leaves_the_event_loop_free(sqlite_db: Database) -> None:
    """While SQLite works (here a statement that counts to three million) the loop goes on."""
    turns = 0
    running, done = threading.Event(), threading.Event()  # set on the writer's thread

    async def spin() -> None:
        nonlocal turns
        while not done.is_set():
            turns += running.is_set()
            await asyncio.sleep(0)

    async def long(uow: SqlUnitOfWork) -> int:
        running.set()
        try:
            count: int = (await uow.session.execute(text(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                "LIMIT 3000000) SELECT count(*) FROM c"))).scalar_one()
        finally:
            done.set()
        return count

    spinner = asyncio.create_task(spin())
    assert await sqlite_db.write(long) == 3_000_000
    await spinner
    assert turns > 100, "the event loop waited for SQLite"


async def test_a_unit_driven_from_the_loop_holds_the_writer_until_it_ends(
        sqlite_db: Database) -> None:
    """Work handed to the writer meanwhile waits for it (one transaction at a time, nothing
    interleaved on the writer's thread), then runs."""

    async def take(uow: UnitOfWork) -> int:
        number = await uow.items.allocate_number("T1")
        await uow.commit()
        return number

    async with sqlite_db.unit_of_work() as first:
        assert await first.items.allocate_number("T1") == 1
        second = asyncio.create_task(sqlite_db.unit_of_work.run(take))
        for _ in range(20):
            await asyncio.sleep(0)
        assert await first.items.allocate_number("T1") == 2  # still ours alone
        assert not second.done()
        await first.commit()
    assert await second == 3


async def test_reads_do_not_wait_for_the_writer(sqlite_db: Database) -> None:
    """A read-only transaction (readiness, /metrics, exports) runs while a unit of work holds
    the write lock, and sees what was committed before it."""
    await create_item(sqlite_db)
    async with sqlite_db.unit_of_work() as writing:
        await writing.items.allocate_number("T1")  # the write lock is held from here
        await writing.outbox.put(Outgoing("T1", Audience.PERSON, "bob", rich.text("not yet"),
                                          "k2"))
        stats = await sqlite_db.read(lambda uow: uow.outbox.stats(T0))
        assert await sqlite_db.ping()
        await writing.commit()
    assert stats.pending == 1


async def test_reader_connections_refuse_to_write(sqlite_db: Database) -> None:
    async def write(uow: SqlUnitOfWork) -> int:
        return await uow.items.allocate_number("T1")

    with pytest.raises(OperationalError, match="readonly"):
        await sqlite_db.read(write)


async def test_a_unit_of_work_inside_another_is_refused_rather_than_deadlocked(
        sqlite_db: Database) -> None:
    async def nested(_: UnitOfWork) -> None:
        async with sqlite_db.unit_of_work() as inner:
            await inner.items.allocate_number("T1")

    with pytest.raises(RuntimeError, match="inside another"):
        await sqlite_db.unit_of_work.run(nested)
    assert await create_item(sqlite_db) == 1  # the writer goes on


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


async def test_units_queued_together_commit_together_and_fail_alone(
        sqlite_db: Database) -> None:
    """Units handed to the writer while it is busy run in one transaction, each in a savepoint:
    one that fails, or does not commit, leaves the others' work in place; each caller hears
    its own outcome, and what was committed is there."""
    commits = 0

    def committed(_: Any) -> None:
        nonlocal commits
        commits += 1

    async def take(uow: UnitOfWork) -> int:
        number = await uow.items.allocate_number("T1")
        await uow.outbox.put(Outgoing("T1", Audience.PERSON, "bob", rich.text("x"), f"k{number}",
                                      number))
        await uow.commit()
        return number

    async def fail(uow: UnitOfWork) -> int:
        await uow.items.allocate_number("T1")
        raise ValueError("the handler failed")

    async def leave(uow: UnitOfWork) -> int:
        return await uow.items.allocate_number("T1")  # no commit: undone

    async with sqlite_db.unit_of_work() as holding:  # the writer is busy: the rest queue
        await holding.items.allocate_number("T0")
        works = [take, fail, take, leave, take, take]
        tasks = [asyncio.create_task(sqlite_db.unit_of_work.run(w)) for w in works]
        for _ in range(20):
            await asyncio.sleep(0)
        event.listen(sqlite_db.unit_engine, "commit", committed)
        await holding.commit()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    event.remove(sqlite_db.unit_engine, "commit", committed)

    assert [o if isinstance(o, int) else type(o).__name__ for o in outcomes] == [
        1, "ValueError", 2, 3, 3, 4]  # the one left uncommitted saw 3, then gave it back
    assert commits == 2  # the holder's, then one for the six
    async with sqlite_db.unit_of_work() as uow:
        assert await uow.items.allocate_number("T1") == 5
        assert [q.message.key for q in await uow.outbox.claim(10, T0)] == [
            "k1", "k2", "k3", "k4"]


async def test_units_after_one_that_lost_the_shared_transaction_run_alone(
        sqlite_db: Database) -> None:
    """Should SQLite end the shared transaction (here a unit rolls it back itself), those
    before it are told their work is lost, those after it run in transactions of their own."""

    async def take(uow: UnitOfWork) -> int:
        number = await uow.items.allocate_number("T1")
        await uow.commit()
        return number

    async def wreck(uow: SqlUnitOfWork) -> int:
        await uow.items.allocate_number("T1")
        await uow.session.execute(text("ROLLBACK"))
        await uow.commit()
        return 0

    async with sqlite_db.unit_of_work() as holding:
        await holding.items.allocate_number("T0")
        tasks = [asyncio.create_task(sqlite_db.write(w)) for w in (take, wreck, take)]
        for _ in range(20):
            await asyncio.sleep(0)
        await holding.commit()
    first, wrecked, last = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(first, OperationalError) and "rolled back" in str(first)
    assert isinstance(wrecked, OperationalError)
    assert last == 1  # alone, after: the first's number was never kept
