"""The frequent queries are served by indexes, not by reading every item.

The plans are those SQLite chooses for the statements the repository really sends (captured
as they run), on a board shaped like a real one: most items done, a few open, few approvals
per person, and planner statistics (ANALYZE, which `Database.dispose` keeps up to date with
PRAGMA optimize).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot import rich
from bot.items import Item, Kind, State
from bot.messages import Audience, Outgoing
from bot.ports import ItemQuery
from store.uow import Database
from tests.integration.conftest import T0


@pytest.fixture
async def busy(sqlite_db: Database) -> AsyncIterator[Database]:
    db = sqlite_db
    async with db.unit_of_work() as uow:
        for workspace in ("T1", "T2"):
            for n in range(1, 201):
                approval = n % 25 == 0
                await uow.items.add(Item(
                    workspace, n, Kind.APPROVAL if approval else Kind.HANDOFF, f"item {n}",
                    f"person{n % 7}", f"team{n % 5}", T0, T0, owner=f"person{n % 11}",
                    approvers=(f"person{n % 13}", "boss") if approval else (),
                    state=State.OPEN if approval or n % 10 == 0 else State.DONE,
                    due_at=T0 + timedelta(hours=n) if n % 3 else None,
                    resolve_deadline=T0 + timedelta(hours=2 * n)))
        await uow.commit()
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
    yield db


async def plan_of(db: Database, query: ItemQuery) -> list[str]:
    """The query plan lines of the items SELECT that `find` sends for `query`."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM items" in statement:
            sent.append((statement, parameters))

    event.listen(db.unit_engine, "before_cursor_execute", capture)
    try:
        async with db.unit_of_work() as uow:
            found = await uow.items.find("T1", query)
    finally:
        event.remove(db.unit_engine, "before_cursor_execute", capture)
    assert found, "the board should have matches, or the plan proves little"
    statement, parameters = sent[0]
    async with db.engine.connect() as conn:
        rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return [row[-1] for row in rows]


def reads_every_item(plan: list[str]) -> bool:
    return any(line.startswith("SCAN items") for line in plan)


async def test_my_items_use_the_owner_index(busy: Database) -> None:
    plan = await plan_of(busy, ItemQuery(owner="person1"))
    assert not reads_every_item(plan)
    assert any("USING INDEX ix_items_owner" in line for line in plan)


async def test_waiting_on_an_approver_starts_from_the_approver_index(busy: Database) -> None:
    plan = await plan_of(busy, ItemQuery(approver="boss"))
    assert not reads_every_item(plan)
    assert any("ix_approvers_person" in line for line in plan)
    assert any("items USING INTEGER PRIMARY KEY" in line for line in plan)


async def test_what_falls_due_next_uses_the_deadline_indexes(busy: Database) -> None:
    plan = await plan_of(busy, ItemQuery(due_before=T0 + timedelta(hours=30)))
    assert not reads_every_item(plan)
    assert any("USING INDEX ix_items_due" in line for line in plan)
    assert any("USING INDEX ix_items_resolve" in line for line in plan)


async def test_a_teams_open_items_use_the_team_index(busy: Database) -> None:
    plan = await plan_of(busy, ItemQuery(team="team0"))
    assert not reads_every_item(plan)
    assert any("USING INDEX ix_items_team" in line for line in plan)


async def test_a_claim_finds_unposted_cards_by_their_partial_index(sqlite_db: Database) -> None:
    db = sqlite_db
    async with db.unit_of_work() as uow:
        for n in range(1, 301):
            for delivery in (Audience.CARD, Audience.THREAD, Audience.PERSON):
                await uow.outbox.put(Outgoing("T1", delivery, "C1", rich.text("x"),
                                              f"{n}:{delivery}", n))
        await uow.commit()
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("SELECT") and "FROM outbox" in statement:
            sent.append((statement, parameters))

    event.listen(db.unit_engine, "before_cursor_execute", capture)
    try:
        async with db.unit_of_work() as uow:
            claimed = await uow.outbox.claim(50, T0 + timedelta(days=1))
    finally:
        event.remove(db.unit_engine, "before_cursor_execute", capture)
    assert {q.message.audience for q in claimed} == {Audience.CARD, Audience.PERSON}
    statement, parameters = sent[0]
    async with db.engine.connect() as conn:
        plan = [row[-1] for row in await conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert any("USING COVERING INDEX ix_outbox_unposted_cards" in line
               or "USING INDEX ix_outbox_unposted_cards" in line for line in plan), plan
