"""The composition root: settings and baton.yaml in, the core and what it runs on built once.

Everything is built here before anything runs, and nothing is swapped afterwards: the one
directory (baton.yaml's people and teams, and the accounts surfaces matched to them), the
clock, the core, the runner every surface hands commands to, and the wake-up the core sets
after each command so the outbox worker delivers at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from baton.settings import Settings
from bot.accounts import remember_all
from bot.config import Config, ConfigDirectory, load_config
from bot.locks import MemoryLocks
from bot.ports import Clock, Deduplicator, Locks
from bot.runner import Observe, Runner
from bot.service import Baton
from store.accounts import SqlAccounts
from store.dedup import SqlDeduplicator
from store.migrate import head, revision_of, upgrade
from store.outbox import Surfaces
from store.uow import Database

if TYPE_CHECKING:  # redis is imported where BATON_REDIS_URL asks for it
    from redis.asyncio import Redis


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    config: Config
    directory: ConfigDirectory
    database: Database
    accounts: SqlAccounts
    baton: Baton
    runner: Runner
    clock: Clock
    # Set by the core after each command that committed: the outbox worker delivers at once.
    wake: asyncio.Event
    # With BATON_REDIS_URL, Redis de-duplicates platform retries and holds the replicas'
    # short locks; without it the database de-duplicates and locks are in-process.
    dedup: Deduplicator = field(init=False)
    locks: Locks = field(init=False)
    redis: Redis | None = None

    def __post_init__(self) -> None:
        if self.redis is None and self.settings.redis_url:
            from store.redis_kv import connect

            self.redis = connect(self.settings.redis_url)
        if self.redis is not None:
            from store.redis_kv import RedisDeduplicator, RedisLocks

            self.dedup, self.locks = RedisDeduplicator(self.redis), RedisLocks(self.redis)
        else:
            self.dedup = SqlDeduplicator(self.database, self.clock)
            self.locks = MemoryLocks(self.clock)

    @property
    def workspace(self) -> str:
        return self.config.workspace

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.dispose()

    async def ready(self) -> tuple[bool, str]:
        """Database reachable and its schema at the newest migration."""
        if not await self.database.ping():
            return False, "database unreachable"
        if await revision_of(self.database) != head():
            return False, "database schema is behind: run `baton db upgrade`"
        if self.redis is not None:
            from redis.exceptions import RedisError

            try:
                await self.redis.ping()  # type: ignore[misc]  # redis-py types sync and async alike
            except (OSError, RedisError) as exc:
                return False, f"redis unreachable: {type(exc).__name__}"
        return True, "ok"


async def build(settings: Settings, clock: Clock | None = None, *, migrate: bool = True,
                observe: Observe | None = None,
                surfaces: Surfaces | None = None) -> App:
    """Load the configuration (raising ConfigError), migrate, and build the core over the
    store, for the surfaces that deliver (the settings', unless `surfaces` names them).
    `observe` times each command (/metrics)."""
    config = load_config(settings.config_path())
    directory = ConfigDirectory(config)  # its calendars too, before the database is written
    if migrate:
        await upgrade(settings.database_url)
    database = Database(settings.database_url, surfaces=surfaces or settings.delivering())
    accounts = SqlAccounts(database)
    await remember_all(directory, accounts)
    clock = clock or SystemClock()
    wake = asyncio.Event()
    baton = Baton(database.unit_of_work, clock, directory, on_commit=wake.set)
    return App(settings, config, directory, database, accounts, baton,
               Runner(baton, observe), clock, wake)
