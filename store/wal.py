"""SQLite's write-ahead log copied back into the database file on a thread, not in a commit.

By default the commit that takes the log past 1,000 pages copies it back itself and syncs the
file: measured here, ~12 ms every few dozen of Baton's transactions (each writes ~20 pages:
the item, its indexes, the event, the outbox), and the event loop waits for all of it. Units of
work therefore turn that off (`wal_autocheckpoint=0`) and count their commits; every `every`
commits a PASSIVE checkpoint runs on a worker thread, over its own connection. PASSIVE never
waits for readers or writers, and sqlite3 releases the GIL while it does the I/O.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

log = logging.getLogger(__name__)


class WalCheckpointer:
    def __init__(self, path: str, every: int = 40) -> None:
        self._path = path
        self._every = every
        self._since = 0
        self._running: asyncio.Future[None] | None = None
        self._connection: sqlite3.Connection | None = None
        self._closed = False

    def committed(self) -> None:
        """One more transaction in the log; start a checkpoint when enough have gathered."""
        self._since += 1
        idle = self._running is None or self._running.done()
        if not self._closed and idle and self._since >= self._every:
            self._since = 0
            self._running = asyncio.ensure_future(asyncio.to_thread(self._checkpoint))

    def _checkpoint(self) -> None:
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(self._path, isolation_level=None,
                                                   check_same_thread=False)
            self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # the next one will copy what this one did not
            log.warning("SQLite checkpoint failed: %s", exc)

    async def close(self) -> None:
        """Wait for a checkpoint under way, then copy back whatever is left."""
        self._closed = True
        if self._running is not None:
            await self._running
        await asyncio.to_thread(self._checkpoint)
        if self._connection is not None:
            self._connection.close()
            self._connection = None
