"""Migration s001 builds exactly the tables slack_sdk's SQLAlchemy stores define, and the
stores work on them through Baton's engine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from store.migrate import upgrade
from store.uow import Database

SLACK_TABLES = {"slack_bots", "slack_installations", "slack_oauth_states"}


def slack_sdk_metadata(database: Database) -> MetaData:
    """The tables slack_sdk's stores would create, gathered in one MetaData."""
    metadata = MetaData()
    installations = AsyncSQLAlchemyInstallationStore(client_id="c", engine=database.engine)
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=60, engine=database.engine)
    for table in [*installations.metadata.tables.values(), *states.metadata.tables.values()]:
        table.to_metadata(metadata)
    return metadata


async def test_the_migration_builds_slack_sdks_tables_exactly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    await upgrade(url)
    async with Database(url) as database:
        expected = slack_sdk_metadata(database)
        assert set(expected.tables) == SLACK_TABLES

        def differences(conn: Connection) -> list[Any]:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, kind, parent: kind != "table"
                or name in SLACK_TABLES})
            return list(compare_metadata(context, expected))

        async with database.engine.connect() as conn:
            assert await conn.run_sync(differences) == []


async def test_slack_sdks_stores_work_on_the_migrated_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    await upgrade(url)
    async with Database(url) as database:
        installations = AsyncSQLAlchemyInstallationStore(client_id="c", engine=database.engine)
        states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=60, engine=database.engine)
        await installations.async_save(Installation(
            app_id="A1", team_id="T1", user_id="U1", bot_token="xoxb-1", bot_id="B1",
            bot_user_id="UB", installed_at=datetime.now(UTC).timestamp()))
        bot = await installations.async_find_bot(enterprise_id=None, team_id="T1")
        assert bot is not None and bot.bot_token == "xoxb-1"
        state = await states.async_issue()
        assert await states.async_consume(state)
        assert not await states.async_consume(state)
