"""Follow-up claims: a row per reminder, breach, escalation step, nudge or scheduled digest."""

from __future__ import annotations

from bot.ports import Claim, ConcurrentChange, Followups
from store.held import Held
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
    insert nothing; SQLite has one writer at a time. Either way exactly one gets the row.

    A claim about an item this transaction holds, whose claims it has read (the sweep's,
    store.held), is answered from those and inserted with the others in one statement before
    the commit."""

    def __init__(self, session: SqlSession, held: Held | None = None) -> None:
        self._session = session
        self._held = held or Held()
        self._queued: list[dict[str, object]] = []

    async def claim(self, claim: Claim) -> bool:
        row = {"workspace": claim.workspace, "item": claim.item, "target": claim.target,
               "step": claim.step, "kind": claim.kind, "team": claim.team, "at": claim.at}
        stored = self._held.claims.get((claim.workspace, claim.item))
        if stored is not None:
            if (claim.target, claim.step) in stored:
                return False
            stored.add((claim.target, claim.step))
            self._queued.append(row)
            return True
        inserted = await self._session.execute(_CLAIM[dialect_of(self._session)], row)
        return inserted.first() is not None

    async def flush(self) -> None:
        """Insert the claims held back, in one statement."""
        if not self._queued:
            return
        rows, self._queued = self._queued, []
        inserted = (await self._session.execute(_CLAIM[dialect_of(self._session)], rows)).all()
        if len(inserted) != len(rows):  # cannot happen while their items are held
            raise ConcurrentChange(f"{len(rows) - len(inserted)} follow-up(s) claimed meanwhile")

    def forget(self) -> None:
        self._queued.clear()
