"""Three schedulers on one PostgreSQL database, sweeping at the same moments over 1,000 items
(one of them restarted half-way): every reminder, breach and escalation step happens exactly
once, and the audit chain stays intact."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.events import verify
from bot.followups import retime
from bot.items import Item, Kind
from bot.locks import MemoryLocks
from bot.people import ChainStep, SlaTargets, TeamClock
from bot.service import Baton
from jobs.scheduler import Jobs
from store.migrate import upgrade
from store.tables import EventRow, FollowupRow, OutboxRow
from store.uow import Database
from tests.fakes import FakeClock, FakeDirectory
from tests.integration.conftest import POSTGRES, scratch_postgres

pytestmark = pytest.mark.skipif(not POSTGRES, reason="BATON_TEST_POSTGRES_URL is not set "
                                                     "(make test starts a PostgreSQL server)")

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
H = timedelta(hours=1)
ITEMS = 1000
CHAIN = (ChainStep(timedelta(), "owner"), ChainStep(H, "lead"), ChainStep(4 * H, "channel"))


def directory() -> FakeDirectory:
    return FakeDirectory({"release": TeamClock(chain=CHAIN)}, SlaTargets(4 * H, 30 * 24 * H))


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with scratch_postgres(POSTGRES) as scratch:
        await upgrade(scratch)
        yield scratch


class Replica:
    """One Baton process: its own engine, core and scheduler (and in-process locks, so the
    replicas do not even take turns: only the database keeps them apart)."""

    def __init__(self, url: str, clock: FakeClock, lines: list[str]) -> None:
        self.database = Database(url)
        self.clock = clock
        self.lines = lines

        async def workspaces() -> Sequence[str]:
            return ["w"]

        baton = Baton(self.database.unit_of_work, clock, directory())
        self.jobs = Jobs(baton, clock, MemoryLocks(clock), workspaces)

    async def sweep(self) -> None:
        self.lines += await self.jobs.sweep()


async def test_three_schedulers_fire_each_step_once_over_a_thousand_items(url: str) -> None:
    clock = FakeClock(T0)
    async with Database(url) as setup, setup.unit_of_work() as uow:
        for n in range(1, ITEMS + 1):
            item = Item("w", n, Kind.HANDOFF, f"Task {n}", "alice", "release", T0, T0,
                        owner="bob", ack_deadline=T0 + 4 * H,
                        resolve_deadline=T0 + 30 * 24 * H)
            await uow.items.add(retime(directory(), None, item, T0))
        await uow.commit()

    lines: list[str] = []  # what the sweeps report doing, all replicas together
    replicas = [Replica(url, clock, lines) for _ in range(3)]
    try:
        for hours in (3, 4, 5, 8):
            clock.current = T0 + hours * H
            await asyncio.gather(*(r.sweep() for r in replicas))
            if hours == 4:  # replica 0 restarts between sweeps
                await replicas[0].database.dispose()
                replicas[0] = Replica(url, clock, lines)
        await asyncio.gather(*(r.sweep() for r in replicas))  # again at the same instant
    finally:
        for replica in replicas:
            await replica.database.dispose()

    async with Database(url) as check, check.unit_of_work() as uow:
        session = uow.session
        claims = dict((await session.execute(select(FollowupRow.kind, func.count())
                                             .group_by(FollowupRow.kind))).all())
        actions = dict((await session.execute(select(EventRow.action, func.count())
                                              .group_by(EventRow.action))).all())
        outbox = dict((await session.execute(select(OutboxRow.delivery, func.count())
                                             .group_by(OutboxRow.delivery))).all())
        events = await uow.events.all("w")
        head = await uow.events.head("w")
        items = [await uow.items.get("w", n) for n in (1, ITEMS // 2, ITEMS)]
    assert claims == {"remind": ITEMS, "breach": ITEMS, "escalate": 3 * ITEMS}
    assert actions == {"remind": ITEMS, "breach": ITEMS, "escalate": 3 * ITEMS}
    notes = Counter((e.item, e.action, str(e.after.get("note"))) for e in events)
    assert max(notes.values()) == 1  # no step twice, however the replicas interleaved
    assert Counter(e.action for e in events if e.item == 7) == {
        "remind": 1, "breach": 1, "escalate": 3}
    # Per item: a reminder DM, the owner's and the lead's escalation DMs; one channel post;
    # a card refresh and a thread line for every step.
    assert outbox == {"person": 3 * ITEMS, "team": ITEMS, "card_update": 5 * ITEMS,
                      "thread": 5 * ITEMS}
    assert verify(events, *head) == []
    assert all(i is not None and (i.ack_stage, i.escalation_level) == (5, 3) for i in items)
    assert len(lines) == 5 * ITEMS
