"""Platform deliveries acted on, recorded in the transaction of what they did."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, update

from bot.ports import Deliveries
from store.session import SqlSession
from store.sql import dialect_of, insert_ignoring
from store.tables import Base, SeenKeyRow

_seen = Base.metadata.tables[SeenKeyRow.__tablename__]
# Built once per dialect, run with bound parameters: commands from Slack record one each.
_RECORD = insert_ignoring(_seen, ["key"], returning=_seen.c.key)
# A key seen before is taken over only if that sighting has expired.
_RENEW = update(_seen).where(_seen.c.key == bindparam("k"),
                             _seen.c.expires_at <= bindparam("now")) \
    .values(expires_at=bindparam("until")).returning(_seen.c.key)


class SqlDeliveries(Deliveries):
    """Keys in `seen_keys`, written in the caller's transaction. Of two transactions racing
    with one key, PostgreSQL makes the second wait for the first and then insert nothing;
    SQLite has one writer at a time."""

    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def first_time(self, key: str, now: datetime, ttl: timedelta) -> bool:
        inserted = await self._session.execute(_RECORD[dialect_of(self._session)],
                                               {"key": key, "expires_at": now + ttl})
        if inserted.first() is not None:
            return True
        renewed = await self._session.execute(_RENEW, {"k": key, "now": now,
                                                       "until": now + ttl})
        return renewed.first() is not None
