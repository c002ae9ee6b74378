"""The API's records (bot.clients): tokens, the requests that raised items, webhook
subscriptions, and cheap reads of items. Each call is one short transaction of its own: reads
on the database's readers (on SQLite they neither take nor wait for the write lock), writes on
its writer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.clients import (
    ApiRequest,
    ApiRequests,
    Client,
    Clients,
    ItemIndex,
    ItemRead,
    Mark,
    PageQuery,
    Receipt,
    Receipts,
    Scope,
    Subscription,
    Subscriptions,
)
from bot.events import Event
from bot.items import Item, State
from store.events import as_event
from store.sql import dialect_of, insert_ignoring
from store.tables import (
    ApiRequestRow,
    ApiTokenRow,
    Base,
    EventRow,
    ItemRow,
    WebhookReceiptRow,
    WebhookRow,
)
from store.uow import Database, SqlUnitOfWork


async def _rows(db: Database, statement: Executable) -> Sequence[Any]:
    """The rows a read-only statement returns."""

    async def work(uow: SqlUnitOfWork) -> Sequence[Any]:
        return (await uow.session.execute(statement)).all()

    return await db.read(work)


async def _written(db: Database, statement: Executable, *,
                   returning: bool = False) -> Sequence[Any]:
    """Run one writing statement and commit; with `returning`, the rows it returns."""

    async def work(uow: SqlUnitOfWork) -> Sequence[Any]:
        result = await uow.session.execute(statement)
        rows = result.all() if returning else []
        await uow.commit()
        return rows

    return await db.write(work)


def _client(row: Any) -> Client:
    return Client(
        id=row.id, name=row.name, team=row.team,
        scopes=frozenset(Scope(s) for s in row.scopes if s in Scope._value2member_map_),
        owner=row.owner, prefix=row.prefix, created_at=row.created_at,
        last_used_at=row.last_used_at, revoked_at=row.revoked_at,
        signing_secret=row.signing_secret)


class SqlClients(Clients):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, client: Client, token_hash: str) -> Client:
        rows = await _written(self._db, insert(ApiTokenRow).values(
            name=client.name, team=client.team, scopes=sorted(client.scopes),
            owner=client.owner, token_hash=token_hash, prefix=client.prefix,
            signing_secret=client.signing_secret, created_at=client.created_at,
        ).returning(ApiTokenRow.id), returning=True)
        new_id = rows[0].id
        return Client(new_id, client.name, client.team, client.scopes, client.owner,
                      client.prefix, client.created_at, signing_secret=client.signing_secret)

    async def by_hash(self, token_hash: str) -> Client | None:
        rows = await _rows(self._db, select(ApiTokenRow.__table__).where(
            ApiTokenRow.token_hash == token_hash, ApiTokenRow.revoked_at.is_(None)))
        return _client(rows[0]) if rows else None

    async def listed(self) -> list[Client]:
        rows = await _rows(self._db, select(ApiTokenRow.__table__).order_by(ApiTokenRow.id))
        return [_client(r) for r in rows]

    async def revoke(self, ref: str, now: datetime) -> list[Client]:
        which = [ApiTokenRow.name == ref, ApiTokenRow.prefix == ref]
        if ref.isdecimal():
            which.append(ApiTokenRow.id == int(ref))
        rows = await _written(self._db, update(ApiTokenRow).where(
            or_(*which), ApiTokenRow.revoked_at.is_(None)).values(revoked_at=now)
            .returning(*ApiTokenRow.__table__.c), returning=True)
        return [_client(r) for r in rows]

    async def used(self, client_id: int, now: datetime) -> None:
        await _written(self._db, update(ApiTokenRow).where(ApiTokenRow.id == client_id)
                       .values(last_used_at=now))


def _request(row: Any) -> ApiRequest:
    return ApiRequest(
        id=row.id, client_id=row.client_id, workspace=row.workspace, body_hash=row.body_hash,
        created_at=row.created_at, key=row.idem_key, item=row.item, status=row.status,
        metadata=row.meta, links=tuple(row.links or ()), callback_url=row.callback_url)


class SqlApiRequests(ApiRequests):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def begin(self, request: ApiRequest, forget_keys_before: datetime) -> ApiRequest:
        if request.key is not None:
            found = await self._keyed(request.client_id, request.key)
            if found is not None and found.created_at >= forget_keys_before:
                return found

        async def record(uow: SqlUnitOfWork) -> None:
            if request.key is not None:  # a key recorded long ago is free for this request
                await uow.session.execute(update(ApiRequestRow).where(
                    ApiRequestRow.client_id == request.client_id,
                    ApiRequestRow.idem_key == request.key,
                    ApiRequestRow.created_at < forget_keys_before).values(idem_key=None))
            await uow.session.execute(insert(ApiRequestRow).values(
                id=request.id, client_id=request.client_id, workspace=request.workspace,
                idem_key=request.key, body_hash=request.body_hash, item=None, status=0,
                meta=request.metadata, links=list(request.links),
                callback_url=request.callback_url, created_at=request.created_at))
            await uow.commit()

        try:
            await self._db.write(record)
        except IntegrityError:
            # The same key, recorded meanwhile by a concurrent request: answer with it.
            assert request.key is not None
            found = await self._keyed(request.client_id, request.key)
            if found is None:
                raise
            return found
        return request

    async def _keyed(self, client_id: int, key: str) -> ApiRequest | None:
        rows = await _rows(self._db, select(ApiRequestRow.__table__).where(
            ApiRequestRow.client_id == client_id, ApiRequestRow.idem_key == key))
        return _request(rows[0]) if rows else None

    async def finish(self, request_id: str, item: int, status: int) -> None:
        await _written(self._db, update(ApiRequestRow).where(
            ApiRequestRow.id == request_id).values(item=item, status=status))

    async def drop(self, request_id: str) -> None:
        await _written(self._db, delete(ApiRequestRow).where(
            ApiRequestRow.id == request_id, ApiRequestRow.item.is_(None)))

    async def of_item(self, workspace: str, request_id: str) -> ApiRequest | None:
        rows = await _rows(self._db, select(ApiRequestRow.__table__).where(
            ApiRequestRow.id == request_id, ApiRequestRow.workspace == workspace))
        return _request(rows[0]) if rows else None

    async def item_raised_by(self, workspace: str, request_id: str) -> int | None:
        rows = await _rows(self._db, select(ItemRow.number).where(
            ItemRow.workspace == workspace, ItemRow.source_surface == "api",
            ItemRow.source_message == request_id))
        return int(rows[0].number) if rows else None


def _subscription(row: Any) -> Subscription:
    return Subscription(row.id, row.client_id, row.url, row.workspace, row.item, row.created_at)


class SqlSubscriptions(Subscriptions):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, subscription: Subscription) -> Subscription:
        rows = await _written(self._db, insert(WebhookRow).values(
            client_id=subscription.client_id, workspace=subscription.workspace,
            item=subscription.item, url=subscription.url,
            created_at=subscription.created_at).returning(WebhookRow.id), returning=True)
        new_id = rows[0].id
        return Subscription(new_id, subscription.client_id, subscription.url,
                            subscription.workspace, subscription.item, subscription.created_at)

    async def of_client(self, client_id: int) -> list[Subscription]:
        rows = await _rows(self._db, select(WebhookRow.__table__).where(
            WebhookRow.client_id == client_id).order_by(WebhookRow.id))
        return [_subscription(r) for r in rows]

    async def remove(self, client_id: int, subscription_id: int) -> bool:
        rows = await _written(self._db, delete(WebhookRow).where(
            WebhookRow.client_id == client_id, WebhookRow.id == subscription_id
        ).returning(WebhookRow.id), returning=True)
        return bool(rows)

    async def for_item(self, workspace: str, item: int, team: str,
                       request_id: str | None) -> list[tuple[Subscription, Client]]:
        tokens = ApiTokenRow.__table__
        raised_by = select(ApiRequestRow.client_id).where(ApiRequestRow.id == request_id) \
            .scalar_subquery() if request_id else None
        whose = [ApiTokenRow.team == team]
        if raised_by is not None:
            whose.append(ApiTokenRow.id == raised_by)
        rows = await _rows(self._db, select(
            WebhookRow.__table__, *[c.label(f"t_{c.name}") for c in tokens.c])
            .join(tokens, tokens.c.id == WebhookRow.client_id)
            .where(WebhookRow.workspace == workspace, tokens.c.revoked_at.is_(None),
                   or_(WebhookRow.item == item, WebhookRow.item.is_(None) & or_(*whose)))
            .order_by(WebhookRow.id))
        extra = None
        if request_id:
            given = await _rows(self._db, select(ApiRequestRow.callback_url, *tokens.c)
                                .join(tokens, tokens.c.id == ApiRequestRow.client_id)
                                .where(ApiRequestRow.id == request_id,
                                       tokens.c.revoked_at.is_(None),
                                       ApiRequestRow.callback_url.is_not(None)))
            extra = given[0] if given else None
        found = [(_subscription(r), _client(_Prefixed(r, "t_"))) for r in rows]
        if extra is not None:  # the callback given when the item was raised
            found.append((Subscription(0, extra.id, extra.callback_url, workspace, item),
                          _client(extra)))
        return found


class _Prefixed:
    """A row's columns read under a prefix (the token's, joined beside a webhook's)."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


