"""The outbox as the delivery worker sees it (bot.delivery.OutboxQueue): each call one short
unit of work of its own, never held across a call to a platform."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from bot.delivery import OutboxQueue, OutboxStats, Queued
from store.outbox import SqlOutbox
from store.uow import Database, SqlUnitOfWork

T = TypeVar("T")


class SqlOutboxQueue(OutboxQueue):
    def __init__(self, database: Database) -> None:
        self._database = database

    async def _do(self, work: Callable[[SqlOutbox], Awaitable[T]], *, commit: bool = True) -> T:
        """`work` in a unit of work of its own: a write, committed (on SQLite, on the writer
        thread, whole), or a read that takes no write lock."""
        if not commit:
            return await self._database.read(lambda uow: work(uow.outbox))

        async def write(uow: SqlUnitOfWork) -> T:
            result = await work(uow.outbox)
            await uow.commit()
            return result

        return await self._database.write(write)

    async def lease(self, limit: int, now: datetime, worker: str, lease: timedelta,
                    surfaces: Sequence[str]) -> list[Queued]:
        return await self._do(lambda box: box.lease(limit, now, worker, lease, surfaces))

    async def sent(self, message_ids: Sequence[int], now: datetime) -> None:
        if message_ids:
            await self._do(lambda box: box.sent_all(message_ids, now))

    async def skipped(self, message_id: int, reason: str, now: datetime) -> None:
        await self._do(lambda box: box.skipped(message_id, reason, now))

    async def outcomes(self, key: str) -> list[tuple[str, str, str]]:
        return await self._do(lambda box: box.outcomes(key), commit=False)

    async def failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        await self._do(lambda box: box.failed(message_id, error, retry_at))

    async def postpone(self, message_ids: Sequence[int], until: datetime) -> None:
        if message_ids:
            await self._do(lambda box: box.postpone(message_ids, until))

    async def release(self, worker: str, now: datetime) -> int:
        return await self._do(lambda box: box.release(worker, now))

    async def stats(self, now: datetime) -> OutboxStats:
        return await self._do(lambda box: box.stats(now), commit=False)
