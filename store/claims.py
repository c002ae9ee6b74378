"""Follow-up claims: a row per reminder, breach, escalation step, nudge or scheduled digest."""

from __future__ import annotations

from bot.ports import Claim, Followups
from store.session import SqlSession
from store.sql import dialect_of, insert_ignoring
from store.tables import Base, FollowupRow

_followups = Base.metadata.tables[FollowupRow.__tablename__]
_KEY = ["workspace", "item", "target", "step"]
# Built once per dialect and run with bound parameters: the sweep claims every rung it climbs.
_CLAIM = insert_ignoring(_followups, _KEY, returning=_followups.c.id)


class SqlFollowups(Followups):
    """INSERT … ON CONFLICT DO NOTHING on the unique (workspace, item, target, step): of two
    transactions racing for one step, PostgreSQL makes the second wait for the first and then
    insert nothing; SQLite has one writer at a time. Either way exactly one gets the row."""

    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def claim(self, claim: Claim) -> bool:
        inserted = await self._session.execute(_CLAIM[dialect_of(self._session)], {
            "workspace": claim.workspace, "item": claim.item, "target": claim.target,
            "step": claim.step, "kind": claim.kind, "team": claim.team, "at": claim.at})
        return inserted.first() is not None
