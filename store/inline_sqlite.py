"""SQLite for the async engine without a thread hop per statement.

aiosqlite runs every call on a worker thread and hands the result back through the event loop.
On a busy server each hop waits behind whatever else the loop has queued, and Baton holds
SQLite's single write lock across all the statements of a unit of work, so the lock is held for
the sum of those waits: measured, a create took ~17 ms under 16 concurrent requests, of which
SQLite itself used under one. Here the calls run at once on the loop's thread instead. A
statement is tens of microseconds, a unit of work about a millisecond, and the transaction no
longer yields to the loop between its statements.

The price: while a statement runs, the loop waits. Units of work are short, and the long reads
(a weekly digest of 100,000 items is ~0.4 s) are rare and scheduled. Writers in this process
are serialised by `Database`'s lock, so `BEGIN IMMEDIATE` only ever waits for another process
(a `baton outbox retry`, for one), within SQLite's busy timeout.

SQLAlchemy's aiosqlite dialect drives the connection, unchanged; what changes is the queue
aiosqlite (and that dialect) put each call on: it runs the call instead of sending it to a
thread. That queue is a private part of aiosqlite, hence the pinned minor version and the test
in tests/integration/test_store_uow.py that a transaction never yields to the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

Call = tuple["asyncio.Future[Any] | None", Callable[[], Any]]


class _RunAtOnce:
    """Stands in for aiosqlite's queue to its worker thread: each call runs when queued."""

    def put_nowait(self, call: Call) -> None:
        future, function = call
        try:
            result = function()
        except Exception as exc:
            if future is None:
                raise
            future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread, never yielding."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no worker thread to start


def create_inline_engine(url: URL, **options: Any) -> AsyncEngine:
    """An async engine over `sqlite+aiosqlite` URLs whose connections run inline."""
    engine: AsyncEngine

    async def connect() -> aiosqlite.Connection:
        args, kwargs = engine.sync_engine.dialect.create_connect_args(engine.url)
        return await InlineConnection(partial(sqlite3.connect, *args, **kwargs))

    engine = create_async_engine(url, async_creator=connect, **options)
    return engine
