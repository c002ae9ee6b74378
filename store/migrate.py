"""Schema migrations, applied from code: `await upgrade(url)` brings a database to head.

The Alembic configuration is built here, pointing at the migrations shipped inside this
package, so it works from any working directory and from an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from store.uow import DEFAULT_URL, SQLITE_BEGIN, Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str = DEFAULT_URL) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def heads() -> set[str]:
    """The revisions the code expects the database to be at (one, unless branches are open)."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


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

    async with Database(url) as db, db.engine.begin() as connection:
        await connection.run_sync(run)


async def current(url: str = DEFAULT_URL) -> str | None:
    """The revision the database is at; None for a database never migrated."""

    def read(connection: Connection) -> str | None:
        return "+".join(sorted(MigrationContext.configure(connection).get_current_heads())) or None

    async with Database(url) as db, db.engine.connect() as connection:
        reading = await connection.execution_options(**{SQLITE_BEGIN: "BEGIN"})
        return await reading.run_sync(read)


async def is_current(url: str = DEFAULT_URL) -> bool:
    return await current(url) == head()
