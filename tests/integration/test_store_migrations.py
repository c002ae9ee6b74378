"""Migrations: applied from code, to head, from any directory, matching the table classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from store.migrate import current, head, is_current, upgrade
from store.tables import Base
from store.uow import Database

# slack_sdk's installation and state stores own these; tests/adapters/slack/test_migration.py
# checks that migration s001 builds them exactly as slack_sdk defines them.
SLACK_SDK_TABLES = {"slack_bots", "slack_installations", "slack_oauth_states"}


def ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in SLACK_SDK_TABLES


async def table_names(url: str) -> set[str]:
    async with Database(url) as db, db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_creates_every_table(empty_url: str) -> None:
    assert not await is_current(empty_url)
    assert await current(empty_url) is None

    await upgrade(empty_url)

    assert await table_names(empty_url) == (set(Base.metadata.tables) | {"alembic_version"}
                                            | SLACK_SDK_TABLES)
    assert await is_current(empty_url)
    assert head() is not None
    assert await current(empty_url) == head()


async def test_upgrade_twice_is_harmless(empty_url: str) -> None:
    await upgrade(empty_url)
    await upgrade(empty_url)
    assert await is_current(empty_url)


async def test_upgrade_works_from_any_directory(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    await upgrade("sqlite:///nested/dirs/baton.db")  # the driver is implied
    assert (tmp_path / "nested" / "dirs" / "baton.db").is_file()


async def test_the_migrations_build_what_the_table_classes_describe(empty_url: str) -> None:
    await upgrade(empty_url)

    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": ours})
        return list(compare_metadata(context, Base.metadata))

    async with Database(empty_url) as db, db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []
