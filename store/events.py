"""The audit trail: events sealed onto their workspace's hash chain."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import Row, insert, select

from bot.events import GENESIS, Event, EventDraft, seal
from bot.ports import EventLog
from store.session import SqlSession
from store.sql import plain_json
from store.tables import Base, EventRow, WorkspaceRow
from store.workspaces import WorkspaceHeads

_events = EventRow.__table__
_INSERT = insert(Base.metadata.tables[EventRow.__tablename__])  # every change


class SqlEventLog(EventLog):
    """Appended events are sealed at once (the chain's head is this transaction's, in
    memory) and inserted together at `flush`, before the commit or a read of the trail."""

    def __init__(self, session: SqlSession, heads: WorkspaceHeads | None = None) -> None:
        self._session = session
        self._heads = heads or WorkspaceHeads(session)
        self._queued: list[dict[str, Any]] = []

    async def append(self, draft: EventDraft) -> Event:
        head = await self._heads.lock(draft.workspace)
        event = seal(_as_stored(draft), head.last_seq + 1, head.last_hash)
        self._queued.append({
            "workspace": event.workspace, "seq": event.seq, "item": event.item,
            "actor": event.actor, "action": event.action, "at": event.at,
            "surface": event.surface, "before": event.before, "after": event.after,
            "prev_hash": event.prev_hash, "hash": event.hash})
        await self._heads.advance_chain(event.workspace, event.seq, event.hash)
        return event

    async def flush(self) -> None:
        """Insert the events appended since the last flush, in one statement."""
        if self._queued:
            rows, self._queued = self._queued, []
            await self._session.execute(_INSERT, rows)

    def forget(self) -> None:
        self._queued.clear()

    async def for_item(self, workspace: str, number: int) -> list[Event]:
        await self.flush()
        rows = await self._session.execute(select(_events).where(
            EventRow.workspace == workspace, EventRow.item == number).order_by(EventRow.seq))
        return [as_event(r) for r in rows]

    async def all(self, workspace: str) -> list[Event]:
        await self.flush()
        rows = await self._session.execute(
            select(_events).where(EventRow.workspace == workspace).order_by(EventRow.seq))
        return [as_event(r) for r in rows]

    async def head(self, workspace: str) -> tuple[int, str]:
        known = self._heads.known(workspace)
        if known is not None:
            return known.last_seq, known.last_hash
        row = (await self._session.execute(
            select(WorkspaceRow.last_seq, WorkspaceRow.last_hash)
            .where(WorkspaceRow.id == workspace))).one_or_none()
        return (row.last_seq, row.last_hash) if row else (0, GENESIS)

    async def workspaces(self) -> list[str]:
        return list(await self._session.scalars(select(WorkspaceRow.id).order_by(WorkspaceRow.id)))


def _as_stored(draft: EventDraft) -> EventDraft:
    """The draft exactly as it will read back, so the seal still verifies after a reload."""
    return EventDraft(draft.workspace, draft.item, draft.actor, draft.action,
                      draft.at.astimezone(UTC), draft.surface, plain_json(draft.before),
                      plain_json(draft.after))


def as_event(row: Row[Any]) -> Event:
    """An event as read from its row."""
    return Event(row.workspace, row.seq, row.item, row.actor, row.action, row.at, row.surface,
                 row.before, row.after, row.prev_hash, row.hash)
