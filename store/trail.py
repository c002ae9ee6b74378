"""The audit trail as stored, read for checking: every workspace that has events or a head,
and each event row even when it no longer reads back (mangled JSON or time, a wrong type).

The event log reads events for the core and trusts what it wrote. This reads what is there
now, as `baton audit verify` and the checkpoints need: a row SQLAlchemy cannot read back is
reported by its place, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from bot.events import Event, Stored, Unreadable
from store.session import SqlSession
from store.tables import EventRow, WorkspaceRow

_events = EventRow.__table__
_BATCH = 500
#: What reading a mangled row back raises: JSON or time that does not parse, bytes that are
#: not text (ValueError and its kind), a value of another type (TypeError).
_UNREADABLE = (ValueError, TypeError)
_TEXT = ("workspace", "actor", "action", "surface", "prev_hash", "hash")


class StoredTrail:
    """Reads the events table and the workspace heads in one session."""

    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def workspaces(self) -> list[str]:
        """Every workspace that has an event or a head row, read from both tables: deleting
        the workspace rows does not hide the events."""
        from_events = await self._session.scalars(select(EventRow.workspace).distinct())
        from_heads = await self._session.scalars(select(WorkspaceRow.id))
        return sorted({*from_events, *from_heads})

    async def head(self, workspace: str) -> tuple[int, str] | None:
        """The head the workspace row records; None when there is no row."""
        row = (await self._session.execute(
            select(WorkspaceRow.last_seq, WorkspaceRow.last_hash)
            .where(WorkspaceRow.id == workspace))).one_or_none()
        return (row.last_seq, row.last_hash) if row else None

    async def events(self, workspace: str, *, since: int = 0) -> list[Stored]:
        """The workspace's events from position `since` on, in stored order; a row that does
        not read back is an Unreadable in its place."""
        ids = list(await self._session.scalars(
            select(EventRow.id).where(EventRow.workspace == workspace, EventRow.seq >= since)
            .order_by(EventRow.seq, EventRow.id)))
        found: list[Stored] = []
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start:start + _BATCH]
            try:
                rows = (await self._session.execute(
                    select(_events).where(_events.c.id.in_(chunk))
                    .order_by(_events.c.seq, _events.c.id))).all()
            except _UNREADABLE:  # one bad row spoils the batch: read this batch row by row
                found += [await self._one(row_id) for row_id in chunk]
            else:
                found += [_stored(row) for row in rows]
        return found

    async def _one(self, row_id: int) -> Stored:
        try:
            row = (await self._session.execute(
                select(_events).where(_events.c.id == row_id))).one()
        except _UNREADABLE:
            return await self._unreadable(row_id)
        return _stored(row)

    async def _unreadable(self, row_id: int) -> Unreadable:
        """What still reads of a row that does not: its place and hashes, and which of its
        columns fail."""
        bad, why = [], ""
        for column in _events.c:
            try:
                (await self._session.execute(select(column).where(_events.c.id == row_id))).one()
            except _UNREADABLE as exc:
                bad.append(column.name)
                why = why or f" ({str(exc)[:80]})"
        place = (await self._session.execute(
            select(_events.c.seq, _events.c.prev_hash, _events.c.hash)
            .where(_events.c.id == row_id))).one()
        return Unreadable(_int(place.seq), row_id, _str(place.prev_hash), _str(place.hash),
                          f"its {_listed(bad) or 'row'} cannot be read back{why}")


def _stored(row: Row[Any]) -> Stored:
    """The row as an Event, or an Unreadable naming the fields of the wrong type (SQLite
    keeps whatever is written into any column)."""
    wrong = [name for name in _TEXT if not isinstance(getattr(row, name), str)]
    if _int(row.seq) is None:
        wrong.append("seq")
    if row.item is not None and _int(row.item) is None:
        wrong.append("item")
    if not isinstance(row.at, datetime):
        wrong.append("at")
    wrong += [name for name in ("before", "after") if not isinstance(getattr(row, name), dict)]
    if wrong:
        return Unreadable(_int(row.seq), row.id, _str(row.prev_hash), _str(row.hash),
                          f"its {_listed(wrong)} {'is' if len(wrong) == 1 else 'are'} not of "
                          "the stored type")
    return Event(row.workspace, row.seq, row.item, row.actor, row.action, row.at, row.surface,
                 row.before, row.after, row.prev_hash, row.hash)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
