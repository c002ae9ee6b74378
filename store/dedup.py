"""De-duplication of platform retries in the database, shared by every replica."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from bot.ports import Clock, Deduplicator
from store.tables import SeenKeyRow
from store.uow import Database, SqlUnitOfWork


class SqlDeduplicator(Deduplicator):
    """A key is first seen when its row is inserted (or an expired row is renewed) by this
    call, in a transaction of its own."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def first_time(self, key: str, ttl: timedelta) -> bool:
        async def record(uow: SqlUnitOfWork) -> bool:
            fresh = await uow.deliveries.first_time(key, self._clock.now(), ttl)
            await uow.commit()
            return fresh

        return await self._database.write(record)

    async def forget_expired(self) -> int:
        """Drop keys past their expiry; returns how many."""

        async def forget(uow: SqlUnitOfWork) -> int:
            result = await uow.session.execute(delete(SeenKeyRow).where(
                SeenKeyRow.expires_at <= self._clock.now()).returning(SeenKeyRow.key))
            gone = len(result.all())
            await uow.commit()
            return gone

        return await self._database.write(forget)
