"""Schema migrations, applied from code: `await upgrade(url)` brings a database to head.

The Alembic configuration is built here, pointing at the migrations shipped inside this
package, so it works from any working directory and from an installed wheel.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from store.uow import DEFAULT_URL, Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str = DEFAULT_URL) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def heads() -> frozenset[str]:
    """The revisions the code expects the database to be at (one, unless branches are open);
    read from the migration files once (they parse in ~10 ms: not at every readiness check)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def head() -> str | None:
    """The single revision the code expects, joined with '+' while branches are open."""
    return "+".join(sorted(heads())) or None


async def upgrade(url: str = DEFAULT_URL, target: str = "heads") -> None:
    """Apply the migrations the database lacks up to `target` (every head by default), in one
    transaction; harmless when current."""
    config = alembic_config(url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, target)

    async with Database(url) as db:
        await db.write_sync(run)


async def current(url: str = DEFAULT_URL) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    async with Database(url) as db:
        return await revision_of(db)


async def revision_of(database: Database) -> str | None:
    """The revision an open database is at, read without taking SQLite's write lock."""
    return await database.read_sync(_revision)


def _revision(connection: Connection) -> str | None:
    return "+".join(sorted(MigrationContext.configure(connection).get_current_heads())) or None


async def is_current(url: str = DEFAULT_URL) -> bool:
    return await current(url) == head()
