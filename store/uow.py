"""The database handle and the unit of work the core runs each command in."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.ports import UnitOfWork, UnitOfWorkFactory
from store.absences import SqlAbsences
from store.checkpoints import PRAGMA as CHECKPOINT_PRAGMA
from store.checkpoints import Checkpoints
from store.claims import SqlFollowups
from store.deliveries import SqlDeliveries
from store.events import SqlEventLog
from store.held import Held
from store.items import SqlItemRepository
from store.loop_threads import LoopThreads, Together
from store.outbox import SqlOutbox, Surfaces, delivering
from store.posts import SqlCardPosts
from store.session import HandedSession, SavepointSession, ThreadSession
from store.sql import json_text
from store.stats import SqlStatistics
from store.urls import sqlite_in_memory
from store.workspaces import WorkspaceHeads

DEFAULT_URL = "sqlite+aiosqlite:///baton.db"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA temp_store=MEMORY",  # savepoints' journals (units committed together) in memory
)

READERS = 2  # SQLite reader threads: readiness and /metrics never wait behind an export

COMMITTED_TOGETHER = 16  # at most, SQLite units of work queued together that commit together

T = TypeVar("T")
Work = Callable[["SqlUnitOfWork"], Awaitable[Any]]


class SqlUnitOfWork(UnitOfWork):
    """One session, one transaction. Leaving it (`async with`) closes the session; leaving
    without `commit()` rolls everything back."""

    outbox: SqlOutbox

    def __init__(self, session: AsyncSession | ThreadSession | HandedSession, *,
                 whole_database: bool = False, surfaces: Surfaces = ("",)) -> None:
        self._session = session
        self._heads = WorkspaceHeads(session)  # items and events share this transaction's
        self._held = Held(whole_database)  # what it holds: shared by items and claims
        self._items = SqlItemRepository(session, self._heads, self._held)
        self.items = self._items
        self._events = SqlEventLog(session, self._heads)
        self.events = self._events
        self._outbox = SqlOutbox(self._session, surfaces)
        self.outbox = self._outbox
        self._absences = SqlAbsences(self._session)
        self.absences = self._absences
        self.posts = SqlCardPosts(self._session)
        self._followups = SqlFollowups(self._session, self._held)
        self.followups = self._followups
        self.stats = SqlStatistics(self._session, self.flush)
        self.deliveries = SqlDeliveries(self._session)

    @property
    def session(self) -> AsyncSession | ThreadSession | HandedSession:
        """The transaction's session, for store-internal helpers that are not core ports."""
        return self._session

    async def __aenter__(self) -> SqlUnitOfWork:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._session.close()  # rolls back whatever was not committed

    async def commit(self) -> None:
        await self.flush()
        await self._session.commit()
        self._forget()

    async def rollback(self) -> None:
        await self._session.rollback()
        self._forget()

    async def flush(self) -> None:
        """Write what the repositories hold back to write together (events, messages, the
        workspace rows they move on)."""
        await self._followups.flush()
        await self._items.flush()
        await self._events.flush()
        await self._outbox.flush()
        await self._heads.flush()

    def _forget(self) -> None:
        """What was read under this transaction's locks is not to be trusted after it, and
        what was held back to write is gone with it."""
        self._heads.forget()
        self._held.forget()
        self._absences.forget()
        self._items.forget()
        self._followups.forget()
        self._events.forget()
        self._outbox.forget()


