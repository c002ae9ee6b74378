"""Benchmark: one follow-up sweep over N open items of which 1,000 are due.

    .venv/bin/python bench/sweep.py                      # SQLite, 10,000 and 1,000,000 open
    .venv/bin/python bench/sweep.py --sizes 10000 --url postgresql://baton@127.0.0.1/bench

Rows are generated with bulk SQL inserts (not through the core), then the planner's statistics
are refreshed as Baton's own shutdown does (ANALYZE / PRAGMA optimize). Each run has its own
1,000 items coming due two minutes apart; two figures per run:

  read   the sweep's query: the due items through ix_items_followup (what grows with N if the
         index is not used)
  tick   Baton.tick end to end: those 1,000 items reminded (claim, item saved, trail event,
         card refresh, thread line and DM queued), in batches of 200 per transaction

Medians of --runs runs are printed, and the ratio of the largest size to the smallest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.config import ConfigDirectory, parse_config  # noqa: E402
from bot.items import Item  # noqa: E402
from bot.ports import UnitOfWork  # noqa: E402
from bot.service import Baton  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.tables import ItemRow  # noqa: E402
from store.uow import Database  # noqa: E402

BASE = datetime(2026, 11, 23, 9, tzinfo=UTC)
SPACING = timedelta(minutes=2)
H = timedelta(hours=1)
CONFIG = {
    "workspace": "bench",
    "teams": {"ops": {"lead": "lena", "members": ["bob"]}},
    "sla_policies": {"flat": {"business_hours": False, "warn_at": 0.75, "targets": {
        "default": {"default": {"ack": "4h", "resolve": "30d"}}}}},
}


class Clock:
    def __init__(self) -> None:
        self.current = BASE

    def now(self) -> datetime:
        return self.current


def sqlite_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


CHUNK = 50_000


def rows(total: int, due: int, runs: int, sqlite: bool) -> Iterator[list[dict[str, Any]]]:
    """`total` open items in chunks: `due` per run coming due at BASE + run·SPACING (their
    reminder), the rest with their reminder days ahead."""
    rnd = random.Random(7)
    when = sqlite_time if sqlite else (lambda at: at)
    out: list[dict[str, Any]] = []
    for n in range(1, total + 1):
        run = (n - 1) // due if n <= due * runs else None
        if run is not None:
            warn = BASE + run * SPACING
        else:
            warn = BASE + timedelta(days=1 + rnd.random() * 29)
        created = warn - 3 * H
        out.append({
            "workspace": "bench", "number": n, "kind": "handoff", "title": f"Item {n}",
            "details": "", "team": "ops", "requester": "alice", "owner": "bob",
            "policy": "any", "priority": "normal", "state": "open", "outcome": None,
            "due_at": None, "ack_deadline": when(warn + H),
            "resolve_deadline": when(created + 30 * 24 * H), "acked_at": None,
            "escalation_level": 0, "blocked_reason": "", "blocked_on": None,
            "resume_state": None, "snoozed_until": None, "blocked_since": None,
            "closed_at": None, "next_followup_at": when(warn), "ack_stage": 0,
            "resolve_stage": 0, "stalls": 0, "watchers": "[]" if sqlite else [],
            "source_surface": "bench", "source_channel": "", "source_message": "",
            "source_permalink": "", "parent": None, "created_at": when(created),
            "updated_at": when(created), "version": 1,
        })
        if len(out) == CHUNK:
            yield out
            out = []
    if out:
        yield out


async def load(url: str, total: int, due: int, runs: int) -> float:
    await upgrade(url)
    started = time.perf_counter()
    async with Database(url) as db:
        table = ItemRow.__table__
        async with db.engine.begin() as conn:
            for chunk in rows(total, due, runs, db.is_sqlite):
                if db.is_sqlite:  # the driver's executemany: no per-row Python in between
                    raw = await conn.get_raw_connection()
                    driver = raw.driver_connection
                    assert driver is not None
                    columns = list(chunk[0])
                    await driver.executemany(
                        f"INSERT INTO items ({', '.join(columns)}) VALUES "
                        f"({', '.join('?' for _ in columns)})",
                        [tuple(r[c] for c in columns) for r in chunk])
                else:
                    for start in range(0, len(chunk), 5_000):
                        await conn.execute(insert(table), chunk[start:start + 5_000])
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


@dataclass
class Result:
    size: int
    read: list[float]
    tick: list[float]
    plan: str


async def measure(url: str, size: int, due: int, runs: int) -> Result:
    directory = ConfigDirectory(parse_config(CONFIG))
    clock = Clock()
    reads, ticks = [], []
    async with Database(url) as db:
        baton = Baton(db.unit_of_work, clock, directory)
        plan = ""
        if db.is_sqlite:
            async with db.engine.connect() as conn:
                found = (await conn.execute(text(
                    "EXPLAIN QUERY PLAN SELECT * FROM items WHERE workspace = 'bench' AND "
                    "next_followup_at <= :now ORDER BY next_followup_at LIMIT 1000"),
                    {"now": sqlite_time(BASE)})).all()
                plan = "; ".join(str(r[-1]) for r in found)
        for run in range(runs):
            clock.current = BASE + run * SPACING
            started = time.perf_counter()
            got = await db.read(partial(due_items, now=clock.current, limit=due))
            reads.append(time.perf_counter() - started)
            assert len(got) == due, (len(got), due)
            started = time.perf_counter()
            lines = await baton.tick("bench", clock.current)
            ticks.append(time.perf_counter() - started)
            assert len(lines) == due, len(lines)
    return Result(size, reads, ticks, plan)


async def due_items(uow: UnitOfWork, *, now: datetime, limit: int) -> list[Item]:
    return await uow.items.due_followups("bench", now, limit)


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", help="a PostgreSQL server database (as in postgresql://"
                                      "baton@127.0.0.1/postgres) to create a scratch database "
                                      "from per size; default: a SQLite file per size")
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            async with scratch(args.url, Path(tmp) / f"sweep-{size}.db") as url:
                loaded = await load(url, size, args.due, args.runs)
                result = await measure(url, size, args.due, args.runs)
            results.append(result)
            print(f"{size:>9,} open, {args.due:,} due | load {loaded:6.1f} s | read "
                  f"{ms(result.read)} | tick {ms(result.tick)} "
                  f"({args.due / statistics.median(result.tick):,.0f} items/s)", flush=True)
            if result.plan:
                print(f"          plan: {result.plan}")
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(f"ratio {large.size:,}/{small.size:,}: read "
              f"{statistics.median(large.read) / statistics.median(small.read):.2f}, tick "
              f"{statistics.median(large.tick) / statistics.median(small.tick):.2f}")


@asynccontextmanager
async def scratch(admin: str | None, sqlite_file: Path) -> AsyncIterator[str]:
    """A fresh database: a SQLite file, or a PostgreSQL database created (and dropped) on the
    server `admin` names."""
    if admin is None:
        yield f"sqlite+aiosqlite:///{sqlite_file}"
        await asyncio.to_thread(sqlite_file.unlink, missing_ok=True)
        return
    url = make_url(admin).set(drivername="postgresql+asyncpg")
    name = f"baton_bench_{uuid4().hex[:8]}"
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
