"""The per-workspace row: item number counter and audit chain head, locked while in use."""

from __future__ import annotations

from sqlalchemy import select

from bot.events import GENESIS
from store.session import SqlSession
from store.sql import upsert_insert
from store.tables import WorkspaceRow

_workspaces = WorkspaceRow.__table__


async def lock_workspace(session: SqlSession, workspace: str) -> tuple[int, int, str]:
    """Lock the workspace's row until the transaction ends, creating it on first use.

    Returns (next_number, last_seq, last_hash). The row lock serializes number allocation and
    event appends per workspace on PostgreSQL; on SQLite the write transaction already does.
    """
    locked = select(_workspaces.c.next_number, _workspaces.c.last_seq,
                    _workspaces.c.last_hash).where(_workspaces.c.id == workspace).with_for_update()
    row = (await session.execute(locked)).one_or_none()
    if row is None:
        # Two first writers may race here: the loser's insert does nothing, then both lock.
        await session.execute(upsert_insert(session, WorkspaceRow).values(
            id=workspace, next_number=1, last_seq=0, last_hash=GENESIS,
        ).on_conflict_do_nothing(index_elements=["id"]))
        row = (await session.execute(locked)).one()
    return row.next_number, row.last_seq, row.last_hash
