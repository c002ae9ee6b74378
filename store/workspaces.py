"""The per-workspace row: item number counter and audit chain head, locked while in use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update

from bot.events import GENESIS
from store.session import SqlSession
from store.sql import dialect_of, insert_ignoring
from store.tables import Base, WorkspaceRow

_workspaces = Base.metadata.tables[WorkspaceRow.__tablename__]
# Built once, run with bound parameters: every command locks the row and moves it on.
_LOCK = select(_workspaces.c.next_number, _workspaces.c.last_seq, _workspaces.c.last_hash) \
    .where(_workspaces.c.id == bindparam("ws")).with_for_update()
_CREATE = insert_ignoring(_workspaces, ["id"])
_MOVE = update(_workspaces).where(_workspaces.c.id == bindparam("ws")).values(
    next_number=bindparam("number"), last_seq=bindparam("seq"), last_hash=bindparam("hash_"))


@dataclass
class Head:
    next_number: int
    last_seq: int
    last_hash: str
    moved: bool = False  # changed here since the row was last written


class WorkspaceHeads:
    """The workspace rows one transaction has locked, read once and kept current in memory as
    it moves them on, then written once (`flush`, before the commit): a create allocates a
    number and appends an event, a sweep appends hundreds, and writing the row for each would
    be a statement per step for a value this transaction alone can change."""

    def __init__(self, session: SqlSession) -> None:
        self._session = session
        self._locked: dict[str, Head] = {}

    async def lock(self, workspace: str) -> Head:
        """The workspace's row, locked until the transaction ends and created on first use.
        The row lock serializes number allocation and event appends per workspace on
        PostgreSQL; on SQLite the write transaction already does."""
        head = self._locked.get(workspace)
        if head is None:
            row = (await self._session.execute(_LOCK, {"ws": workspace})).one_or_none()
            if row is None:
                # Two first writers may race here: the loser's insert does nothing, then
                # both lock.
                await self._session.execute(_CREATE[dialect_of(self._session)], {
                    "id": workspace, "next_number": 1, "last_seq": 0, "last_hash": GENESIS})
                row = (await self._session.execute(_LOCK, {"ws": workspace})).one()
            head = Head(row.next_number, row.last_seq, row.last_hash)
            self._locked[workspace] = head
        return head

    def known(self, workspace: str) -> Head | None:
        """The row as this transaction has it, if it has locked it."""
        return self._locked.get(workspace)

    def forget(self) -> None:
        self._locked.clear()

    async def take_number(self, workspace: str) -> int:
        head = await self.lock(workspace)
        number = head.next_number
        head.next_number, head.moved = number + 1, True
        return number

    async def advance_chain(self, workspace: str, seq: int, hash_: str) -> None:
        head = await self.lock(workspace)
        head.last_seq, head.last_hash, head.moved = seq, hash_, True

    async def flush(self) -> None:
        """Write the rows moved on since the last flush."""
        moved = [(workspace, head) for workspace, head in self._locked.items() if head.moved]
        if moved:
            await self._session.execute(_MOVE, [
                {"ws": workspace, "number": head.next_number, "seq": head.last_seq,
                 "hash_": head.last_hash} for workspace, head in moved])
            for _, head in moved:
                head.moved = False
