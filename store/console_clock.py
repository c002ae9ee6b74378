"""The console's clock offset (`:time`), kept in the database beside what it stamped: a
console started again on the same database goes on at the time it had reached, so nothing it
recorded lies in its future."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from store.tables import ConsoleClockRow
from store.uow import Database


async def console_offset(database: Database, workspace: str) -> timedelta:
    """How far the console's clock runs ahead of real time (zero if it was never moved)."""

    def read(conn: Connection) -> int | None:
        return conn.execute(select(ConsoleClockRow.ahead_seconds)
                            .where(ConsoleClockRow.workspace == workspace)).scalar()

    seconds = await database.read_sync(read)
    return timedelta(seconds=seconds or 0)


async def keep_console_offset(database: Database, workspace: str, offset: timedelta) -> None:
    """Record the console's offset (whole seconds), replacing the one kept before."""

    def write(conn: Connection) -> None:
        conn.execute(delete(ConsoleClockRow).where(ConsoleClockRow.workspace == workspace))
        conn.execute(insert(ConsoleClockRow).values(workspace=workspace,
                                                    ahead_seconds=int(offset.total_seconds())))

    await database.write_sync(write)
