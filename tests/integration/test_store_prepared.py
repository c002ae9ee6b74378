"""Prepared statements on SQLite: compiled once, run on the driver, exactly as SQLAlchemy
would have run them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError, ResourceClosedError, StatementError

from bot.events import EventDraft
from bot.items import Absence, Decision, Item, Kind, Policy, Verdict
from bot.messages import Delivery, Outgoing
from store import prepared as prepared_module
from store.migrate import upgrade
from store.prepared import Plan, PlanResult, Plans, prepared
from store.session import InlineSession
from store.uow import Database
from store.workspaces import _LOCK, _SET_NUMBER
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
    assert plan.returns_rows
    assert plan.bind({"which": 3}) == (3, 0)
    with pytest.raises(StatementError, match="required for bind parameter 'which'"):
        plan.bind({"least": 1})

    adding = Plan.compile(insert(table), sqlite.dialect(), ["name"])
    assert adding is not None and not adding.returns_rows
    assert adding.bind({"name": "x"}) == ("x", 7)  # the column's scalar default
    assert adding.bind([{"name": "x"}, {"name": "y"}]) == [("x", 7), ("y", 7)]
    with pytest.raises(StatementError, match="in parameter group 1"):
        adding.bind([{"name": "x"}, {}])


def test_what_only_sqlalchemy_does_right_is_left_to_it() -> None:
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("stamp", String, default=lambda: "now"), Column("note", String))
    dialect = sqlite.dialect(dbapi=sqlite3)
    plans = Plans(create_engine("sqlite://"))
    expanding = select(table.c.id).where(table.c.id.in_(bindparam("ids", expanding=True)))
    literal = select(table.c.id).where(table.c.id == bindparam("n", literal_execute=True))
    assert Plan.compile(insert(table), dialect, ["id"]) is None  # callable default
    assert Plan.compile(expanding, dialect, ["ids"]) is None
    assert Plan.compile(literal, dialect, ["n"]) is None
    assert Plan.compile(select(func.count()).select_from(table), dialect, []) is None
    assert Plan.compile(select(table.c.id, table.c.id.label("id")), dialect, []) is None
    assert Plan.compile(insert(table).return_defaults(), dialect, ["id", "stamp"]) is None
    returning = prepared(insert(table).returning(table.c.id))
    assert plans.plan(returning, [{"id": 1, "stamp": "a"}]) is None  # RETURNING executemany
    assert plans.plan(returning, {"id": 1, "stamp": "a"}) is not None
    plain = prepared(insert(table))
    assert plans.plan(plain, [{"id": 1, "stamp": "a"}, {"id": 2, "stamp": "b", "note": "n"}]) \
        is None  # rows with different keys
    assert plans.plan(plain, ({"id": 1, "stamp": "a"},)) is None  # not a dict or a list
    assert plans.plan(plain, [{"id": 1, "stamp": "a"}, {"id": 2, "stamp": "b"}]) is not None


async def test_a_refused_parameter_begins_no_transaction(db_url: str) -> None:
    await upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.unit_of_work() as uow:
            with pytest.raises(StatementError, match="naive datetime"):
                await uow.deliveries.first_time("k", datetime(2026, 1, 1),
                                                timedelta(hours=1))
            assert isinstance(uow.session, InlineSession)
            assert not uow.session.connection.in_transaction()
    finally:
        await db.dispose()


async def test_a_statement_without_rows_gives_a_closed_result_with_its_rowcount(
        db_url: str) -> None:
    await upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.unit_of_work() as uow:
            assert isinstance(uow.session, InlineSession)
            await uow.items.allocate_number(WORKSPACE)
            result = await uow.session.execute(_SET_NUMBER, {"ws": WORKSPACE, "number": 9})
            assert isinstance(result, PlanResult)  # the prepared path, not SQLAlchemy's
            assert result.rowcount == 1
            with pytest.raises(ResourceClosedError):
                result.first()
            locked = (await uow.session.execute(_LOCK, {"ws": WORKSPACE})).one()
            assert locked.next_number == 9
            assert locked._mapping[_LOCK.selected_columns.next_number] == 9
    finally:
        await db.dispose()


@pytest.mark.parametrize("hook", ["handle_error", "after_cursor_execute", "before_execute"])
async def test_listeners_of_any_kind_see_every_statement(db_url: str, hook: str) -> None:
    await upgrade(db_url)
    db = Database(db_url)
    seen: list[object] = []

    def listener(*args: Any, **_: Any) -> None:
        seen.append(args)

    event.listen(db.unit_engine, hook, listener)
    try:
        async with db.unit_of_work() as uow:
            result = await uow.session.execute(_LOCK, {"ws": WORKSPACE})
            assert not isinstance(result, PlanResult)
            if hook == "handle_error":
                with pytest.raises(IntegrityError):
                    for _ in range(2):
                        await uow.items.add(Item(WORKSPACE, 1, Kind.HANDOFF, "x", "alice",
                                                 "ops", T0, T0))
                assert seen  # the error passed through the listener
            else:
                assert seen
    finally:
        event.remove(db.unit_engine, hook, listener)
        await db.dispose()


def test_only_marked_statements_are_prepared() -> None:
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    marked, unmarked = prepared(select(table)), select(table)
    assert prepared_module.is_prepared(marked)
    assert not prepared_module.is_prepared(unmarked)
