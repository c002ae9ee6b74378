"""Where each surface posted an item's card, so a change updates every copy in place."""

from __future__ import annotations

from sqlalchemy import select

from bot.ports import CardPost, CardPosts
from store.session import SqlSession
from store.sql import dialect_of, insert_ignoring
from store.tables import Base, CardPostRow

_posts = CardPostRow.__table__  # rows, not ORM objects: every session here is Core-only
_ADD = insert_ignoring(Base.metadata.tables[CardPostRow.__tablename__],
                       ["workspace", "item", "surface", "channel", "ref"])


class SqlCardPosts(CardPosts):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def add(self, post: CardPost) -> None:
        await self._session.execute(_ADD[dialect_of(self._session)], {
            "workspace": post.workspace, "item": post.item, "surface": post.surface,
            "channel": post.channel, "ref": post.ref})

    async def of_item(self, workspace: str, item: int, surface: str) -> list[CardPost]:
        rows = await self._session.execute(select(_posts).where(
            _posts.c.workspace == workspace, _posts.c.item == item,
            _posts.c.surface == surface).order_by(_posts.c.id))
        return [CardPost(r.workspace, r.item, r.surface, r.channel, r.ref) for r in rows]
