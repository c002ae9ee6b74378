"""The composition root: settings and baton.yaml in, a wired Baton out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from baton.settings import Settings
from bot.config import Config, ConfigDirectory, load_config
from bot.ports import Clock
from bot.service import Baton
from store.migrate import is_current, upgrade
from store.uow import Database


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    config: Config
    directory: ConfigDirectory
    database: Database
    baton: Baton
    clock: Clock

    @property
    def workspace(self) -> str:
        return self.config.workspace

    async def ready(self) -> tuple[bool, str]:
        """Database reachable and its schema at the newest migration."""
        if not await self.database.ping():
            return False, "database unreachable"
        if not await is_current(self.settings.database_url):
            return False, "database schema is behind: run `baton db upgrade`"
        return True, "ok"


async def build(settings: Settings, clock: Clock | None = None, *, migrate: bool = True) -> App:
    """Load the configuration (raising ConfigError), migrate, and wire the core to the store."""
    config = load_config(settings.config_path())
    if migrate:
        await upgrade(settings.database_url)
    directory = ConfigDirectory(config)
    database = Database(settings.database_url)
    clock = clock or SystemClock()
    baton = Baton(database.unit_of_work, clock, directory)
    return App(settings, config, directory, database, baton, clock)
