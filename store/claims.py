"""Follow-up claims: a row per reminder, breach, escalation step, nudge or scheduled digest."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.ports import Claim, Followups
from store.sql import upsert_insert
from store.tables import FollowupRow


class SqlFollowups(Followups):
    """INSERT … ON CONFLICT DO NOTHING on the unique (workspace, item, target, step): of two
    transactions racing for one step, PostgreSQL makes the second wait for the first and then
    insert nothing; SQLite has one writer at a time. Either way exactly one gets the row."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, claim: Claim) -> bool:
        inserted = await self._session.execute(
            upsert_insert(self._session, FollowupRow).values(
                workspace=claim.workspace, item=claim.item, target=claim.target,
                step=claim.step, kind=claim.kind, team=claim.team, at=claim.at,
            ).on_conflict_do_nothing(index_elements=["workspace", "item", "target", "step"])
            .returning(FollowupRow.id))
        return inserted.first() is not None
