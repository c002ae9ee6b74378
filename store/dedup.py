"""De-duplication of platform retries in the database, shared by every replica."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update

from bot.ports import Clock, Deduplicator
from store.sql import upsert_insert
from store.tables import SeenKeyRow
from store.uow import Database


class SqlDeduplicator(Deduplicator):
    """A key is first seen when its row is inserted (or an expired row is renewed) by this call."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def first_time(self, key: str, ttl: timedelta) -> bool:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            session = uow.session
            inserted = await session.execute(upsert_insert(session, SeenKeyRow).values(
                key=key, expires_at=now + ttl,
            ).on_conflict_do_nothing(index_elements=["key"]).returning(SeenKeyRow.key))
            fresh = inserted.first() is not None
            if not fresh:  # seen before: take it over only if that sighting has expired
                renewed = await session.execute(update(SeenKeyRow).where(
                    SeenKeyRow.key == key, SeenKeyRow.expires_at <= now,
                ).values(expires_at=now + ttl).returning(SeenKeyRow.key))
                fresh = renewed.first() is not None
            await uow.commit()
        return fresh

    async def forget_expired(self) -> int:
        """Drop keys past their expiry; returns how many."""
        async with self._database.unit_of_work() as uow:
            result = await uow.session.execute(delete(SeenKeyRow).where(
                SeenKeyRow.expires_at <= self._clock.now()).returning(SeenKeyRow.key))
            gone = len(result.all())
            await uow.commit()
        return gone
