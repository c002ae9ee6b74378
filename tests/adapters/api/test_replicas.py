"""Two replicas over one database: a long-poll on one is woken by a decision made through the
other. On SQLite by the database reads alone; with Redis (PostgreSQL beside it, as in
production) by pub/sub, with the reads slowed so only pub/sub can explain the wake-up."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from tests.adapters.api.harness import start_api, stop_api
from tests.integration.conftest import scratch_postgres

REDIS = os.environ.get("BATON_TEST_REDIS_URL", "")
POSTGRES = os.environ.get("BATON_TEST_POSTGRES_URL", "")


async def _woken_across(tmp_path: Path, settings: dict[str, str | None],
                        reads_every: float) -> float:
    first = await start_api(tmp_path, **settings)
    second = await start_api(tmp_path, **settings)
    try:
        first.surface.service.watch.interval = reads_every
        token = await first.token()
        bob = await first.token("bobs-agent", owner="@bob", scopes=("items:decide",))
        created = await first.call("POST", "/api/v1/items", token, json={
            "kind": "approval", "title": "Roll out", "approvers": ["@bob"]})
        assert created[0] == 201, created
        waiting = asyncio.create_task(first.call("GET", "/api/v1/items/1?wait=60", token))
        await asyncio.sleep(0.5)
        started = time.monotonic()
        status, body, _ = await second.call("POST", "/api/v1/items/1/approve", bob, json={})
        assert status == 200, body
        status, item, _ = await waiting
        assert status == 200 and item["outcome"] == "approved", item
        return time.monotonic() - started
    finally:
        await stop_api(second)
        await stop_api(first)


async def test_sqlite_replicas_wake_by_reading(tmp_path: Path) -> None:
    took = await _woken_across(tmp_path, {}, reads_every=0.25)
    assert took < 5, took


@pytest.mark.skipif(not (REDIS and POSTGRES), reason="BATON_TEST_REDIS_URL and "
                    "BATON_TEST_POSTGRES_URL are not set (make test sets them)")
async def test_redis_wakes_other_replicas_at_once(tmp_path: Path) -> None:
    async with scratch_postgres(POSTGRES) as url:
        took = await _woken_across(tmp_path, {"database_url": url, "redis_url": REDIS},
                                   reads_every=30)
    assert took < 10, took  # the reads would have taken 30 s: pub/sub woke it
