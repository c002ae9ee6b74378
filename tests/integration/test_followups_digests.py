"""Digest figures by SQL aggregates, checked against figures worked out by hand (and against the
item-by-item reference); scheduled digests posted once by several replicas; the chart drawn
and attached when the weekly digest is delivered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from bot.delivery import Transport
from bot.figures import Spread, WeeklyFigures
from bot.items import Item, Kind, State
from bot.locks import MemoryLocks
from bot.messages import Audience, Outgoing
from bot.people import DigestTimes
from bot.ports import Claim
from bot.service import Baton
from jobs.charts import render_weekly_chart
from jobs.outbox import OutboxWorker
from jobs.scheduler import Jobs, digest_jobs
from store.outbox import SqlOutbox
from store.queue import SqlOutboxQueue
from store.uow import Database
from tests.fakes import FakeClock, FakeDirectory, FakeStatistics, World
from tests.integration.conftest import MakeItem

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)  # Monday 09:00: the week is Nov 16-23
H = timedelta(hours=1)


def at(day: int, hour: int = 9, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def team_items(make: MakeItem) -> list[Item]:
    """Nine items whose figures are worked out by hand in `test_weekly_figures…`."""
    def item(n: int, kind: Kind, created: datetime, **f: object) -> Item:
        return make("w", n, kind=kind, created_at=created, updated_at=created, **f)

    return [
        item(1, Kind.HANDOFF, at(17), owner="bob", acked_at=at(17, 10), closed_at=at(18),
             state=State.DONE, ack_deadline=at(17, 13), resolve_deadline=at(20)),
        item(2, Kind.HANDOFF, at(17, 12), owner="bob", acked_at=at(17, 15),
             closed_at=at(21, 12), state=State.DONE, ack_deadline=at(17, 16),
             resolve_deadline=at(20, 12)),
        item(3, Kind.EXCEPTION, at(18), owner="carol", acked_at=at(18, 17),
             state=State.ACTIVE, ack_deadline=at(18, 13)),
        item(4, Kind.APPROVAL, at(19), approvers=("dave",), ack_deadline=at(19, 13)),
        item(5, Kind.EXCEPTION, at(10), owner="carol", acked_at=at(10, 11), closed_at=at(12),
             state=State.DONE, ack_deadline=at(10, 13), resolve_deadline=at(13)),
        item(6, Kind.HANDOFF, at(11), owner="bob", acked_at=at(16, 12), state=State.ACTIVE,
             ack_deadline=at(11, 13)),
        item(7, Kind.HANDOFF, at(1, 9, 10), owner="dave"),
        item(8, Kind.HANDOFF, at(12), owner="erin", closed_at=at(17),
             state=State.CANCELLED),
        item(9, Kind.HANDOFF, at(18), owner="bob", team="eval"),
    ]


CLAIMS = [Claim("w", 3, "ack", "1", "escalate", "ops", at(18, 13)),
          Claim("w", 3, "ack", "2", "escalate", "ops", at(18, 14)),
          Claim("w", 6, "resolve", "1", "escalate", "ops", at(20)),
          Claim("w", 6, "ack", "1", "escalate", "ops", at(11, 13)),
          Claim("w", 9, "ack", "1", "escalate", "eval", at(19)),
          Claim("w", 4, "ack", "warn", "remind", "ops", at(19, 12))]


def check_by_hand(figures: WeeklyFigures) -> None:
    this, last = figures.this, figures.last
    assert (this.start, this.end, last.start) == (at(16), NOW, at(9))
    assert this.created == {Kind.HANDOFF: 2, Kind.EXCEPTION: 1, Kind.APPROVAL: 1}
    assert last.created == {Kind.EXCEPTION: 1, Kind.HANDOFF: 2}
    assert this.done == {Kind.HANDOFF: 2} and last.done == {Kind.EXCEPTION: 1}
    # Acknowledged this week after 1h, 3h, 8h and 123h: median 5.5h, p90 8h + 0.7·115h.
    assert this.ack == Spread(4, 5.5 * H, 88.5 * H)
    assert last.ack == Spread(1, 2 * H, 2 * H)
    # Done after 24h and 96h: median 60h, p90 24h + 0.9·72h.
    assert this.resolve == Spread(2, 60 * H, 88.8 * H)
    assert last.resolve == Spread(1, 48 * H, 48 * H)
    assert (this.ack_met, this.ack_total, last.ack_met, last.ack_total) == (2, 4, 1, 1)
    assert (this.resolve_met, this.resolve_total) == (1, 2)
    assert (last.resolve_met, last.resolve_total) == (1, 1)
    assert (this.escalations, last.escalations) == (3, 1)
    assert this.backlog == {"3–7d": 2, "1–4w": 1, "over 4w": 1}
    assert last.backlog == {"3–7d": 2, "over 4w": 1}  # #8 was still open then
    assert this.load == {"bob": 1, "carol": 1, "": 1, "dave": 1}
    assert last.load == {"bob": 1, "dave": 1, "erin": 1}
    assert [i.number for i in figures.oldest] == [7, 6, 3, 4]
    assert [p.created for p in figures.trend] == [1, 0, 0, 0, 0, 0, 3, 4]
    assert [p.done for p in figures.trend] == [0, 0, 0, 0, 0, 0, 1, 2]
    assert [p.backlog for p in figures.trend] == [1, 1, 1, 1, 1, 1, 3, 4]
    assert figures.trend[-1].end == NOW


async def test_weekly_figures_match_the_hand_computed_ones(db: Database,
                                                           make_item: MakeItem) -> None:
    items = team_items(make_item)
    async with db.unit_of_work() as uow:
        for item in items:
            await uow.items.add(item)
        for claim in CLAIMS:
            await uow.followups.claim(claim)
        await uow.commit()
    async with db.unit_of_work() as uow:
        figures = await uow.stats.weekly("w", "ops", NOW)
    check_by_hand(figures)

    world = World(items={(i.workspace, i.number): i for i in items}, followups=list(CLAIMS))
    reference = await FakeStatistics(world).weekly("w", "ops", NOW)
    check_by_hand(reference)
    assert replace(figures, oldest=()) == replace(reference, oldest=())


async def test_daily_sections_count_everything_and_list_the_first(
        db: Database, make_item: MakeItem) -> None:
    async with db.unit_of_work() as uow:
        for n in range(1, 24):
            await uow.items.add(make_item("w", n, state=State.BLOCKED, blocked_reason=f"r{n}",
                                          updated_at=NOW - timedelta(hours=n)))
        await uow.items.add(make_item("w", 30, kind=Kind.EXCEPTION, state=State.ACTIVE,
                                      resolve_deadline=NOW - H))
        await uow.items.add(make_item("w", 31, due_at=NOW + 2 * H))
        await uow.items.add(make_item("w", 32, due_at=NOW + 30 * H))
        await uow.items.add(make_item("w", 33, kind=Kind.APPROVAL, approvers=("bob",)))
        await uow.items.add(make_item("w", 34, state=State.DONE, resolve_deadline=NOW - H))
        await uow.commit()
    async with db.unit_of_work() as uow:
        daily = await uow.stats.daily("w", "ops", NOW, NOW + 15 * H, 5)
    assert daily.blocked.total == 23
    assert [i.number for i in daily.blocked.items] == [23, 22, 21, 20, 19]  # longest first
    assert [i.number for i in daily.overdue.items] == [30]
    assert [i.number for i in daily.unassigned.items] == [30]
    assert [i.number for i in daily.approvals.items] == [33]
    assert [i.number for i in daily.due_today.items] == [31]


def png_header(path: Path) -> bytes:
    return path.read_bytes()[:8] if path.is_file() else b""


class Collect(Transport):
    surface = "console"

    def __init__(self) -> None:
        self.messages: list[Outgoing] = []

    async def deliver(self, message: Outgoing) -> None:
        self.messages.append(message)


def test_digest_schedules_are_cron_triggers_in_each_teams_zone() -> None:
    jobs = digest_jobs("w", [("eval", DigestTimes("America/New_York", time(9), 0, time(8, 30))),
                             ("ops", DigestTimes("Europe/London"))])
    assert [(j.team, j.weekly) for j in jobs] == [("eval", False), ("eval", True)]
    daily, weekly = (j.trigger for j in jobs)
    # Across the spring change the 09:00 digest stays at 09:00 New York time.
    assert daily.get_next_fire_time(None, datetime(2026, 3, 7, 15, tzinfo=UTC)) == \
        datetime(2026, 3, 8, 13, tzinfo=UTC)
    assert daily.get_next_fire_time(None, datetime(2026, 3, 6, 15, tzinfo=UTC)) == \
        datetime(2026, 3, 7, 14, tzinfo=UTC)
    assert weekly.get_next_fire_time(None, NOW) == datetime(2026, 11, 23, 13, 30, tzinfo=UTC)


async def test_three_replicas_post_a_scheduled_digest_once_with_its_chart(
        db: Database, make_item: MakeItem, tmp_path: Path) -> None:
    async with db.unit_of_work() as uow:
        for item in team_items(make_item):
            await uow.items.add(replace(item, team="release") if item.team == "ops" else item)
        await uow.commit()
    directory = FakeDirectory()
    clock = FakeClock(NOW)

    async def workspaces() -> list[str]:
        return ["w"]

    [weekly] = [j for j in digest_jobs("w", [("release", DigestTimes(
        "Europe/London", None, 0, time(9)))])]
    databases = [Database(db.url) for _ in range(3)]  # three processes, in-memory locks each
    try:
        replicas = [Jobs(Baton(d.unit_of_work, clock, directory), clock, MemoryLocks(clock),
                         workspaces, [weekly]) for d in databases]
        texts = [await replica.digest(weekly) for replica in replicas]
    finally:
        for database in databases:
            await database.dispose()
    assert [bool(t) for t in texts] == [True, False, False]
    assert str(texts[0]) == "Posted the weekly digest to #release's channel."

    transport = Collect()
    worker = OutboxWorker(SqlOutboxQueue(db), [transport], clock, data_dir=tmp_path,
                          render=render_weekly_chart)
    await worker.drain()
    [posted] = [m for m in transport.messages if m.audience is Audience.TEAM]
    assert str(posted.text).startswith("#release weekly digest, Mon 16 Nov to Mon 23 Nov 09:00")
    assert "Time to acknowledge: median 5h 30m (▲3h 30m), p90 3d 16h (▲3d 14h)" in \
        str(posted.text)
    assert posted.attachment is not None and posted.attachment.endswith(".png")
    assert png_header(Path(posted.attachment)) == b"\x89PNG\r\n\x1a\n"
    assert Path(posted.attachment).parent == tmp_path / "charts"
    async with db.unit_of_work() as uow:
        stored = await SqlOutbox(uow.session).rows(None, 10)
    assert [r.state for r in stored] == ["sent"]
