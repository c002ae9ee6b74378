"""Follow-ups over the real store (SQLite, and PostgreSQL when configured): the sweep reads due
items through its index, each rung is claimed once, a restart repeats nothing, and the
upgrade marks existing open items for a first look."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.context import Request
from bot.messages import Audience
from bot.people import ChainStep, SlaTargets, TeamClock
from bot.ports import Claim
from bot.service import Baton
from store.migrate import upgrade
from store.outbox import SqlOutbox
from store.uow import Database
from tests.fakes import FakeClock, FakeDirectory
from tests.integration.conftest import MakeItem

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)  # Monday
H = timedelta(hours=1)
CHAIN = (ChainStep(timedelta(), "owner"), ChainStep(H, "lead"), ChainStep(4 * H, "channel"))


def directory() -> FakeDirectory:
    return FakeDirectory({"release": TeamClock(chain=CHAIN)}, SlaTargets(4 * H, 3 * 24 * H))


async def test_reminder_breach_and_chain_each_once_across_a_restart(db: Database) -> None:
    clock = FakeClock(T0)
    baton = Baton(db.unit_of_work, clock, directory())
    assert (await baton.run(Request("w", "alice"), "handoff @bob Ship the notes")).ok
    clock.current = T0 + 3 * H
    assert len(await baton.tick("w", clock.now())) == 1
    clock.current = T0 + 5 * H
    assert len(await baton.tick("w", clock.now())) == 3  # breach, owner, lead

    restarted = Database(db.url)  # another process on the same database, same instant
    try:
        again = Baton(restarted.unit_of_work, clock, directory())
        assert await again.tick("w", clock.now()) == []
        clock.current = T0 + 8 * H
        assert [str(line).split(":")[0] for line in await again.tick("w", clock.now())] == [
            "Baton escalated #1"]
        assert await baton.tick("w", clock.now()) == []
    finally:
        await restarted.dispose()

    async with db.unit_of_work() as uow:
        events = [e.action for e in await uow.events.for_item("w", 1)]
        item = await uow.items.get("w", 1)
        outbox = await SqlOutbox(uow.session).rows(None, 100)
    assert events == ["created", "remind", "breach", "escalate", "escalate", "escalate"]
    assert item is not None and (item.ack_stage, item.escalation_level) == (5, 3)
    assert item.next_followup_at == T0 + 3 * 24 * H - 18 * H  # the resolve reminder
    dms = sorted((r.to, str(r.text).split(":")[0]) for r in outbox if r.delivery == Audience.PERSON)
    assert dms == [("bob", "@alice handed you #1"), ("bob", "⏳ Reminder"),
                   ("bob", "🚨 Escalation 1/3"), ("lena", "🚨 Escalation 2/3")]
    assert [r.to for r in outbox if r.delivery == Audience.TEAM] == ["release"]


async def test_the_sweep_reads_only_what_is_due(db: Database, make_item: MakeItem) -> None:
    async with db.unit_of_work() as uow:
        for n in range(1, 41):
            due = T0 + timedelta(minutes=n) if n % 4 == 0 else T0 + timedelta(days=9)
            await uow.items.add(make_item("w", n, next_followup_at=due))
        await uow.items.add(make_item("w", 41))  # nothing scheduled
        await uow.items.add(make_item("other", 1, next_followup_at=T0))
        await uow.commit()
    async with db.unit_of_work() as uow:
        due = await uow.items.due_followups("w", T0 + H, 100)
        first = await uow.items.due_followups("w", T0 + H, 3)
    assert [i.number for i in due] == list(range(4, 41, 4))
    assert [i.number for i in first] == [4, 8, 12]


async def test_sqlite_sweeps_through_the_followup_index(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        plan = (await conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT * FROM items WHERE workspace = 'w' AND "
            "next_followup_at <= '2026-11-23 10:00:00' ORDER BY next_followup_at "
            "LIMIT 200"))).all()
    detail = " ".join(str(row[-1]) for row in plan)
    assert "ix_items_followup" in detail and "SCAN items" not in detail, detail
    assert "TEMP B-TREE" not in detail, detail  # read in the index's order, no sort


async def test_a_claim_is_taken_once(db: Database) -> None:
    claim = Claim("w", 7, "ack", "2", "escalate", "ops", T0)
    async with db.unit_of_work() as uow:
        assert await uow.followups.claim(claim)
        assert not await uow.followups.claim(claim)
        assert await uow.followups.claim(Claim("w", 7, "resolve", "2", "escalate", "ops", T0))
        await uow.commit()
    async with db.unit_of_work() as uow:  # rolled back: the claim goes with the work
        assert await uow.followups.claim(Claim("w", 8, "ack", "1", "escalate", "ops", T0))
    async with db.unit_of_work() as uow:
        assert await uow.followups.claim(Claim("w", 8, "ack", "1", "escalate", "ops", T0))
        assert not await uow.followups.claim(claim)


async def test_the_upgrade_marks_open_items_for_a_first_look(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0002")
    async with Database(url) as database, database.engine.begin() as conn:
        for number, state in ((1, "open"), (2, "done")):
            await conn.execute(text(
                "INSERT INTO items (workspace, number, kind, title, details, team, "
                "requester, policy, priority, state, escalation_level, blocked_reason, "
                "watchers, source_surface, source_channel, source_message, "
                "source_permalink, created_at, updated_at, version) VALUES ('w', :n, "
                "'handoff', 't', '', 'release', 'alice', 'any', 'normal', :s, 0, '', "
                "'[]', 'console', '', '', '', '2026-11-20 09:00:00', "
                "'2026-11-20 10:00:00', 1)"), {"n": number, "s": state})
    await upgrade(url)
    async with Database(url) as database, database.unit_of_work() as uow:
        still_open, done = await uow.items.get("w", 1), await uow.items.get("w", 2)
    assert still_open is not None and done is not None
    assert still_open.next_followup_at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert (still_open.ack_stage, still_open.closed_at) == (0, None)
    assert done.closed_at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert done.next_followup_at is None
