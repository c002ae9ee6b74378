"""A platform delivery's key is recorded in the transaction of the command it carried (SQLite,
and PostgreSQL when configured): a repeat acts once, and a first try that did not commit
leaves nothing that would make its retry look like a repeat."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.context import Request
from bot.service import DELIVERY_REMEMBERED, Baton
from store.uow import Database
from tests.fakes import FakeClock, FakeDirectory

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


async def count(db: Database, table: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_a_repeated_delivery_acts_once(db: Database) -> None:
    baton = Baton(db.unit_of_work, FakeClock(T0), FakeDirectory())
    request = Request("w", "alice", "slack", delivery="slack:command:t.1")
    first = await baton.run(request, "handoff @bob Ship the notes")
    again = await baton.run(request, "handoff @bob Ship the notes")
    assert (first.ok, first.duplicate) == (True, False)
    assert (again.ok, again.duplicate, str(again.text)) == (False, True, "")
    assert await count(db, "items") == 1
    assert await count(db, "seen_keys") == 1


async def test_a_first_try_that_did_not_commit_leaves_its_retry_free_to_act(
        db: Database) -> None:
    async with db.unit_of_work() as uow:  # the key recorded, then the process dies
        assert await uow.deliveries.first_time("slack:command:t.2", T0, DELIVERY_REMEMBERED)
    baton = Baton(db.unit_of_work, FakeClock(T0), FakeDirectory())
    retry = await baton.run(Request("w", "alice", "slack", delivery="slack:command:t.2"),
                            "handoff @bob Ship the notes")
    assert retry.ok and str(retry.text) == "Created #1."
    assert await count(db, "seen_keys") == 1


async def test_a_refused_command_records_no_key(db: Database) -> None:
    baton = Baton(db.unit_of_work, FakeClock(T0), FakeDirectory())
    request = Request("w", "alice", "slack", delivery="slack:command:t.3")
    refused = await baton.run(request, "handoff @alice Mine already")
    assert not refused.ok and not refused.duplicate
    assert await count(db, "seen_keys") == 0


async def test_a_key_acts_again_once_its_record_has_expired(db: Database) -> None:
    clock = FakeClock(T0)
    baton = Baton(db.unit_of_work, clock, FakeDirectory())
    request = Request("w", "alice", "slack", delivery="slack:command:t.4")
    assert (await baton.run(request, "handoff @bob One")).ok
    clock.advance(DELIVERY_REMEMBERED - timedelta(seconds=1))
    assert (await baton.run(request, "handoff @bob One")).duplicate
    clock.advance(timedelta(seconds=2))
    assert (await baton.run(request, "handoff @bob One")).ok
    assert await count(db, "items") == 2


async def test_the_same_delivery_twice_at_once_acts_once(db: Database) -> None:
    batons = [Baton(db.unit_of_work, FakeClock(T0), FakeDirectory()) for _ in range(2)]
    request = Request("w", "alice", "slack", delivery="slack:command:t.5")
    replies = await asyncio.gather(*(b.run(request, "handoff @bob Twice") for b in batons))
    assert sorted(r.duplicate for r in replies) == [False, True]
    assert await count(db, "items") == 1
