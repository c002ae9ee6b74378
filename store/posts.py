"""Where each surface posted an item's card, so a change updates every copy in place."""

from __future__ import annotations

from sqlalchemy import select

from bot.ports import CardPost, CardPosts
from store.session import SqlSession
from store.sql import upsert_insert
from store.tables import CardPostRow

_posts = CardPostRow.__table__  # rows, not ORM objects: every session here is Core-only


class SqlCardPosts(CardPosts):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def add(self, post: CardPost) -> None:
        await self._session.execute(upsert_insert(self._session, CardPostRow).values(
            workspace=post.workspace, item=post.item, surface=post.surface,
            channel=post.channel, ref=post.ref,
        ).on_conflict_do_nothing(
            index_elements=["workspace", "item", "surface", "channel", "ref"]))

    async def of_item(self, workspace: str, item: int, surface: str) -> list[CardPost]:
        rows = await self._session.execute(select(_posts).where(
            _posts.c.workspace == workspace, _posts.c.item == item,
            _posts.c.surface == surface).order_by(_posts.c.id))
        return [CardPost(r.workspace, r.item, r.surface, r.channel, r.ref) for r in rows]