class SqlItemIndex(ItemIndex):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def marks(self, workspace: str, numbers: list[int]) -> dict[int, Mark]:
        if not numbers:
            return {}
        rows = await _rows(self._db, select(ItemRow.number, ItemRow.state, ItemRow.version)
                           .where(ItemRow.workspace == workspace, ItemRow.number.in_(numbers)))
        return {r.number: Mark(State(r.state), r.version) for r in rows}

    async def page(self, workspace: str, query: PageQuery) -> list[int]:
        stmt = select(ItemRow.number).where(
            ItemRow.workspace == workspace, ItemRow.number > query.after,
            or_(ItemRow.team == query.team, ItemRow.source_via == query.client),
            ItemRow.state.in_([s.value for s in query.states]))
        if query.kind is not None:
            stmt = stmt.where(ItemRow.kind == query.kind)
        if query.updated_since is not None:
            stmt = stmt.where(ItemRow.updated_at >= query.updated_since)
        rows = await _rows(self._db, stmt.order_by(ItemRow.number).limit(query.limit))
        return [int(r.number) for r in rows]

    async def items(self, workspace: str, numbers: list[int]) -> list[ItemRead]:
        async def work(uow: SqlUnitOfWork) -> list[ItemRead]:
            found = [await uow.items.get(workspace, n) for n in numbers]
            items = [i for i in found if i is not None]
            raised = await _raised(uow, workspace, items)
            return [ItemRead(i, raised.get(i.source.message)) for i in items]

        return await self._db.read(work)

    async def item(self, workspace: str, number: int, *,
                   trail: bool = False) -> ItemRead | None:
        async def work(uow: SqlUnitOfWork) -> ItemRead | None:
            item = await uow.items.get(workspace, number)
            if item is None:
                return None
            events = await uow.events.for_item(workspace, number) if trail else None
            raised = await _raised(uow, workspace, [item])
            return ItemRead(item, raised.get(item.source.message), events)

        return await self._db.read(work)

    async def change(self, workspace: str, number: int,
                     seq: int) -> tuple[ItemRead, Event] | None:
        async def work(uow: SqlUnitOfWork) -> tuple[ItemRead, Event] | None:
            item = await uow.items.get(workspace, number)
            if item is None:
                return None
            row = (await uow.session.execute(select(EventRow.__table__).where(
                EventRow.workspace == workspace, EventRow.seq == seq,
                EventRow.item == number))).one_or_none()
            if row is None:
                return None
            raised = await _raised(uow, workspace, [item])
            return ItemRead(item, raised.get(item.source.message)), as_event(row)

        return await self._db.read(work)


