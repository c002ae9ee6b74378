"""People's out-of-office periods and their delegates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select

from bot.items import Absence
from bot.ports import Absences
from store.session import SqlSession
from store.sql import upsert_insert
from store.tables import AbsenceRow

_absences = AbsenceRow.__table__


class SqlAbsences(Absences):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def get(self, workspace: str, person: str) -> Absence | None:
        row = (await self._session.execute(select(_absences).where(
            AbsenceRow.workspace == workspace, AbsenceRow.person == person))).one_or_none()
        return _absence(row) if row else None

    async def put(self, absence: Absence) -> None:
        stmt = upsert_insert(self._session, AbsenceRow).values(
            workspace=absence.workspace, person=absence.person, since=absence.since,
            until=absence.until, delegate=absence.delegate)
        await self._session.execute(stmt.on_conflict_do_update(
            index_elements=["workspace", "person"],
            set_={"since": stmt.excluded.since, "until": stmt.excluded.until,
                  "delegate": stmt.excluded.delegate}))

    async def remove(self, workspace: str, person: str) -> None:
        await self._session.execute(delete(AbsenceRow).where(
            AbsenceRow.workspace == workspace, AbsenceRow.person == person))

    async def delegating_to(self, workspace: str, delegate: str) -> list[Absence]:
        rows = await self._session.execute(select(_absences).where(
            AbsenceRow.workspace == workspace, AbsenceRow.delegate == delegate,
        ).order_by(AbsenceRow.person))
        return [_absence(r) for r in rows]

    async def ending_by(self, now: datetime) -> list[Absence]:
        rows = await self._session.execute(select(_absences).where(
            AbsenceRow.until.is_not(None), AbsenceRow.until <= now,
        ).order_by(AbsenceRow.until, AbsenceRow.workspace, AbsenceRow.person))
        return [_absence(r) for r in rows]


def _absence(row: Row[Any]) -> Absence:
    return Absence(row.workspace, row.person, row.since, row.until, row.delegate)
