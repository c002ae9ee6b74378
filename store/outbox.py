"""Messages written with the change that caused them, delivered later with retries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Delivery, Outgoing, Queued
from bot.ports import Outbox
from store.sql import dialect_of, plain_json, upsert_insert
from store.tables import OutboxRow

PENDING, SENT, PARKED = "pending", "sent", "parked"
LEASE = timedelta(minutes=5)

_outbox = OutboxRow.__table__


class SqlOutbox(Outbox):
    """`claim` leases what it returns for `lease`: it reappears only if neither `sent` nor
    `failed` is recorded by then, so a deliverer may commit the claim and deliver outside the
    transaction without another replica taking the same messages.
    """

    def __init__(self, session: AsyncSession, lease: timedelta = LEASE) -> None:
        self._session = session
        self._lease = lease

    async def put(self, message: Outgoing) -> None:
        await self._session.execute(upsert_insert(self._session, OutboxRow).values(
            workspace=message.workspace, key=message.key, delivery=message.delivery.value,
            to=message.to, item=message.item, text=message.text,
            card=plain_json(message.card) if message.card is not None else None,
            state=PENDING, attempts=0, last_error="",
        ).on_conflict_do_nothing(index_elements=["workspace", "key"]))

    async def claim(self, limit: int, now: datetime) -> list[Queued]:
        ready = select(_outbox).where(
            OutboxRow.state == PENDING,
            or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now),
        ).order_by(OutboxRow.id).limit(limit)
        if dialect_of(self._session) == "postgresql":
            ready = ready.with_for_update(skip_locked=True)
        rows = (await self._session.execute(ready)).all()
        if rows:
            await self._session.execute(update(OutboxRow).where(
                OutboxRow.id.in_([r.id for r in rows])).values(next_attempt_at=now + self._lease))
        return [_queued(r) for r in rows]

    async def sent(self, message_id: int, now: datetime) -> None:
        await self._session.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(
            state=SENT, sent_at=now, attempts=OutboxRow.attempts + 1, next_attempt_at=None))

    async def failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        await self._session.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(
            state=PENDING if retry_at is not None else PARKED, last_error=error,
            attempts=OutboxRow.attempts + 1, next_attempt_at=retry_at))


def _queued(row: Row[Any]) -> Queued:
    message = Outgoing(row.workspace, Delivery(row.delivery), row.to, row.text, row.key,
                       row.item, row.card)
    return Queued(row.id, message, row.attempts)
