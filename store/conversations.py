"""Conversations a surface may post in later (the Conversations port), one short transaction a
call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, select

from bot.conversations import Conversation, Conversations
from bot.ports import Clock
from store.sql import upsert_insert
from store.tables import ConversationRow
from store.uow import Database, SqlUnitOfWork

_rows = ConversationRow.__table__  # rows, not ORM objects: the sessions here are Core-only


def _conversation(row: Row[Any]) -> Conversation:
    return Conversation(row.surface, row.id, row.kind, dict(row.reference or {}), row.account,
                        row.tenant, row.team)


class SqlConversations(Conversations):
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def keep(self, conversation: Conversation) -> None:
        values: dict[str, Any] = {
            "kind": conversation.kind[:32], "account": conversation.account[:255],
            "tenant": conversation.tenant[:64], "team": conversation.team[:255],
            "reference": dict(conversation.reference), "updated_at": self._clock.now()}

        async def write(uow: SqlUnitOfWork) -> None:
            insert = upsert_insert(uow.session, ConversationRow).values(
                surface=conversation.surface, id=conversation.id[:255], **values)
            await uow.session.execute(insert.on_conflict_do_update(
                index_elements=["surface", "id"], set_=values))
            await uow.commit()

        await self._database.write(write)

    async def get(self, surface: str, conversation_id: str) -> Conversation | None:
        return await self._one(select(_rows).where(
            _rows.c.surface == surface, _rows.c.id == conversation_id))

    async def personal(self, surface: str, account: str) -> Conversation | None:
        return await self._one(select(_rows).where(
            _rows.c.surface == surface, _rows.c.account == account,
            _rows.c.kind == "personal").order_by(_rows.c.updated_at.desc()))

    async def latest(self, surface: str, tenant: str = "") -> Conversation | None:
        query = select(_rows).where(_rows.c.surface == surface)
        if tenant:
            query = query.where(_rows.c.tenant == tenant)
        return await self._one(query.order_by(_rows.c.updated_at.desc()))

    async def forget(self, surface: str, conversation_id: str) -> None:
        async def write(uow: SqlUnitOfWork) -> None:
            await uow.session.execute(delete(ConversationRow).where(
                ConversationRow.surface == surface, ConversationRow.id == conversation_id))
            await uow.commit()

        await self._database.write(write)

    async def _one(self, query: Any) -> Conversation | None:
        async def read(uow: SqlUnitOfWork) -> Sequence[Row[Any]]:
            return (await uow.session.execute(query.limit(1))).all()

        rows = await self._database.read(read)
        return _conversation(rows[0]) if rows else None
