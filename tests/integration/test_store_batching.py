"""Writes held back and sent together: events, messages and workspace rows before the commit,
and the sweep's saves and claims of the items it holds. Nothing held back is lost, read stale
or kept after a rollback, and a sweep's statements do not grow with the items it acts on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from bot import rich
from bot.context import Request
from bot.events import GENESIS, EventDraft, verify
from bot.items import Item, Kind
from bot.messages import Audience, Outgoing
from bot.people import SlaTargets, TeamClock
from bot.ports import Claim, ConcurrentChange, ItemQuery
from bot.service import Baton
from store.uow import Database
from tests.fakes import FakeClock, FakeDirectory
from tests.integration.conftest import T0

MONDAY = datetime(2026, 11, 23, 9, tzinfo=UTC)
H = timedelta(hours=1)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The statements the units of work send (an executemany counts once)."""
    sent: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    event.listen(db.unit_engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(db.unit_engine, "before_cursor_execute", capture)


async def test_what_is_held_back_is_read_back_within_the_transaction(db: Database) -> None:
    async with db.unit_of_work() as uow:
        number = await uow.items.allocate_number("T1")
        await uow.items.add(Item("T1", number, Kind.HANDOFF, "held", "alice", "ops", T0, T0,
                                 owner="bob"))
        created = await uow.events.append(EventDraft("T1", number, "alice", "created", T0,
                                                     "console"))
        await uow.outbox.put(Outgoing("T1", Audience.PERSON, "bob", rich.text("yours"), "k1",
                                      number))
        assert [e.seq for e in await uow.events.for_item("T1", number)] == [created.seq]
        assert await uow.events.head("T1") == (created.seq, created.hash)
        assert [q.message.key for q in await uow.outbox.claim(10, T0)] == ["k1"]
        await uow.commit()
    async with db.unit_of_work() as uow:
        events = await uow.events.all("T1")
        assert verify(events, *await uow.events.head("T1")) == []
        assert await uow.items.allocate_number("T1") == 2  # the row was moved on


async def test_a_rollback_drops_what_was_held_back(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.items.allocate_number("T1")
        await uow.events.append(EventDraft("T1", None, "alice", "away", T0, "console"))
        await uow.outbox.put(Outgoing("T1", Audience.PERSON, "bob", rich.text("lost"), "k1"))
        await uow.rollback()
        await uow.outbox.put(Outgoing("T1", Audience.PERSON, "bob", rich.text("kept"), "k2"))
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.events.head("T1") == (0, GENESIS)
        assert [str(q.message.text) for q in await uow.outbox.claim(10, T0)] == ["kept"]
        assert await uow.items.allocate_number("T1") == 1


async def test_messages_keep_their_order_and_a_repeated_key_is_kept_once(db: Database) -> None:
    async with db.unit_of_work() as uow:
        for n, key in enumerate(["c", "a", "b", "a"]):
            await uow.outbox.put(Outgoing("T1", Audience.THREAD, "C1", rich.text(f"text {n}"),
                                          key, None))
        await uow.commit()
    async with db.unit_of_work() as uow:
        claimed = await uow.outbox.claim(10, T0)
    assert [(q.message.key, str(q.message.text)) for q in claimed] == [
        ("c", "text 0"), ("a", "text 1"), ("b", "text 2")]


async def test_a_held_save_is_still_checked_when_it_is_written(sqlite_db: Database) -> None:
    """A save of a held item goes unchecked at first (nobody else can change it); should the
    row have moved all the same, the write says so and the transaction does not commit."""
    async with sqlite_db.unit_of_work() as uow:
        await uow.items.add(Item("T1", 1, Kind.HANDOFF, "held", "alice", "ops", T0, T0))
        await uow.commit()
    with pytest.raises(ConcurrentChange):
        async with sqlite_db.unit_of_work() as uow:
            item = await uow.items.get("T1", 1)
            assert item is not None
            await uow.session.execute(text("UPDATE items SET version = version + 5"))
            await uow.items.save(item.evolve(title="mine"))
            await uow.commit()
    async with sqlite_db.unit_of_work() as uow:
        found = await uow.items.find("T1", ItemQuery())
    assert [(i.title, i.version) for i in found] == [("held", 0)]


async def test_the_sweeps_claims_are_answered_from_what_it_read(db: Database) -> None:
    async with db.unit_of_work() as uow:
        for n in (1, 2):
            await uow.items.add(Item("T1", n, Kind.HANDOFF, f"item {n}", "alice", "ops", T0, T0,
                                     next_followup_at=T0))
        assert await uow.followups.claim(Claim("T1", 1, "ack", "warn", "remind", "ops", T0))
        await uow.commit()
    async with db.unit_of_work() as uow:
        due = await uow.items.due_followups("T1", T0 + H, 10)
        assert [i.number for i in due] == [1, 2]
        taken = [await uow.followups.claim(Claim("T1", n, "ack", "warn", "remind", "ops", T0))
                 for n in (1, 2, 2)]
        assert taken == [False, True, False]
        await uow.commit()
    async with db.unit_of_work() as uow:  # stored: a fresh transaction agrees
        assert not await uow.followups.claim(Claim("T1", 2, "ack", "warn", "remind", "ops",
                                                   T0))


@pytest.mark.parametrize("due", [20, 100])
async def test_a_sweeps_statements_do_not_grow_with_the_items_it_reminds(
        sqlite_db: Database, due: int) -> None:
    """Per batch: what is due read (absences, the items, their approvers, decisions and
    claims, the workspace row), then one claim insert, one item update, one event insert,
    one outbox insert and one workspace row update for all of them: not one of each per
    item."""
    clock = FakeClock(MONDAY)
    baton = Baton(sqlite_db.unit_of_work, clock,
                  FakeDirectory({"release": TeamClock()}, SlaTargets(4 * H, 30 * 24 * H)))
    for n in range(due):
        reply = await baton.run(Request("w", "alice"), f"handoff @bob Item {n}")
        assert reply.ok, reply.text
    clock.current = MONDAY + 3 * H + timedelta(minutes=1)  # every reminder due
    with statements(sqlite_db) as sent:
        lines = await baton.tick("w", clock.now())
    assert len(lines) == due
    writes = [s for s in sent if s in ("INSERT", "UPDATE", "DELETE")]
    assert sorted(writes) == ["INSERT", "INSERT", "INSERT", "UPDATE", "UPDATE"], sent
    assert len(sent) <= 13, sent
