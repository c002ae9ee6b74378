"""The sessions the repositories run statements on.

On PostgreSQL that is SQLAlchemy's AsyncSession over asyncpg. On SQLite it is a plain (sync)
SQLAlchemy Connection, always used from the thread that SQLite work runs on (store.uow):
`ThreadSession` when the whole unit of work runs on that thread, so each statement executes
at once (`SavepointSession` when it shares its transaction with others); `HandedSession` when
the unit of work is driven from the event loop, so each statement is handed to that thread
and its result handed back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, TypeVarTuple, overload

from sqlalchemy import CursorResult, Result, ScalarResult
from sqlalchemy.engine import Connection, Engine, NestedTransaction
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

from store.loop_threads import LoopThreads, Turn

_Ts = TypeVarTuple("_Ts")
_T = TypeVar("_T")
_R = TypeVar("_R")


class SqlSession(Protocol):
    """What the repositories use of a session (AsyncSession has it all)."""

    @overload
    async def execute(self, statement: TypedReturnsRows[*_Ts],
                      params: Any = None) -> Result[*_Ts]: ...

    @overload
    async def execute(self, statement: Executable,
                      params: Any = None) -> Result[*tuple[Any, ...]]: ...

    async def execute(self, statement: Executable,
                      params: Any = None) -> Result[*tuple[Any, ...]]: ...

    @overload
    async def scalars(self, statement: TypedReturnsRows[_T],
                      params: Any = None) -> ScalarResult[_T]: ...

    @overload
    async def scalars(self, statement: Executable, params: Any = None) -> ScalarResult[Any]: ...

    async def scalars(self, statement: Executable, params: Any = None) -> ScalarResult[Any]: ...

    def get_bind(self) -> Engine | Connection: ...


class ThreadSession:
    """A Connection behind the AsyncSession methods Baton uses, for code running on the
    thread the connection is used from: no call yields. The repositories send Core statements
    only, so the ORM Session's bookkeeping is left out."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        """The connection, checked out of the pool on first use."""
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    async def execute(self, statement: Executable,
                      params: Any = None) -> Result[*tuple[Any, ...]]:
        return self.connection.execute(statement, params)

    async def scalars(self, statement: Executable, params: Any = None) -> ScalarResult[Any]:
        return self.connection.scalars(statement, params)

    def get_bind(self) -> Engine | Connection:
        return self._engine

    async def commit(self) -> None:
        self.commit_now()

    async def rollback(self) -> None:
        self.rollback_now()

    async def close(self) -> None:
        self.close_now()

    def commit_now(self) -> None:
        if self._connection is not None:
            self._connection.commit()

    def rollback_now(self) -> None:
        if self._connection is not None:
            self._connection.rollback()

    def close_now(self) -> None:
        """Ends the connection's use, rolling back whatever was not committed."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


class SavepointSession(ThreadSession):
    """A ThreadSession on a connection that several units of work share, one after the other,
    in one transaction (committed together, store.uow): each transaction of its own is a
    SAVEPOINT in that one, released by `commit` and undone by `rollback` or `close`."""

    def __init__(self, engine: Engine, shared: Connection) -> None:
        super().__init__(engine)
        self._shared = shared
        self._savepoint: NestedTransaction | None = None
        self.committed = False  # a savepoint of its was released into the shared transaction

    @property
    def connection(self) -> Connection:
        if self._savepoint is None:
            self._savepoint = self._shared.begin_nested()
        return self._shared

    def commit_now(self) -> None:
        if self._savepoint is not None:
            savepoint, self._savepoint = self._savepoint, None
            savepoint.commit()
            self.committed = True

    def rollback_now(self) -> None:
        if self._savepoint is not None:
            savepoint, self._savepoint = self._savepoint, None
            savepoint.rollback()

    def close_now(self) -> None:
        self.rollback_now()


class HandedSession:
    """A ThreadSession driven from the event loop: each call runs on one of `threads`, held
    from the transaction's first statement to its end, so no other work runs there in
    between (SQLite's one writer at a time, and one thread using the connection)."""

    def __init__(self, engine: Engine, threads: LoopThreads) -> None:
        self._inner = ThreadSession(engine)
        self._threads = threads
        self._turn: Turn | None = None

    async def execute(self, statement: Executable,
                      params: Any = None) -> Result[*tuple[Any, ...]]:
        return await self._call(lambda: _buffered(self._inner.connection.execute(statement,
                                                                                 params)))

    async def scalars(self, statement: Executable, params: Any = None) -> ScalarResult[Any]:
        result = await self._call(lambda: _buffered(self._inner.connection.execute(statement,
                                                                                   params)))
        return result.scalars()

    def get_bind(self) -> Engine | Connection:
        return self._inner.get_bind()

    async def commit(self) -> None:
        await self._end(self._inner.commit_now)

    async def rollback(self) -> None:
        await self._end(self._inner.rollback_now)

    async def close(self) -> None:
        await self._end(lambda: None)

    async def _call(self, function: Callable[[], _R]) -> _R:
        if self._turn is None:
            self._turn = self._threads.hold()
        return await self._turn.call(function)

    async def _end(self, function: Callable[[], None]) -> None:
        """End the transaction on its thread, give the connection back to the pool (the
        next statement takes one again) and let the thread go."""
        turn, self._turn = self._turn, None
        if turn is None:
            return  # no statement since the last end: nothing open, nothing checked out
        try:
            await turn.call(lambda: _ending(function, self._inner))
        finally:
            turn.release()


def _ending(function: Callable[[], None], session: ThreadSession) -> None:
    try:
        function()
    finally:
        session.close_now()  # rolls back what is still open


def _buffered(result: CursorResult[Any]) -> Result[Any]:
    """Rows read into memory on the connection's thread, so none is fetched from elsewhere."""
    if not result.returns_rows:
        return result
    return result.freeze()()
