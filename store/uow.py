"""The database handle and the unit of work the core runs each command in."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.ports import UnitOfWork
from store.absences import SqlAbsences
from store.claims import SqlFollowups
from store.deliveries import SqlDeliveries
from store.events import SqlEventLog
from store.inline_sqlite import create_inline_engine
from store.items import SqlItemRepository
from store.outbox import SqlOutbox
from store.posts import SqlCardPosts
from store.prepared import Plans
from store.session import InlineSession
from store.stats import SqlStatistics
from store.wal import WalCheckpointer
from store.workspaces import WorkspaceHeads

DEFAULT_URL = "sqlite+aiosqlite:///baton.db"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)

# Execution option naming the statement that opens a SQLite transaction. Units of work take
# the write lock at once (BEGIN IMMEDIATE), so a read-then-write never fails half-way with
# "database is locked"; read-only checks pass "BEGIN" to take no lock.
SQLITE_BEGIN = "sqlite_begin"


class SqlUnitOfWork(UnitOfWork):
    """One session, one transaction. Use it as `async with`: that holds the write lock, if
    any, and closes the session; leaving without `commit()` rolls everything back."""

    def __init__(self, session: AsyncSession | InlineSession,
                 write_lock: asyncio.Lock | None = None,
                 checkpoints: WalCheckpointer | None = None) -> None:
        self._session = session
        self._checkpoints = checkpoints
        self._write_lock = write_lock
        self._holding = False
        self._heads = WorkspaceHeads(session)  # items and events share this transaction's
        self.items = SqlItemRepository(session, self._heads)
        self.events = SqlEventLog(session, self._heads)
        self.outbox = SqlOutbox(self._session)
        self._absences = SqlAbsences(self._session)
        self.absences = self._absences
        self.posts = SqlCardPosts(self._session)
        self.followups = SqlFollowups(self._session)
        self.stats = SqlStatistics(self._session)
        self.deliveries = SqlDeliveries(self._session)

    @property
    def session(self) -> AsyncSession | InlineSession:
        """The transaction's session, for store-internal helpers that are not core ports."""
        return self._session

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._write_lock is not None:
            await self._write_lock.acquire()
            self._holding = True
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            await self._session.close()  # rolls back whatever was not committed
        finally:
            if self._holding and self._write_lock is not None:
                self._holding = False
                self._write_lock.release()

    async def commit(self) -> None:
        await self._session.commit()
        self._forget()
        if self._checkpoints is not None:
            self._checkpoints.committed()

    async def rollback(self) -> None:
        await self._session.rollback()
        self._forget()

    def _forget(self) -> None:
        """What was read under this transaction's locks is not to be trusted after it."""
        self._heads.forget()
        self._absences.forget()


class Database:
    """The engines for one database URL, and the factory of units of work over them.

    SQLite: file directories are created, connections are tuned (WAL, foreign keys, busy
    timeout) and units of work in this process run one at a time, since SQLite has a single
    writer and contending for its file lock is far slower than queueing for an asyncio lock.
    Units of work run on a sync engine, inline (store.session says why); `engine`, the async
    one that migrations, readiness and Slack's installation store use, runs inline too
    (store.inline_sqlite), so no transaction on either can wait on the other within the loop.
    """

    def __init__(self, url: str | URL = DEFAULT_URL, *, echo: bool = False) -> None:
        self.url = _async_driver(make_url(url))
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        file: Path | None = None
        if self.is_sqlite:
            if sqlite_in_memory(self.url):
                raise ValueError("Baton keeps SQLite data in a file; an in-memory database "
                                 "would be a different one for each connection")
            file = _sqlite_file(self.url)
            if file is not None:
                file.parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_inline_engine(self.url, echo=echo) \
            if self.is_sqlite else create_async_engine(self.url, echo=echo)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._inline: Engine | None = None  # SQLite: the sync engine units of work run on
        self._checkpoints: WalCheckpointer | None = None
        self._plans: Plans | None = None
        if self.is_sqlite:
            self._inline = create_engine(self.url.set(drivername="sqlite+pysqlite"),
                                         echo=echo)
            # Deferred: the async engine's readers (Slack's installation store among them)
            # must not hold the write lock while SQLAlchemy closes their connection in a task
            # of its own; its writers commit without yielding, so none can interleave.
            _tune_sqlite(self.engine.sync_engine, begin="BEGIN")
            if file is not None:
                self._checkpoints = WalCheckpointer(str(file))
            _tune_sqlite(self._inline, checkpoint_on_commit=self._checkpoints is None)
            self._plans = Plans(self._inline)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False,
                                            autoflush=False)

    @property
    def unit_engine(self) -> Engine:
        """The (sync) engine the statements of units of work pass through, for listeners."""
        return self._inline or self.engine.sync_engine

    def unit_of_work(self) -> SqlUnitOfWork:
        """A new unit of work; this method is the core's UnitOfWorkFactory."""
        if self._inline is not None:
            return SqlUnitOfWork(InlineSession(self._inline, self._plans), self._write_lock,
                                 self._checkpoints)
        return SqlUnitOfWork(self._sessions(), self._write_lock)

    async def ping(self) -> bool:
        """Whether the database answers a query (for readiness checks)."""
        try:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(**{SQLITE_BEGIN: "BEGIN"})
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return False
        return True

    async def dispose(self) -> None:
        try:
            if self._write_lock is not None:
                await self._optimize_sqlite(self._write_lock)
        finally:
            await self.engine.dispose()
            if self._inline is not None:
                self._inline.dispose()
            if self._checkpoints is not None:
                await self._checkpoints.close()

    async def _optimize_sqlite(self, write_lock: asyncio.Lock) -> None:
        """Refresh the planner's statistics where SQLite thinks it worthwhile (cheap): without
        them it cannot tell that few items are open, or that one person approves few."""
        try:
            async with write_lock, self.engine.begin() as conn:
                await conn.exec_driver_sql("PRAGMA optimize")
        except (SQLAlchemyError, sqlite3.Error):
            pass  # an optimisation only; never a reason for shutdown to fail

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.dispose()


def _async_driver(url: URL) -> URL:
    """`sqlite:///…` and `postgresql://…` as people write them, with the asyncio drivers."""
    default = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    return url.set(drivername=default.get(url.drivername, url.drivername))


def sqlite_in_memory(url: URL) -> bool:
    """Whether a SQLite URL names no file (`sqlite://`, `sqlite:///:memory:`)."""
    return (url.database or ":memory:") == ":memory:"


def _sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names, unless it is a `file:` URI (SQLite reads those itself)."""
    name = url.database or ""
    return None if name.startswith("file:") else Path(name).expanduser()


def _tune_sqlite(engine: Engine, *, begin: str = "BEGIN IMMEDIATE",
                 checkpoint_on_commit: bool = True) -> None:
    """Let SQLAlchemy, not the sqlite3 module, open transactions, and open them as we say
    (`begin`, unless a connection's SQLITE_BEGIN option says otherwise). Without
    `checkpoint_on_commit` a WalCheckpointer copies the log back instead."""
    pragmas = SQLITE_PRAGMAS if checkpoint_on_commit else \
        (*SQLITE_PRAGMAS, "PRAGMA wal_autocheckpoint=0")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN of its own
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver: this runs once per unit of work, and a statement through
        # SQLAlchemy's execution machinery costs more than SQLite takes to begin.
        statement = conn.get_execution_options().get(SQLITE_BEGIN, begin)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(statement)
        except sqlite3.Error as err:  # as SQLAlchemy would have raised it
            raise OperationalError(statement, None, err) from err
        finally:
            cursor.close()
