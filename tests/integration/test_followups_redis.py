"""Redis as the replicas' short-term memory: platform retries de-duplicated (SET NX with an
expiry) and short locks that only their holder releases; the sweep of several replicas taking
turns through them. Runs against the server BATON_TEST_REDIS_URL names (make test starts one)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from bot.context import Request
from bot.locks import MemoryLocks
from bot.service import Baton
from jobs.scheduler import Jobs
from store.redis_kv import RedisDeduplicator, RedisLocks, connect
from store.uow import Database
from tests.fakes import FakeClock, FakeDirectory

REDIS = os.environ.get("BATON_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS, reason="BATON_TEST_REDIS_URL is not set (make test "
                                                  "starts a Redis server)")
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = connect(REDIS)
    yield client
    await client.aclose()


def prefix() -> str:
    return f"baton-test:{uuid4().hex[:8]}:"


async def test_a_platform_retry_is_seen_once_until_it_expires(redis: Redis) -> None:
    dedup = RedisDeduplicator(redis, prefix())
    first = await asyncio.gather(*(dedup.first_time("Ev01", timedelta(seconds=1))
                                   for _ in range(20)))
    assert first.count(True) == 1  # twenty replicas at once: one acts
    assert not await dedup.first_time("Ev01", timedelta(seconds=1))
    assert await dedup.first_time("Ev02", timedelta(seconds=1))
    await asyncio.sleep(1.1)  # a real server's expiry cannot be faked
    assert await dedup.first_time("Ev01", timedelta(seconds=1))


async def test_a_lock_is_held_once_and_freed_only_by_its_holder(redis: Redis) -> None:
    locks = RedisLocks(redis, prefix())
    tokens = await asyncio.gather(*(locks.acquire("digest:ops", timedelta(seconds=30))
                                    for _ in range(10)))
    held = [t for t in tokens if t]
    assert len(held) == 1
    await locks.release("digest:ops", "not-the-token")
    assert await locks.acquire("digest:ops", timedelta(seconds=30)) is None
    await locks.release("digest:ops", held[0])
    assert await locks.acquire("digest:ops", timedelta(seconds=30)) is not None


async def test_an_expired_lock_is_not_released_by_its_old_holder(redis: Redis) -> None:
    locks = RedisLocks(redis, prefix())
    old = await locks.acquire("sweep:w", timedelta(milliseconds=50))
    assert old is not None
    await asyncio.sleep(0.1)
    new = await locks.acquire("sweep:w", timedelta(seconds=30))
    assert new is not None
    await locks.release("sweep:w", old)  # late: must not free the new holder's lock
    assert await locks.acquire("sweep:w", timedelta(seconds=30)) is None


async def test_replicas_sweeping_at_once_take_turns_through_redis(redis: Redis,
                                                                  sqlite_db: Database) -> None:
    clock = FakeClock(T0)
    directory = FakeDirectory()
    baton = Baton(sqlite_db.unit_of_work, clock, directory)
    assert (await baton.run(Request("w", "alice"), "handoff @bob Rotate the keys")).ok
    clock.current = T0 + timedelta(hours=3)
    shared = prefix()

    async def workspaces() -> Sequence[str]:
        return ["w"]

    replicas = [Jobs(Baton(sqlite_db.unit_of_work, clock, directory), clock,
                     RedisLocks(redis, shared), workspaces) for _ in range(3)]
    results = await asyncio.gather(*(r.sweep() for r in replicas))
    assert sorted(len(lines) for lines in results) == [0, 0, 1]  # one swept, two skipped
    assert await redis.exists(f"{shared}sweep:w") == 0  # and let go when done
    # Without Redis each process has its own locks: all sweep, the database still decides.
    alone = [Jobs(Baton(sqlite_db.unit_of_work, clock, directory), clock, MemoryLocks(clock),
                  workspaces) for _ in range(3)]
    clock.current = T0 + timedelta(hours=4)
    results = await asyncio.gather(*(r.sweep() for r in alone))
    assert sorted(len(lines) for lines in results) == [0, 0, 1]
