"""Fixtures for the store's integration tests: a fresh, migrated database per test.

Every test using `empty_url` or `db` runs on a SQLite file, and also on PostgreSQL when
BATON_TEST_POSTGRES_URL names a server database the tests may create scratch databases
from (e.g. postgresql+asyncpg://baton@127.0.0.1:5432/postgres; needs asyncpg installed).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.items import Item, Kind
from store.migrate import upgrade
from store.uow import Database

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

POSTGRES = os.environ.get("BATON_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES else ["sqlite"]

MakeItem = Callable[..., Item]


@asynccontextmanager
async def scratch_postgres(admin_url: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    url = make_url(admin_url)
    name = f"baton_test_{uuid4().hex[:12]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite file not yet created, in a directory not yet created."""
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'baton.db'}"


@pytest.fixture(params=BACKENDS)
async def empty_url(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[str]:
    """An empty database of each backend under test."""
    if request.param == "sqlite":
        yield db_url
    else:
        async with scratch_postgres(POSTGRES) as url:
            yield url


async def migrated(url: str) -> AsyncIterator[Database]:
    await upgrade(url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def db(empty_url: str) -> AsyncIterator[Database]:
    """A migrated database of each backend under test."""
    async for database in migrated(empty_url):
        yield database


@pytest.fixture
async def sqlite_db(db_url: str) -> AsyncIterator[Database]:
    """A migrated SQLite file, for what only SQLite has (pragmas, query plans, file locks)."""
    async for database in migrated(db_url):
        yield database


@pytest.fixture
def make_item() -> MakeItem:
    """An item with plain defaults; keyword arguments override any field."""

    def make(workspace: str = "T1", number: int = 1, **fields: Any) -> Item:
        base: dict[str, Any] = {
            "kind": Kind.HANDOFF, "title": f"item {number}", "requester": "alice",
            "team": "ops", "created_at": T0, "updated_at": T0,
        }
        return Item(workspace=workspace, number=number, **(base | fields))

    return make
