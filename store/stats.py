"""Digest figures by SQL aggregates over indexed ranges: nothing here loads every item.

Each query reads one index range: open items (ix_items_team), or what a team created,
acknowledged or closed recently (ix_items_team_created/_acked/_closed), or the escalation
claims (ix_followups_kind). The backlog at a past instant T is derived instead of scanned:

    open at T = open now − open now created since T + created before T and closed since T

so its cost follows the activity since T, not the team's history. Medians and p90 use
percentile_cont on PostgreSQL and, on SQLite, the one or two middle rows of an ORDER BY with
OFFSET, interpolated the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select

from bot.figures import (
    AGE_BUCKETS,
    DailyFigures,
    Listing,
    Spread,
    TrendPoint,
    Week,
    WeeklyFigures,
)
from bot.items import Kind, State
from bot.ports import Statistics
from store.items import SqlItemRepository
from store.session import SqlSession
from store.sql import dialect_of
from store.tables import FollowupRow, ItemRow

_OPEN = [State.OPEN.value, State.ACTIVE.value, State.BLOCKED.value]
_WEEK = timedelta(days=7)
OLDEST = 5


class SqlStatistics(Statistics):
    def __init__(self, session: SqlSession,
                 written: Callable[[], Awaitable[None]] | None = None) -> None:
        self._session = session
        self._items = SqlItemRepository(session)
        self._written = written  # writes what the transaction holds back, before figures

    async def _flush(self) -> None:
        if self._written is not None:
            await self._written()

    # --- the daily blocker digest ----------------------------------------------------------

    async def daily(self, workspace: str, team: str, now: datetime, day_end: datetime,
                    limit: int) -> DailyFigures:
        await self._flush()
        live = [ItemRow.workspace == workspace, ItemRow.team == team, ItemRow.state.in_(_OPEN)]
        not_blocked = ItemRow.state != State.BLOCKED.value
        return DailyFigures(
            blocked=await self._listing(
                [*live, ItemRow.state == State.BLOCKED.value], limit,
                ItemRow.updated_at, ItemRow.number),
            overdue=await self._listing(
                [*live, not_blocked, or_(ItemRow.due_at <= now, ItemRow.resolve_deadline <= now)],
                limit, ItemRow.number),
            unassigned=await self._listing(
                [*live, ItemRow.kind == Kind.EXCEPTION.value, ItemRow.owner.is_(None)], limit,
                ItemRow.created_at, ItemRow.number),
            approvals=await self._listing(
                [*live, not_blocked, ItemRow.kind == Kind.APPROVAL.value], limit,
                ItemRow.created_at, ItemRow.number),
            due_today=await self._listing(
                [*live, ItemRow.due_at > now, ItemRow.due_at < day_end], limit,
                ItemRow.due_at, ItemRow.number),
        )

    async def _listing(self, where: list[ColumnElement[bool]], limit: int,
                       *order: Any) -> Listing:
        total = await self._scalar(select(func.count()).select_from(ItemRow).where(*where))
        if not total:
            return Listing((), 0)
        items = await self._items._load(
            select(ItemRow.__table__).where(*where).order_by(*order).limit(limit))
        return Listing(tuple(items), total)

    # --- the weekly manager digest ---------------------------------------------------------

    async def weekly(self, workspace: str, team: str, now: datetime,
                     weeks: int = 8) -> WeeklyFigures:
        await self._flush()
        weeks = max(weeks, 2)
        bounds = [now - _WEEK * (weeks - k) for k in range(weeks)]  # bucket k: [b_k, b_k+1)
        ends = [*bounds[1:], now]
        mine = [ItemRow.workspace == workspace, ItemRow.team == team]

        created = await self._by_bucket(ItemRow.created_at, bounds, now, mine, by_kind=True)
        done = await self._by_bucket(ItemRow.closed_at, bounds, now,
                                     [*mine, ItemRow.state == State.DONE.value], by_kind=True)
        open_now = await self._scalar(select(func.count()).select_from(ItemRow).where(
            *mine, ItemRow.state.in_(_OPEN)))
        open_created = await self._by_bucket(ItemRow.created_at, bounds, now,
                                             [*mine, ItemRow.state.in_(_OPEN)])
        closed_cells = await self._closed_cells(bounds, now, mine)

        def backlog_at(k: int) -> int:
            """Open at ends[k] (the end of bucket k)."""
            since = sum(n for (b, _), n in open_created.items() if b > k)
            carried = sum(n for (cb, crb), n in closed_cells.items() if crb <= k < cb)
            return open_now - since + carried

        trend = tuple(
            TrendPoint(ends[k], sum(n for (b, _), n in created.items() if b == k),
                       sum(n for (b, _), n in done.items() if b == k), backlog_at(k))
            for k in range(weeks))

        this_start, last_start = now - _WEEK, now - 2 * _WEEK
        weeks_figures = []
        for bucket, (start, end) in ((weeks - 1, (this_start, now)),
                                     (weeks - 2, (last_start, this_start))):
            weeks_figures.append(Week(
                start=start, end=end,
                created={Kind(kind): n for (b, kind), n in created.items() if b == bucket},
                done={Kind(kind): n for (b, kind), n in done.items() if b == bucket},
                ack=await self._spread(ItemRow.acked_at, start, end, mine),
                resolve=await self._spread(ItemRow.closed_at, start, end,
                                           [*mine, ItemRow.state == State.DONE.value]),
                **await self._attainment(start, end, mine),
                escalations=await self._escalations(workspace, team, start, end),
                backlog=await self._backlog(end, now, mine),
                load=await self._load_per_owner(end, now, mine),
            ))
        oldest = await self._items._load(
            select(ItemRow.__table__).where(*mine, ItemRow.state.in_(_OPEN))
            .order_by(ItemRow.created_at, ItemRow.number).limit(OLDEST))
        return WeeklyFigures(team, weeks_figures[0], weeks_figures[1], tuple(oldest), trend)

    async def _by_bucket(self, column: Any, bounds: list[datetime], now: datetime,
                         where: list[ColumnElement[bool]], *,
                         by_kind: bool = False) -> dict[tuple[int, str], int]:
        """Counts per week bucket of `column` (and per kind), over [bounds[0], now)."""
        bucket = _bucket(column, bounds).label("bucket")
        kind = ItemRow.kind if by_kind else literal("")
        stmt = select(bucket, kind.label("kind"), func.count()).where(
            *where, column >= bounds[0], column < now).group_by(bucket, kind)
        return {(row[0], row[1]): row[2] for row in (await self._session.execute(stmt)).all()}

    async def _closed_cells(self, bounds: list[datetime], now: datetime,
                            where: list[ColumnElement[bool]]) -> dict[tuple[int, int], int]:
        """Items closed since the end of the first bucket: (closed bucket, created bucket) ->
        count, the created bucket -1 for items older than the window."""
        closed = _bucket(ItemRow.closed_at, bounds).label("closed")
        made = _bucket(ItemRow.created_at, bounds).label("made")
        stmt = select(closed, made, func.count()).where(
            *where, ItemRow.closed_at >= bounds[1], ItemRow.closed_at < now,
        ).group_by(closed, made)
        return {(row[0], row[1]): row[2] for row in (await self._session.execute(stmt)).all()}

    async def _spread(self, column: Any, start: datetime, end: datetime,
                      where: list[ColumnElement[bool]]) -> Spread:
        took = _seconds(self._session, column, ItemRow.created_at)
        when = [*where, column >= start, column < end]
        if dialect_of(self._session) == "postgresql":
            row = (await self._session.execute(select(
                func.count(),
                func.percentile_cont(0.5).within_group(took),
                func.percentile_cont(0.9).within_group(took),
            ).where(*when))).one()
            return Spread(row[0], _span(row[1]), _span(row[2]))
        count = await self._scalar(select(func.count()).select_from(ItemRow).where(*when))
        if not count:
            return Spread()
        return Spread(count, _span(await self._sqlite_percentile(took, when, count, 0.5)),
                      _span(await self._sqlite_percentile(took, when, count, 0.9)))

    async def _sqlite_percentile(self, took: ColumnElement[Any],
                                 when: list[ColumnElement[bool]], count: int,
                                 share: float) -> float:
        position = share * (count - 1)
        low = int(position)
        rows = (await self._session.execute(select(took.label("took")).where(*when)
                                            .order_by(took).limit(2).offset(low))).all()
        values = [float(r[0]) for r in rows]
        high = values[1] if len(values) > 1 else values[0]
        return values[0] + (high - values[0]) * (position - low)

    async def _attainment(self, start: datetime, end: datetime,
                          where: list[ColumnElement[bool]]) -> dict[str, int]:
        acked = (await self._session.execute(select(
            func.count(ItemRow.ack_deadline),
            func.count().filter(ItemRow.acked_at <= ItemRow.ack_deadline),
        ).where(*where, ItemRow.acked_at >= start, ItemRow.acked_at < end))).one()
        done = (await self._session.execute(select(
            func.count(ItemRow.resolve_deadline),
            func.count().filter(ItemRow.closed_at <= ItemRow.resolve_deadline),
        ).where(*where, ItemRow.state == State.DONE.value, ItemRow.closed_at >= start,
                ItemRow.closed_at < end))).one()
        return {"ack_total": acked[0], "ack_met": acked[1], "resolve_total": done[0],
                "resolve_met": done[1]}

    async def _escalations(self, workspace: str, team: str, start: datetime,
                           end: datetime) -> int:
        return await self._scalar(select(func.count()).select_from(FollowupRow).where(
            FollowupRow.workspace == workspace, FollowupRow.kind == "escalate",
            FollowupRow.at >= start, FollowupRow.at < end, FollowupRow.team == team))

    def _open_at(self, at: datetime, now: datetime,
                 where: list[ColumnElement[bool]]) -> list[list[ColumnElement[bool]]]:
        """Open at `at`, as conditions each served by one index: open now (and created
        before `at`), or created before `at` and closed since."""
        if at >= now:
            return [[*where, ItemRow.state.in_(_OPEN)]]
        return [[*where, ItemRow.state.in_(_OPEN), ItemRow.created_at < at],
                [*where, ItemRow.closed_at >= at, ItemRow.closed_at < now,
                 ItemRow.created_at < at]]

    async def _backlog(self, at: datetime, now: datetime,
                       where: list[ColumnElement[bool]]) -> dict[str, int]:
        age = case(*[(ItemRow.created_at > at - bound, label)
                     for label, bound in AGE_BUCKETS if bound is not None],
                   else_=AGE_BUCKETS[-1][0]).label("age")
        counts: dict[str, int] = defaultdict(int)
        for when in self._open_at(at, now, where):
            stmt = select(age, func.count()).where(*when).group_by(age)
            for label, n in (await self._session.execute(stmt)).all():
                counts[label] += n
        return {label: counts[label] for label, _ in AGE_BUCKETS if counts.get(label)}

    async def _load_per_owner(self, at: datetime, now: datetime,
                              where: list[ColumnElement[bool]]) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for when in self._open_at(at, now, where):
            stmt = select(ItemRow.owner, func.count()).where(*when).group_by(ItemRow.owner)
            for owner, n in (await self._session.execute(stmt)).all():
                counts[owner or ""] += n
        return dict(counts)

    async def _scalar(self, stmt: Select[Any]) -> int:
        return int((await self._session.execute(stmt)).scalar_one() or 0)


def _bucket(column: Any, bounds: Sequence[datetime]) -> ColumnElement[int]:
    """The index k of the last bound at or before the value; -1 before the first."""
    return case(*[(column >= bounds[k], k) for k in reversed(range(len(bounds)))], else_=-1)


def _seconds(session: SqlSession, end: Any, start: Any) -> ColumnElement[Any]:
    if dialect_of(session) == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _span(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=round(float(seconds), 3))
