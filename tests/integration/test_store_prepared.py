"""Prepared statements on SQLite: compiled once, run on the driver, exactly as SQLAlchemy
would have run them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, event, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import ArgumentError, IntegrityError

from bot.events import EventDraft
from bot.items import Absence, Decision, Item, Kind, Policy, Verdict
from bot.messages import Delivery, Outgoing
from store import prepared as prepared_module
from store.migrate import upgrade
from store.prepared import Plan, Plans, prepared
from store.uow import Database
from tests.integration.conftest import T0

WORKSPACE = "T1"


async def _write_everything(db: Database) -> None:
    """Every prepared statement a command runs: workspace row, item with approvers and
    decisions, event, outbox messages (one a repeat), absences, delivery keys."""
    async with db.unit_of_work() as uow:
        await uow.absences.put(Absence(WORKSPACE, "carol", T0, T0 + timedelta(days=2), "dan"))
        await uow.commit()
    for n in range(3):
        async with db.unit_of_work() as uow:
            assert await uow.deliveries.first_time(f"key-{n}", T0, timedelta(hours=1))
            assert not await uow.deliveries.first_time(f"key-{n}", T0, timedelta(hours=1))
            assert await uow.absences.get(WORKSPACE, "carol") is not None
            number = await uow.items.allocate_number(WORKSPACE)
            item = Item(WORKSPACE, number, Kind.APPROVAL, f"item {number}", "alice", "ops",
                        T0, T0 + timedelta(microseconds=n), approvers=("bob", "carol"),
                        policy=Policy.parse("all"), watchers=("erin",),
                        due_at=T0 + timedelta(hours=n), details="ünïcode ✓",
                        decisions=(Decision("bob", Verdict.APPROVE, "fine", T0, "bob"),))
            await uow.items.add(item)
            event_ = await uow.events.append(EventDraft(
                WORKSPACE, number, "alice", "created", T0, "slack", {},
                {"number": number, "at": T0.isoformat(), "nested": {"list": [1, None]}}))
            message = Outgoing(WORKSPACE, Delivery.DM, "bob", "yours",
                               f"{WORKSPACE}:{event_.seq}:dm:bob", number,
                               {"title": "card", "actions": [{"verb": "ack"}]})
            await uow.outbox.put(message)
            await uow.outbox.put(message)  # the same key: ignored
            await uow.outbox.put(replace(message, key=message.key + ":2", card=None))
            await uow.commit()
    async with db.unit_of_work() as uow:  # expired keys are taken over
        assert await uow.deliveries.first_time("key-0", T0 + timedelta(hours=2),
                                               timedelta(hours=1))
        await uow.commit()


def _contents(file: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, as SQLite stores them (text, numbers, nulls), bar timestamps the
    database sets itself."""
    with closing(sqlite3.connect(file)) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        found = {}
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')
                       if r[1] != "created_at" or table != "outbox"]
            listed = ", ".join(f'"{c}"' for c in columns)
            found[table] = conn.execute(f'SELECT {listed} FROM "{table}" ORDER BY {listed}')\
                .fetchall()
        return found


@contextmanager
def _through_sqlalchemy(db: Database) -> Iterator[list[str]]:
    """Every statement down SQLAlchemy's own execution path: a cursor listener (which
    must see them all) turns the prepared path off."""
    seen: list[str] = []

    def capture(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.unit_engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(db.unit_engine, "before_cursor_execute", capture)


async def test_prepared_statements_store_exactly_what_sqlalchemy_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = tmp_path / "prepared.db", tmp_path / "sqlalchemy.db"
    for file in files:
        await upgrade(f"sqlite:///{file}")
    fast, slow = Database(f"sqlite:///{files[0]}"), Database(f"sqlite:///{files[1]}")
    ran: list[str] = []
    run = Plan.run

    def counted(plan: Plan, *args: Any) -> Any:
        ran.append(" ".join(plan.sql.split()[:3]))
        return run(plan, *args)

    monkeypatch.setattr(Plan, "run", counted)
    try:
        await _write_everything(fast)
        prepared_runs = list(ran)
        with _through_sqlalchemy(slow) as seen:
            await _write_everything(slow)
        async with fast.unit_of_work() as uow:
            read = await uow.items.get(WORKSPACE, 2)
            head = await uow.events.head(WORKSPACE)
    finally:
        await fast.dispose()
        await slow.dispose()

    assert len(ran) == len(prepared_runs)  # none with a cursor listener
    assert {"INSERT INTO items", "INSERT INTO events", "INSERT INTO outbox",
            "INSERT INTO approvers", "INSERT INTO decisions", "INSERT INTO seen_keys",
            "INSERT INTO workspaces", "UPDATE workspaces SET", "UPDATE seen_keys SET",
            "SELECT workspaces.next_number, workspaces.last_seq,",
            "SELECT absences.workspace, absences.person,"} == set(prepared_runs)
    assert any(s.startswith("INSERT INTO items") for s in seen)  # the comparison is real
    fast_rows, slow_rows = _contents(files[0]), _contents(files[1])
    assert fast_rows == slow_rows
    assert len(fast_rows["items"]) == 3 and len(fast_rows["outbox"]) == 6
    assert read is not None and read.approvers == ("bob", "carol")
    assert read.decisions[0].at == T0 and read.details == "ünïcode ✓"
    assert head[0] == 3


async def test_driver_errors_are_raised_as_sqlalchemys(db_url: str) -> None:
    await upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.unit_of_work() as uow:
            number = await uow.items.allocate_number(WORKSPACE)
            item = Item(WORKSPACE, number, Kind.HANDOFF, "twice", "alice", "ops", T0, T0)
            await uow.items.add(item)
            with pytest.raises(IntegrityError):
                await uow.items.add(item)
    finally:
        await db.dispose()


def test_a_plan_binds_in_order_and_requires_what_has_no_default() -> None:
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("name", String), Column("n", Integer, default=7))
    statement = prepared(select(table.c.name).where(table.c.id == bindparam("which"),
                                                   table.c.n > bindparam("least", 0)))
    plan = Plan.compile(statement, sqlite.dialect(), ["which"])
    assert plan is not None
    assert plan.keys == ("name",)
    assert plan.parameters({"which": 3}) == (3, 0)
    with pytest.raises(ArgumentError, match="which"):
        plan.parameters({"least": 1})

    adding = Plan.compile(insert(table), sqlite.dialect(), ["name"])
    assert adding is not None
    assert adding.parameters({"name": "x"}) == ("x", 7)  # the column's scalar default


def test_what_only_sqlalchemy_does_right_is_left_to_it() -> None:
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("stamp", String, default=lambda: "now"))
    expanding = select(table.c.id).where(table.c.id.in_(bindparam("ids", expanding=True)))
    plans = Plans(sqlite.dialect(dbapi=sqlite3))
    assert Plan.compile(insert(table), sqlite.dialect(), ["id"]) is None  # callable default
    assert Plan.compile(expanding, sqlite.dialect(), ["ids"]) is None
    returning = prepared(insert(table).returning(table.c.id))
    assert plans.plan(returning, [{"id": 1, "stamp": "a"}]) is None  # RETURNING executemany
    assert plans.plan(returning, {"id": 1, "stamp": "a"}) is not None


def test_only_marked_statements_are_prepared() -> None:
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    marked, unmarked = prepared(select(table)), select(table)
    assert prepared_module.is_prepared(marked)
    assert not prepared_module.is_prepared(unmarked)
