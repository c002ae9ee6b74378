"""People's out-of-office periods and their delegates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, select

from bot.items import Absence
from bot.ports import Absences
from store.session import SqlSession
from store.sql import upsert_insert
from store.tables import AbsenceRow

_absences = AbsenceRow.__table__
_OF_WORKSPACE = select(_absences).where(_absences.c.workspace == bindparam("ws"))


class SqlAbsences(Absences):
    """A workspace's absences are read once per transaction, all of them: there are few at
    any time, and a command asks after several people (the actor, whom they hand to, whom
    that notifies), each of which would otherwise be a statement."""

    def __init__(self, session: SqlSession) -> None:
        self._session = session
        self._read: dict[str, dict[str, Absence]] = {}

    def forget(self) -> None:
        self._read.clear()

    async def _of(self, workspace: str) -> dict[str, Absence]:
        found = self._read.get(workspace)
        if found is None:
            rows = await self._session.execute(_OF_WORKSPACE, {"ws": workspace})
            found = self._read[workspace] = {r.person: _absence(r) for r in rows}
        return found

    async def get(self, workspace: str, person: str) -> Absence | None:
        return (await self._of(workspace)).get(person)

    async def put(self, absence: Absence) -> None:
        stmt = upsert_insert(self._session, AbsenceRow).values(
            workspace=absence.workspace, person=absence.person, since=absence.since,
            until=absence.until, delegate=absence.delegate)
        await self._session.execute(stmt.on_conflict_do_update(
            index_elements=["workspace", "person"],
            set_={"since": stmt.excluded.since, "until": stmt.excluded.until,
                  "delegate": stmt.excluded.delegate}))
        self._read.pop(absence.workspace, None)

    async def remove(self, workspace: str, person: str) -> None:
        await self._session.execute(delete(AbsenceRow).where(
            AbsenceRow.workspace == workspace, AbsenceRow.person == person))
        self._read.pop(workspace, None)

    async def delegating_to(self, workspace: str, delegate: str) -> list[Absence]:
        return sorted((a for a in (await self._of(workspace)).values()
                       if a.delegate == delegate), key=lambda a: a.person)

    async def ending_by(self, now: datetime) -> list[Absence]:
        rows = await self._session.execute(select(_absences).where(
            AbsenceRow.until.is_not(None), AbsenceRow.until <= now,
        ).order_by(AbsenceRow.until, AbsenceRow.workspace, AbsenceRow.person))
        return [_absence(r) for r in rows]


def _absence(row: Row[Any]) -> Absence:
    return Absence(row.workspace, row.person, row.since, row.until, row.delegate)