_KEEP = insert_ignoring(Base.metadata.tables[WebhookReceiptRow.__tablename__],
                        ["webhook_id", "receiver"])


class SqlReceipts(Receipts):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def of(self, webhook_ids: list[str]) -> dict[tuple[str, str], Receipt]:
        if not webhook_ids:
            return {}
        rows = await _rows(self._db, select(WebhookReceiptRow.__table__).where(
            WebhookReceiptRow.webhook_id.in_(webhook_ids)))
        return {(r.webhook_id, r.receiver): Receipt(r.webhook_id, r.receiver, r.status, r.at,
                                                    r.refused) for r in rows}

    async def keep(self, receipt: Receipt) -> None:
        async def work(uow: SqlUnitOfWork) -> None:
            await uow.session.execute(_KEEP[dialect_of(uow.session)], {
                "webhook_id": receipt.webhook_id, "receiver": receipt.receiver,
                "status": receipt.status, "refused": receipt.refused, "at": receipt.at})
            await uow.commit()

        await self._db.write(work)


async def _raised(uow: SqlUnitOfWork, workspace: str,
                  items: list[Item]) -> dict[str, ApiRequest]:
    """The API requests that raised these items, by id (their source message)."""
    ids = [i.source.message for i in items if i.source.surface == "api" and i.source.message]
    if not ids:
        return {}
    rows = (await uow.session.execute(select(ApiRequestRow.__table__).where(
        ApiRequestRow.workspace == workspace, ApiRequestRow.id.in_(ids)))).all()
    return {r.id: _request(r) for r in rows}
