"""Alembic environment: runs migrations on a connection handed over by store.migrate, or, from
the `alembic` command line, on its own engine for the configured URL."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from store.tables import Base
from store.uow import DEFAULT_URL, Database

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (config.get_main_option("sqlalchemy.url")
            or os.environ.get("BATON_DATABASE_URL") or DEFAULT_URL)


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; our BEGIN makes its DDL transactional too.
        render_as_batch=True,
        transactional_ddl=True,
        compare_type=True,
        **kwargs,
    )


def run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_on_own_engine() -> None:
    async with Database(_url()) as db:
        await db.write_sync(run_on)


if context.is_offline_mode():
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    run_on(given)
else:
    asyncio.run(run_on_own_engine())
