"""The session the repositories run statements on.

On PostgreSQL that is SQLAlchemy's AsyncSession over asyncpg. On SQLite it is `InlineSession`:
a plain (sync) SQLAlchemy Connection over the sqlite3 module, its calls made straight from the
coroutine. SQLite answers a statement in microseconds and Baton's units of work are serialised
in this process anyway, so a thread per statement (aiosqlite) bought nothing but cost: each
statement waited for the event loop to come round again while the write lock was held, and
SQLAlchemy's async adaptation tripled its CPU (measured: 170 µs an insert against 55 µs
inline; an empty transaction 345 µs against 63 µs). A unit of work now runs from BEGIN to
COMMIT without yielding to the loop, which is also what makes SQLite's single writer cheap.

The price: while a statement runs, the loop waits. Units of work are short, and the long reads
(a weekly digest over 100,000 items, ~0.4 s) are rare and scheduled.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, TypeVar, TypeVarTuple, overload

from sqlalchemy import Result, ScalarResult
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

from store.prepared import Plans, is_prepared

_Ts = TypeVarTuple("_Ts")
_T = TypeVar("_T")


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


class InlineSession:
    """A sync Connection behind the AsyncSession methods Baton uses; no call yields. The
    repositories send Core statements only, so the ORM Session's bookkeeping (a third of a
    small statement's cost) is left out."""

    def __init__(self, engine: Engine, plans: Plans | None = None) -> None:
        self._engine = engine
        self._plans = plans  # statements marked `prepared` go by these, straight to sqlite3
        self._connection: Connection | None = None
        self._direct: bool | None = None  # whether plans may run (see `_unobserved`)

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    async def execute(self, statement: Executable,
                      params: Any = None) -> Result[*tuple[Any, ...]]:
        plans = self._plans
        if self._direct is None:  # asked once per unit of work
            self._direct = plans is not None and self._unobserved()
        if self._direct and plans is not None and is_prepared(statement):
            plan = plans.plan(statement, params)
            if plan is not None:
                bound = plan.bind(params or {})  # refused before the transaction begins
                connection = self.connection
                if not connection.in_transaction():
                    connection.begin()  # BEGIN as the engine's listener says
                return plan.run(connection.connection.dbapi_connection, bound,
                                isinstance(params, list), plans)
        return self.connection.execute(statement, params)

    def _unobserved(self) -> bool:
        """Whether a statement may skip the engine: nothing would see it pass (echo or SQL
        logging, execution and error listeners such as the query-plan tests')."""
        engine = self._engine
        events = engine.dispatch
        return not (engine.echo or engine.logger.isEnabledFor(logging.INFO)
                    or events.before_execute or events.after_execute
                    or events.before_cursor_execute or events.after_cursor_execute
                    or engine.dialect.dispatch.handle_error)

    async def scalars(self, statement: Executable, params: Any = None) -> ScalarResult[Any]:
        return self.connection.scalars(statement, params)

    def get_bind(self) -> Engine | Connection:
        return self._engine

    async def commit(self) -> None:
        if self._connection is not None:
            self._connection.commit()

    async def rollback(self) -> None:
        if self._connection is not None:
            self._connection.rollback()

    async def close(self) -> None:
        """Ends the connection's use, rolling back whatever was not committed."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()
