"""SQLite's write-ahead log copied back into the database file by a thread of its own.

By default the commit that takes the log past 1,000 pages copies it back itself and syncs the
file: measured here, 18-50 ms every few dozen of Baton's transactions (each writes ~20 pages:
the item, its indexes, the event, the outbox), on the writer's thread, where every command
waits behind it (a create's commit took 0.9-1.3 ms on average that way, 0.4-0.6 ms without).
Units of work therefore turn that off (`wal_autocheckpoint=0`) and this counts their commits;
every `every` commits a PASSIVE checkpoint runs on its own thread. PASSIVE never waits for
readers or writers, and sqlite3 releases the GIL while it does the I/O.
"""

from __future__ import annotations

import concurrent.futures
import logging
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from store.loop_threads import LoopThreads

log = logging.getLogger(__name__)

PRAGMA = "PRAGMA wal_autocheckpoint=0"  # for the connections whose commits are counted


class Checkpoints:
    def __init__(self, engine: Engine, every: int = 40) -> None:
        self._engine = engine
        self._every = every
        self._since = 0
        self._written = False  # anything committed since this was made
        self._thread = LoopThreads("baton-sqlite-checkpoint")
        self._running: concurrent.futures.Future[None] | None = None
        event.listen(engine, "commit", self._committed)

    def _committed(self, _: Connection) -> None:
        """One more transaction in the log; start a checkpoint when enough have gathered."""
        self._since += 1
        self._written = True
        idle = self._running is None or self._running.done()
        if idle and self._since >= self._every:
            self._since = 0
            self._running = self._thread.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        connection = self._engine.raw_connection()  # autocommit: no BEGIN of ours
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cursor.fetchall()
            cursor.close()
        except sqlite3.Error as exc:  # the next one will copy what this one did not
            log.warning("SQLite checkpoint failed: %s", exc)
        finally:
            connection.close()

    async def close(self) -> None:
        """Copy back whatever is left, once the checkpoint under way is done."""
        event.remove(self._engine, "commit", self._committed)
        if self._written:
            await self._thread.call(self._checkpoint)
        await self._thread.close()
