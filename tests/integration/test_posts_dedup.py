"""Card posts and retry de-duplication on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.ports import CardPost
from store.dedup import SqlDeduplicator
from store.migrate import upgrade
from store.uow import Database
from tests.fakes import FakeClock


async def test_card_posts_kept_once_in_order(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
    await upgrade(url)
    async with Database(url) as db:
        async with db.unit_of_work() as uow:
            for post in (CardPost("w", 1, "slack", "C1", "111.1"),
                         CardPost("w", 1, "slack", "C1", "111.1"),
                         CardPost("w", 1, "slack", "D2", "222.2"),
                         CardPost("w", 1, "teams", "19:x", "act-1"),
                         CardPost("w", 2, "slack", "C1", "333.3")):
                await uow.posts.add(post)
            await uow.commit()
        async with db.unit_of_work() as uow:
            posts = await uow.posts.of_item("w", 1, "slack")
    assert [(p.channel, p.ref) for p in posts] == [("C1", "111.1"), ("D2", "222.2")]


async def test_dedup_first_time_then_repeats_until_expiry(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
    await upgrade(url)
    clock = FakeClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    async with Database(url) as db:
        dedup = SqlDeduplicator(db, clock)
        assert await dedup.first_time("slack:Ev1", timedelta(minutes=10))
        assert not await dedup.first_time("slack:Ev1", timedelta(minutes=10))
        assert await dedup.first_time("slack:Ev2", timedelta(minutes=10))
        clock.advance(timedelta(minutes=11))
        assert await dedup.forget_expired() == 2
        assert await dedup.first_time("slack:Ev1", timedelta(minutes=10))
        assert not await dedup.first_time("slack:Ev1", timedelta(minutes=10))
