"""Benchmark: the weekly manager digest of a team with 100,000 items.

    .venv/bin/python bench/digest.py                      # SQLite
    .venv/bin/python bench/digest.py --url postgresql://baton@127.0.0.1/postgres

Two years of a team's work (100,000 items: created evenly, most acknowledged within hours and
done within days, a few cancelled, ~2,000 still open) and 50,000 items of another team, plus
the escalation claims a year of that would leave, are bulk-inserted (not through the core).
Then, medians of --runs runs:

  figures  Statistics.weekly: every figure of the digest, this week and last, by SQL
  digest   `digest --weekly` through the core: figures, text, trail event, outbox pages
  daily    the daily blocker digest's figures
  chart    drawing the 8-week PNG (done by the outbox worker when the digest is delivered)
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bench.sweep import scratch, sqlite_time  # noqa: E402
from bot.config import ConfigDirectory, parse_config  # noqa: E402
from bot.context import Request  # noqa: E402
from bot.service import Baton  # noqa: E402
from bot.weekly import chart_spec  # noqa: E402
from jobs.charts import render_weekly_chart  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.tables import FollowupRow, ItemRow  # noqa: E402
from store.uow import Database  # noqa: E402

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
H = timedelta(hours=1)
KINDS = ("handoff", "exception", "approval")
OWNERS = [f"person{n}" for n in range(40)]
CONFIG = {"workspace": "bench", "teams": {"ops": {"lead": "lena"}, "other": {"lead": "olga"}}}


def items(team: str, count: int, first: int, rnd: random.Random,
          sqlite: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    when = sqlite_time if sqlite else (lambda at: at)
    span = timedelta(weeks=104)
    rows, claims = [], []
    for n in range(first, first + count):
        created = NOW - span * rnd.random()
        age = NOW - created
        acked = created + timedelta(minutes=rnd.expovariate(1 / 240))
        closed = acked + timedelta(hours=rnd.expovariate(1 / 60))
        still_open = rnd.random() < 0.02 or closed >= NOW
        cancelled = not still_open and rnd.random() < 0.03
        state = "open" if still_open else "cancelled" if cancelled else "done"
        if still_open and acked < NOW:
            state = rnd.choice(["active", "blocked", "active"])
        ack_deadline = created + 4 * H
        resolve_deadline = created + 3 * 24 * H
        rows.append({
            "workspace": "bench", "number": n, "kind": rnd.choice(KINDS),
            "title": f"Item {n}", "details": "", "team": team, "requester": "alice",
            "owner": rnd.choice(OWNERS) if rnd.random() < 0.95 else None, "policy": "any",
            "priority": "normal", "state": state,
            "outcome": None if still_open else "cancelled" if cancelled else "done",
            "due_at": None, "ack_deadline": when(ack_deadline),
            "resolve_deadline": when(resolve_deadline),
            "acked_at": when(acked) if acked < NOW and not cancelled else None,
            "escalation_level": 0, "blocked_reason": "x" if state == "blocked" else "",
            "blocked_on": None, "resume_state": "active" if state == "blocked" else None,
            "snoozed_until": None, "blocked_since": None,
            "closed_at": None if still_open else when(min(closed, NOW - H)),
            "next_followup_at": when(NOW + 24 * H) if still_open else None,
            "ack_stage": 0, "resolve_stage": 0, "stalls": 0,
            "watchers": "[]" if sqlite else [], "source_surface": "bench",
            "source_channel": "", "source_message": "", "source_permalink": "",
            "parent": None, "created_at": when(created), "updated_at": when(created),
            "version": 1,
        })
        if acked > ack_deadline and age < timedelta(weeks=52):
            claims.append({"workspace": "bench", "item": n, "target": "ack", "step": "1",
                           "kind": "escalate", "team": team,
                           "at": when(ack_deadline)})
    return rows, claims


async def bulk(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            columns = list(rows[0])
            sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
                   f"({', '.join('?' for _ in columns)})")
            await driver.executemany(sql, [tuple(r[c] for c in columns) for r in rows])
        else:
            for start in range(0, len(rows), 5_000):
                await conn.execute(insert(table), rows[start:start + 5_000])


async def run(url: str, team_items: int, runs: int, charts: Path) -> None:
    await upgrade(url)
    rnd = random.Random(11)
    started = time.perf_counter()
    async with Database(url) as db:
        mine, claims = items("ops", team_items, 1, rnd, db.is_sqlite)
        others, more = items("other", team_items // 2, team_items + 1, rnd, db.is_sqlite)
        await bulk(db, ItemRow.__table__, mine + others)
        await bulk(db, FollowupRow.__table__, claims + more)
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
        open_now = sum(r["state"] in ("open", "active", "blocked") for r in mine)
        print(f"loaded {len(mine):,} items of #ops ({open_now:,} open) and {len(others):,} "
              f"of #other, {len(claims) + len(more):,} escalation claims in "
              f"{time.perf_counter() - started:.1f} s", flush=True)

        baton = Baton(db.unit_of_work, Clock(), ConfigDirectory(parse_config(CONFIG)))
        figures_t, digest_t, daily_t, chart_t = [], [], [], []
        for n in range(runs):
            started = time.perf_counter()
            figures = await db.read(lambda uow: uow.stats.weekly("bench", "ops", NOW))
            figures_t.append(time.perf_counter() - started)
            started = time.perf_counter()
            reply = await baton.run(Request("bench", "alice"), "digest --team ops --weekly")
            digest_t.append(time.perf_counter() - started)
            assert reply.ok, reply.text
            started = time.perf_counter()
            await db.read(lambda uow: uow.stats.daily("bench", "ops", NOW, NOW + 12 * H, 15))
            daily_t.append(time.perf_counter() - started)
            started = time.perf_counter()
            await asyncio.to_thread(render_weekly_chart, chart_spec(figures, UTC),
                                    charts / f"chart-{n}.png")
            chart_t.append(time.perf_counter() - started)
        print(reply.text)
        for name, values in (("figures (SQL)", figures_t), ("digest --weekly", digest_t),
                             ("daily figures", daily_t), ("chart PNG", chart_t)):
            print(f"{name:>16}: median {statistics.median(values) * 1000:7.1f} ms "
                  f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f}, "
                  f"{len(values)} runs)")


class Clock:
    def now(self) -> datetime:
        return NOW


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--url", help="a PostgreSQL server database to create a scratch "
                                      "database from; default: a SQLite file")
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    with tempfile.TemporaryDirectory() as tmp:
        async with scratch(args.url, Path(tmp) / "digest.db") as url:
            await run(url, args.items, args.runs, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
