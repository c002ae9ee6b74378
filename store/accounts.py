"""Surface accounts matched to people (the core's Accounts port), one short transaction a call."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select

from bot.people import Identity
from bot.ports import Accounts
from store.sql import upsert_insert
from store.tables import AccountRow
from store.uow import Database, SqlUnitOfWork


class SqlAccounts(Accounts):
    def __init__(self, database: Database) -> None:
        self._database = database

    async def all(self) -> list[tuple[Identity, str]]:
        async def read(uow: SqlUnitOfWork) -> Sequence[AccountRow]:
            return (await uow.session.execute(select(AccountRow))).scalars().all()

        rows = await self._database.read(read)
        return [(Identity(r.surface, r.account, r.name, r.email, r.time_zone), r.person)
                for r in rows]

    async def find(self, identity: Identity) -> str | None:
        same = (AccountRow.surface == identity.surface) & \
            (AccountRow.account == identity.id)
        wanted = or_(same, AccountRow.email == identity.email.lower()) if identity.email \
            else same

        async def read(uow: SqlUnitOfWork) -> Sequence[AccountRow]:
            return (await uow.session.execute(select(AccountRow).where(wanted))).scalars().all()

        rows = await self._database.read(read)
        mine = next((r for r in rows if r.surface == identity.surface
                     and r.account == identity.id), None)
        chosen = mine or (rows[0] if rows else None)
        return chosen.person if chosen else None

    async def add(self, identity: Identity, person: str) -> None:
        async def write(uow: SqlUnitOfWork) -> None:
            insert = upsert_insert(uow.session, AccountRow).values(
                surface=identity.surface, account=identity.id, person=person,
                name=identity.name[:255], email=identity.email.lower()[:255],
                time_zone=identity.time_zone[:64])
            await uow.session.execute(insert.on_conflict_do_nothing(
                index_elements=["surface", "account"]))
            await uow.commit()

        await self._database.write(write)