class SqlUnitsOfWork(UnitOfWorkFactory):
    """The core's factory of units of work over one Database (`Database.unit_of_work`)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def __call__(self) -> SqlUnitOfWork:
        return self._database.new_unit()

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        return await self._database.write(work)


class Database:
    """The engines for one database URL, and the factory of units of work over them.

    SQLite: file directories are created and connections tuned (WAL, foreign keys, busy
    timeout). SQLite has one writer at a time, so this process writes from one thread, its
    writer: a unit of work handed over whole (`unit_of_work.run`, `write`) runs there from
    BEGIN IMMEDIATE to COMMIT, its statements executed through SQLAlchemy's synchronous API
    with no hand-over between them, while the event loop goes on serving; one driven from
    the event loop (`async with unit_of_work()`) holds the writer from its first statement
    to its end and hands it each statement. Waiting for another process's write lock (up to
    the busy timeout) is the writer's wait, never the event loop's. Reads that need no write
    lock (`read`: readiness, outbox figures, exports) run on reader threads in deferred
    transactions over read-only connections, so they never queue behind writers.
    `engine`, the async one (stock aiosqlite) that Slack's installation store and tests use,
    opens deferred transactions too.

    PostgreSQL: AsyncSession over asyncpg on the event loop, for all of it.
    """

    def __init__(self, url: str | URL = DEFAULT_URL, *, echo: bool = False,
                 surfaces: Surfaces = ("",)) -> None:
        self.url = _async_driver(make_url(url))
        # Every message the core writes is kept once for each surface that delivers it: a
        # surface named alone takes every message, a mapping says what each one takes.
        self.surfaces = delivering(surfaces)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if sqlite_in_memory(self.url):
                raise ValueError("Baton keeps SQLite data in a file; an in-memory database "
                                 "would be a different one for each connection")
            file = _sqlite_file(self.url)
            if file is not None:
                file.parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo,
                                                       json_serializer=json_text)
        self._writes: Engine | None = None  # SQLite: what the writer thread writes through
        self._checkpoints: Checkpoints | None = None  # SQLite: copying the log back, aside
        self._reads: Engine | None = None  # SQLite: what the reader threads read through
        self._writer = LoopThreads("baton-sqlite-writer")
        self._readers = LoopThreads("baton-sqlite-reader", READERS)
        if self.is_sqlite:
            # Deferred: this engine's readers (Slack's installation store among them) must
            # not hold the write lock while nothing is written.
            _tune_sqlite(self.engine.sync_engine, begin="BEGIN")
            plain = self.url.set(drivername="sqlite+pysqlite")
            self._writes = create_engine(plain, echo=echo, json_serializer=json_text)
            _tune_sqlite(self._writes, begin="BEGIN IMMEDIATE", pragmas=(CHECKPOINT_PRAGMA,))
            self._checkpoints = Checkpoints(self._writes)
            self._reads = create_engine(plain, echo=echo, json_serializer=json_text)
            _tune_sqlite(self._reads, begin="BEGIN", read_only=True)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False,
                                            autoflush=False)
        self.unit_of_work = SqlUnitsOfWork(self)

    @property
    def unit_engine(self) -> Engine:
        """The (sync) engine the statements of units of work pass through, for listeners."""
        return self._writes or self.engine.sync_engine

    def new_unit(self) -> SqlUnitOfWork:
        """A unit of work driven from the caller's event loop (`async with`)."""
        if self._writes is None:
            return SqlUnitOfWork(self._sessions(), surfaces=self.surfaces)
        self._not_from_within(self._writer)
        return SqlUnitOfWork(HandedSession(self._writes, self._writer), whole_database=True,
                             surfaces=self.surfaces)

    async def write(self, work: Callable[[SqlUnitOfWork], Awaitable[T]]) -> T:
        """`work` in a unit of work of its own, which it commits. SQLite: on the writer, where
        the units queued one behind the other commit together (`_commit_together`)."""
        if self._writes is None:
            async with self.new_unit() as uow:
                return await work(uow)
        self._not_from_within(self._writer)
        result: T = await self._writer.together(
            Together(self._commit_together, work, COMMITTED_TOGETHER))
        return result

    async def read(self, work: Callable[[SqlUnitOfWork], Awaitable[T]]) -> T:
        """`work` in a transaction that reads only: on SQLite it takes no write lock and
        waits for no writer. Nothing it does is committed."""
        if self._reads is None:
            async with self.new_unit() as uow:
                return await work(uow)
        return await self._on(self._readers, self._reads, work)

    def _commit_together(self, runner: asyncio.Runner,
                         units: list[tuple[Work, concurrent.futures.Future[Any]]]) -> None:
        """On the writer: units of work queued one behind the other run in one transaction,
        each in a SAVEPOINT of its own (what one does not commit, or fails in, is undone
        alone), and their callers hear back once that transaction has committed. A commit
        writes every page the transaction changed to the log, one write each, and units
        that follow one another change mostly the same pages (the tables' and indexes' last
        leaves): measured with 16 commands at once, 1.3 ms of CPU a create committed
        together against 2.0 ms each alone."""
        writes = self._writes
        assert writes is not None

        def alone(work: Work, future: concurrent.futures.Future[Any]) -> None:
            _settle(future, lambda: runner.run(_unit(ThreadSession(writes), work, self.surfaces)))

        units = [(work, future) for work, future in units
                 if future.set_running_or_notify_cancel()]
        if len(units) == 1:
            alone(*units[0])
            return
        finished: list[tuple[concurrent.futures.Future[Any], Any, bool]] = []
        with writes.connect() as shared:
            try:
                shared.begin()
            except BaseException as exc:
                for _, future in units:
                    future.set_exception(exc)
                return
            while units:
                work, future = units.pop(0)
                session = SavepointSession(writes, shared)
                try:
                    result = runner.run(_unit(session, work, self.surfaces))
                except BaseException as exc:
                    future.set_exception(exc)
                    if isinstance(exc, DBAPIError):  # the transaction may be gone with it
                        break
                else:
                    finished.append((future, result, session.committed))
            try:
                if not _still_open(shared):  # SQLite ended it after an error: say so
                    raise OperationalError("COMMIT", None, sqlite3.OperationalError(
                        "the shared transaction was rolled back by SQLite"))
                shared.commit()
            except BaseException as exc:
                for future, result, committed in finished:
                    if committed:
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
            else:
                for future, result, _ in finished:
                    future.set_result(result)
        for work, future in units:  # after a database error: each alone
            alone(work, future)

    async def _on(self, threads: LoopThreads, engine: Engine,
                  work: Callable[[SqlUnitOfWork], Awaitable[T]]) -> T:
        self._not_from_within(threads)

        async def whole() -> T:
            async with SqlUnitOfWork(ThreadSession(engine), surfaces=self.surfaces) as uow:
                return await work(uow)

        return await threads.run(whole)

    async def read_sync(self, function: Callable[[Connection], T]) -> T:
        """`function` given a (sync) connection that reads only, for libraries that take
        one (Alembic's migration context); SQLite: on a reader thread."""
        if self._reads is None:
            async with self.engine.connect() as conn:
                return await conn.run_sync(function)
        reads = self._reads
        return await self._readers.call(lambda: _connected(reads, function))

    async def write_sync(self, function: Callable[[Connection], T]) -> T:
        """`function` given a (sync) connection in a transaction committed after it (Alembic
        migrations, PRAGMA optimize); SQLite: on the writer thread."""
        if self._writes is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(function)
        writes = self._writes
        self._not_from_within(self._writer)
        return await self._writer.call(lambda: _in_transaction(writes, function))

    async def ping(self) -> bool:
        """Whether the database answers a query (for readiness checks)."""
        try:
            await self.read_sync(lambda conn: conn.exec_driver_sql("SELECT 1").scalar())
        except (SQLAlchemyError, OSError, sqlite3.Error):
            return False
        return True

    async def dispose(self) -> None:
        try:
            if self._writes is not None:
                await self._optimize_sqlite()
        finally:
            await self._writer.close()
            await self._readers.close()
            if self._checkpoints is not None:
                await self._checkpoints.close()
            for engine in (self._writes, self._reads):
                if engine is not None:
                    engine.dispose()
            await self.engine.dispose()

    async def _optimize_sqlite(self) -> None:
        """Refresh the planner's statistics where SQLite thinks it worthwhile (cheap): without
        them it cannot tell that few items are open, or that one person approves few."""
        # An optimisation only; never a reason for shutdown to fail.
        with contextlib.suppress(SQLAlchemyError, sqlite3.Error, RuntimeError):
            await self.write_sync(lambda conn: conn.exec_driver_sql("PRAGMA optimize"))

    @staticmethod
    def _not_from_within(threads: LoopThreads) -> None:
        if threads.on_one_of_them():
            raise RuntimeError("a unit of work started inside another would wait for it to "
                               "end: use the one at hand")

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.dispose()


