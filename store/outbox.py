"""Messages written with the change that caused them, delivered later with retries.

A message the core writes is kept once for every surface that delivers it (one row each, its
key `<message key>@<surface>`), so each surface's delivery is retried, paced and recorded on its
own: an outage on one platform never delays or doubles another's. A surface may take only some
audiences (bot.delivery.Delivering): a message to another audience gets no row for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from bot.delivery import EVERY_MESSAGE, Delivering, OutboxStats, Queued
from bot.messages import AFTER_THE_CARD, Audience, Outgoing
from bot.ports import Outbox
from bot.rich import Rich
from store.session import SqlSession
from store.sql import dialect_of, insert_ignoring
from store.tables import Base, OutboxRow, unposted_card

PENDING, SENT, PARKED, SKIPPED = "pending", "sent", "parked", "skipped"
LEASE = timedelta(minutes=5)

_outbox = OutboxRow.__table__
_table = Base.metadata.tables[OutboxRow.__tablename__]  # the same, typed as a Table
# Built once per dialect, run with bound parameters: every command queues several messages.
_PUT = insert_ignoring(_table, ["workspace", "key"])
# An item's thread lines and card updates on a surface wait while its card is still to be
# posted there (queued before them, not yet sent or parked): in the table, so restarts and
# replicas keep the order.
_card = aliased(OutboxRow, name="card")
_NOT_BEHIND_A_CARD = or_(
    OutboxRow.item.is_(None),
    OutboxRow.delivery.not_in([d.value for d in AFTER_THE_CARD]),
    ~exists().where(_card.workspace == OutboxRow.workspace, _card.surface == OutboxRow.surface,
                    _card.item == OutboxRow.item, _card.id < OutboxRow.id,
                    unposted_card(_card)))


def _ready(now: datetime, unordered: Sequence[str] = ()) -> ColumnElement[bool]:
    """A pending row a claim takes at `now`: due, and not behind its item's unposted card
    (on a surface whose messages keep no order, nothing waits for a card)."""
    due = or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now)
    if unordered:
        return and_(due, or_(OutboxRow.surface.in_(unordered), _NOT_BEHIND_A_CARD))
    return and_(due, _NOT_BEHIND_A_CARD)


Surfaces = Mapping[str, Delivering] | Sequence[str]


def delivering(surfaces: Surfaces) -> dict[str, Delivering]:
    """Each delivering surface and what it takes; surfaces given by name take everything."""
    if isinstance(surfaces, Mapping):
        return dict(surfaces) or {"": EVERY_MESSAGE}
    return {surface: EVERY_MESSAGE for surface in surfaces} or {"": EVERY_MESSAGE}


_SENT = update(_table).where(_outbox.c.id == bindparam("message")).values(
    state=SENT, sent_at=bindparam("now"), attempts=_outbox.c.attempts + 1,
    next_attempt_at=None, claimed_by=None)
_POSTPONE = update(_table).where(
    _outbox.c.id.in_(bindparam("messages", expanding=True)), _outbox.c.state == PENDING,
).values(next_attempt_at=bindparam("until"), claimed_by=None)


def row_key(key: str, surface: str) -> str:
    return f"{key}@{surface}" if surface else key


def _message_key(row: Row[Any]) -> str:
    key, surface = str(row.key), str(row.surface)
    suffix = f"@{surface}"
    return key[:-len(suffix)] if surface and key.endswith(suffix) else key


class SqlOutbox(Outbox):
    """The outbox in one unit of work: `put` for the core, and what the delivery queue and
    operators do with its rows. A lease hides what it returns for its length: a row reappears
    only if neither `sent` nor `failed` is recorded by then, so a deliverer may commit the lease
    and deliver outside the transaction without another replica taking the same messages.
    """

    def __init__(self, session: SqlSession, surfaces: Surfaces = ("",),
                 lease: timedelta = LEASE) -> None:
        self._session = session
        self._surfaces = delivering(surfaces)
        self._unordered = tuple(s for s, takes in self._surfaces.items() if not takes.ordered)
        self._lease = lease
        self._queued: list[dict[str, Any]] = []

    async def put(self, message: Outgoing) -> None:
        """Queued here, once for each delivering surface that takes its audience, and inserted
        with the others at `flush` (before the commit, or before anything else this outbox
        does): a command puts several, a sweep hundreds."""
        row = {"workspace": message.workspace, "delivery": message.audience.value,
               "to": message.to, "item": message.item,
               "text": json.dumps(message.text.to_json(), ensure_ascii=False),
               "card": message.card,  # written as plain JSON (store.sql.json_text)
               "attachment": message.attachment, "state": PENDING, "attempts": 0,
               "last_error": "", "action": message.action, "origin": message.origin,
               "event": message.event}
        self._queued += [{**row, "surface": surface, "key": row_key(message.key, surface)}
                         for surface, takes in self._surfaces.items()
                         if message.audience in takes.audiences]

    async def flush(self) -> None:
        """Insert the messages put since the last flush, in put order (which is id order:
        an item's card goes before its thread lines), one statement for all."""
        if self._queued:
            rows, self._queued = self._queued, []
            await self._session.execute(_PUT[dialect_of(self._session)], rows)

    def forget(self) -> None:
        self._queued.clear()

    async def claim(self, limit: int, now: datetime) -> list[Queued]:
        """Ready messages of every surface, leased for the default lease, naming no worker."""
        return await self.lease(limit, now, None, self._lease)

    async def sent(self, message_id: int, now: datetime) -> None:
        await self.flush()
        await self._session.execute(_SENT, {"message": message_id, "now": now})

    async def sent_all(self, message_ids: Sequence[int], now: datetime) -> None:
        """Several delivered at once: one statement, executed for each."""
        await self.flush()
        await self._session.execute(_SENT, [{"message": m, "now": now} for m in message_ids])

    async def skipped(self, message_id: int, reason: str, now: datetime) -> None:
        await self.flush()
        await self._session.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(
            state=SKIPPED, last_error=reason[:2000], sent_at=now, next_attempt_at=None,
            claimed_by=None))

    async def failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        await self.flush()
        await self._session.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(
            state=PENDING if retry_at is not None else PARKED, last_error=error,
            attempts=OutboxRow.attempts + 1, next_attempt_at=retry_at, claimed_by=None))

    async def lease(self, limit: int, now: datetime, worker: str | None, lease: timedelta,
                    surfaces: Sequence[str] | None = None) -> list[Queued]:
        """Ready rows of these surfaces (all, with None), hidden from other claimants until
        `lease` runs out. A `worker` is recorded, so a row it leased before is known to have
        been possibly delivered."""
        await self.flush()
        ready = select(_outbox).where(OutboxRow.state == PENDING, _ready(now, self._unordered))
        if surfaces is not None:
            ready = ready.where(OutboxRow.surface.in_([*surfaces, ""]))
        ready = ready.order_by(OutboxRow.id).limit(limit)
        if dialect_of(self._session) == "postgresql":
            ready = ready.with_for_update(skip_locked=True)
        rows = (await self._session.execute(ready)).all()
        if rows:
            taken: dict[str, object] = {"next_attempt_at": now + lease}
            if worker is not None:
                taken["claimed_by"] = worker
            await self._session.execute(update(OutboxRow).where(
                OutboxRow.id.in_([r.id for r in rows])).values(**taken))
        return [_queued(r, uncertain=worker is not None and r.claimed_by is not None)
                for r in rows]

    async def postpone(self, message_ids: Sequence[int], until: datetime) -> None:
        await self.flush()
        if message_ids:
            await self._session.execute(_POSTPONE, {"messages": list(message_ids),
                                                    "until": until})

    async def release(self, worker: str, now: datetime) -> int:
        await self.flush()
        # claimed_by stays set: the next claim sees the outcome of the last attempt is unknown.
        result = await self._session.execute(update(OutboxRow).where(
            OutboxRow.state == PENDING, OutboxRow.claimed_by == worker,
        ).values(next_attempt_at=now).returning(OutboxRow.id))
        return len(result.all())

    async def stats(self, now: datetime) -> OutboxStats:
        await self.flush()
        ready = _ready(now, self._unordered)  # as a claim sees it
        pending = (await self._session.execute(select(
            func.count(), func.count().filter(ready), func.min(OutboxRow.created_at).filter(ready),
        ).where(OutboxRow.state == PENDING))).one()
        parked = (await self._session.execute(select(func.count()).where(
            OutboxRow.state == PARKED))).scalar_one()
        oldest = pending[2]
        if oldest is not None and oldest.tzinfo is None:  # func.min bypasses UTCDateTime
            oldest = oldest.replace(tzinfo=now.tzinfo)
        age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        return OutboxStats(pending[0], pending[1], parked, age)

    async def outcomes(self, key: str) -> list[tuple[str, str, str]]:
        """Each surface's row of one message: surface, state, last error."""
        await self.flush()
        keys = [row_key(key, surface) for surface in self._surfaces]
        stmt = select(OutboxRow.surface, OutboxRow.state, OutboxRow.last_error).where(
            OutboxRow.key.in_(keys)).order_by(OutboxRow.id)
        return [(str(s), str(state), str(e or "")) for s, state, e in
                (await self._session.execute(stmt)).all()]

    # --- for operators (`baton outbox list|retry`), not a core port ------------------------

    async def rows(self, state: str | None, limit: int) -> list[OutboxEntry]:
        """Messages newest first, of one state or all."""
        await self.flush()
        stmt = select(_outbox).order_by(OutboxRow.id.desc()).limit(limit)
        if state is not None:
            stmt = stmt.where(OutboxRow.state == state)
        return [_entry(r) for r in (await self._session.execute(stmt)).all()]

    async def retry(self, ids: Sequence[int] | None, now: datetime) -> int:
        """Parked messages (these ids, or all) back to pending with a fresh count."""
        await self.flush()
        stmt = update(OutboxRow).where(OutboxRow.state == PARKED)
        if ids is not None:
            stmt = stmt.where(OutboxRow.id.in_(list(ids)))
        result = await self._session.execute(stmt.values(
            state=PENDING, attempts=0, next_attempt_at=now, claimed_by=None,
        ).returning(OutboxRow.id))
        return len(result.all())


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox row as an operator sees it."""

    id: int
    workspace: str
    key: str
    surface: str
    delivery: str
    to: str
    item: int | None
    text: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    created_at: datetime
    sent_at: datetime | None


def _rich(stored: str) -> Rich:
    """Rich text as stored (JSON parts), or plain text written before it was."""
    if stored.startswith("["):
        try:
            return Rich.from_json(json.loads(stored))
        except (ValueError, TypeError, IndexError, KeyError):
            pass
    return Rich.from_json(stored)


def _entry(row: Row[Any]) -> OutboxEntry:
    return OutboxEntry(row.id, row.workspace, _message_key(row), row.surface, row.delivery,
                       row.to, row.item, str(_rich(row.text)), row.state, row.attempts,
                       row.next_attempt_at, row.last_error, row.created_at, row.sent_at)


#: What rows written before messages named their audience said instead.
_LEGACY = {"dm": Audience.PERSON, "channel": Audience.TEAM}


def _queued(row: Row[Any], *, uncertain: bool = False) -> Queued:
    audience = _LEGACY.get(row.delivery) or Audience(row.delivery)
    message = Outgoing(row.workspace, audience, row.to, _rich(row.text), _message_key(row),
                       row.item, row.card, row.attachment, row.action or "", row.origin or "",
                       row.event)
    return Queued(row.id, row.surface, message, row.attempts, uncertain)