async def _unit(session: ThreadSession, work: Work, surfaces: Surfaces) -> Any:
    async with SqlUnitOfWork(session, whole_database=True, surfaces=surfaces) as uow:
        return await work(uow)


def _still_open(connection: Connection) -> bool:
    """Whether SQLite itself still has the connection's transaction open (it ends one on
    some errors, whatever SQLAlchemy believes)."""
    dbapi = connection.connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", True))


def _settle(future: concurrent.futures.Future[Any], function: Callable[[], Any]) -> None:
    try:
        result = function()
    except BaseException as exc:
        future.set_exception(exc)
    else:
        future.set_result(result)


def _connected(engine: Engine, function: Callable[[Connection], T]) -> T:
    with engine.connect() as conn:
        return function(conn)


def _in_transaction(engine: Engine, function: Callable[[Connection], T]) -> T:
    with engine.begin() as conn:
        return function(conn)


def _async_driver(url: URL) -> URL:
    """`sqlite:///…` and `postgresql://…` as people write them, with the asyncio drivers."""
    default = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    return url.set(drivername=default.get(url.drivername, url.drivername))


def _sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names, unless it is a `file:` URI (SQLite reads those itself)."""
    name = url.database or ""
    return None if name.startswith("file:") else Path(name).expanduser()


def _tune_sqlite(engine: Engine, *, begin: str, read_only: bool = False,
                 pragmas: tuple[str, ...] = ()) -> None:
    """Let SQLAlchemy, not the sqlite3 module, open transactions, and open them with `begin`
    (SQLAlchemy's documented recipe for SQLite transactions); `read_only` connections refuse
    to write; `pragmas` are run on each new connection after the usual ones."""
    pragmas = (*SQLITE_PRAGMAS, *pragmas, *(("PRAGMA query_only=1",) if read_only else ()))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN of its own
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver (public: the pooled connection's DBAPI connection): once per
        # unit of work, where SQLAlchemy's execution machinery costs more than SQLite's BEGIN.
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(begin)
        except sqlite3.Error as err:  # as SQLAlchemy would have raised it
            raise OperationalError(begin, None, err) from err
        finally:
            cursor.close()
