"""The API's records (bot.clients): tokens, the requests that raised items, webhook
subscriptions, and a cheap read of where items stand. Each call is one short transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.clients import (
    ApiRequest,
    ApiRequests,
    Client,
    Clients,
    ItemIndex,
    Mark,
    PageQuery,
    Scope,
    Subscription,
    Subscriptions,
)
from bot.items import State
from store.tables import ApiRequestRow, ApiTokenRow, ItemRow, WebhookRow
from store.uow import SqlUnitOfWork

UnitOfWorkFactory = Callable[[], SqlUnitOfWork]


def _client(row: Any) -> Client:
    return Client(
        id=row.id, name=row.name, team=row.team,
        scopes=frozenset(Scope(s) for s in row.scopes if s in Scope._value2member_map_),
        owner=row.owner, prefix=row.prefix, created_at=row.created_at,
        last_used_at=row.last_used_at, revoked_at=row.revoked_at,
        signing_secret=row.signing_secret)


class SqlClients(Clients):
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def add(self, client: Client, token_hash: str) -> Client:
        async with self._uow() as uow:
            result = await uow.session.execute(insert(ApiTokenRow).values(
                name=client.name, team=client.team, scopes=sorted(client.scopes),
                owner=client.owner, token_hash=token_hash, prefix=client.prefix,
                signing_secret=client.signing_secret, created_at=client.created_at,
            ).returning(ApiTokenRow.id))
            new_id = result.scalar_one()
            await uow.commit()
        return Client(new_id, client.name, client.team, client.scopes, client.owner,
                      client.prefix, client.created_at, signing_secret=client.signing_secret)

    async def by_hash(self, token_hash: str) -> Client | None:
        async with self._uow() as uow:
            row = (await uow.session.execute(select(ApiTokenRow.__table__).where(
                ApiTokenRow.token_hash == token_hash, ApiTokenRow.revoked_at.is_(None),
            ))).first()
        return _client(row) if row else None

    async def listed(self) -> list[Client]:
        async with self._uow() as uow:
            rows = (await uow.session.execute(
                select(ApiTokenRow.__table__).order_by(ApiTokenRow.id))).all()
        return [_client(r) for r in rows]

    async def revoke(self, ref: str, now: datetime) -> list[Client]:
        which = [ApiTokenRow.name == ref, ApiTokenRow.prefix == ref]
        if ref.isdecimal():
            which.append(ApiTokenRow.id == int(ref))
        async with self._uow() as uow:
            rows = (await uow.session.execute(
                update(ApiTokenRow).where(or_(*which), ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=now).returning(*ApiTokenRow.__table__.c))).all()
            await uow.commit()
        return [_client(r) for r in rows]

    async def used(self, client_id: int, now: datetime) -> None:
        async with self._uow() as uow:
            await uow.session.execute(update(ApiTokenRow).where(ApiTokenRow.id == client_id)
                                      .values(last_used_at=now))
            await uow.commit()


def _request(row: Any) -> ApiRequest:
    return ApiRequest(
        id=row.id, client_id=row.client_id, workspace=row.workspace, body_hash=row.body_hash,
        created_at=row.created_at, key=row.idem_key, item=row.item, status=row.status,
        metadata=row.meta, links=tuple(row.links or ()), callback_url=row.callback_url)


class SqlApiRequests(ApiRequests):
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def begin(self, request: ApiRequest, forget_keys_before: datetime) -> ApiRequest:
        async with self._uow() as uow:
            if request.key is not None:
                found = await self._keyed(uow, request.client_id, request.key)
                if found is not None and found.created_at >= forget_keys_before:
                    return found
                if found is not None:  # an expired key: free it for this request
                    await uow.session.execute(update(ApiRequestRow).where(
                        ApiRequestRow.id == found.id).values(idem_key=None))
            try:
                await uow.session.execute(insert(ApiRequestRow).values(
                    id=request.id, client_id=request.client_id, workspace=request.workspace,
                    idem_key=request.key, body_hash=request.body_hash, item=None, status=0,
                    meta=request.metadata, links=list(request.links),
                    callback_url=request.callback_url, created_at=request.created_at))
                await uow.commit()
            except IntegrityError:
                # The same key, recorded meanwhile by a concurrent request: answer with it.
                await uow.rollback()
                assert request.key is not None
                found = await self._keyed(uow, request.client_id, request.key)
                if found is None:
                    raise
                return found
        return request

    @staticmethod
    async def _keyed(uow: SqlUnitOfWork, client_id: int, key: str) -> ApiRequest | None:
        row = (await uow.session.execute(select(ApiRequestRow.__table__).where(
            ApiRequestRow.client_id == client_id, ApiRequestRow.idem_key == key))).first()
        return _request(row) if row else None

    async def finish(self, request_id: str, item: int, status: int) -> None:
        async with self._uow() as uow:
            await uow.session.execute(update(ApiRequestRow).where(
                ApiRequestRow.id == request_id).values(item=item, status=status))
            await uow.commit()

    async def drop(self, request_id: str) -> None:
        async with self._uow() as uow:
            await uow.session.execute(delete(ApiRequestRow).where(
                ApiRequestRow.id == request_id, ApiRequestRow.item.is_(None)))
            await uow.commit()

    async def of_item(self, workspace: str, request_id: str) -> ApiRequest | None:
        async with self._uow() as uow:
            row = (await uow.session.execute(select(ApiRequestRow.__table__).where(
                ApiRequestRow.id == request_id, ApiRequestRow.workspace == workspace))).first()
        return _request(row) if row else None

    async def item_raised_by(self, workspace: str, request_id: str) -> int | None:
        async with self._uow() as uow:
            return (await uow.session.execute(select(ItemRow.number).where(
                ItemRow.workspace == workspace, ItemRow.source_surface == "api",
                ItemRow.source_message == request_id))).scalar_one_or_none()


def _subscription(row: Any) -> Subscription:
    return Subscription(row.id, row.client_id, row.url, row.workspace, row.item, row.created_at)


class SqlSubscriptions(Subscriptions):
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def add(self, subscription: Subscription) -> Subscription:
        async with self._uow() as uow:
            new_id = (await uow.session.execute(insert(WebhookRow).values(
                client_id=subscription.client_id, workspace=subscription.workspace,
                item=subscription.item, url=subscription.url,
                created_at=subscription.created_at).returning(WebhookRow.id))).scalar_one()
            await uow.commit()
        return Subscription(new_id, subscription.client_id, subscription.url,
                            subscription.workspace, subscription.item, subscription.created_at)

    async def of_client(self, client_id: int) -> list[Subscription]:
        async with self._uow() as uow:
            rows = (await uow.session.execute(select(WebhookRow.__table__).where(
                WebhookRow.client_id == client_id).order_by(WebhookRow.id))).all()
        return [_subscription(r) for r in rows]

    async def remove(self, client_id: int, subscription_id: int) -> bool:
        async with self._uow() as uow:
            result = await uow.session.execute(delete(WebhookRow).where(
                WebhookRow.client_id == client_id, WebhookRow.id == subscription_id
            ).returning(WebhookRow.id))
            removed = result.first() is not None
            await uow.commit()
        return removed

    async def for_item(self, workspace: str, item: int, team: str,
                       request_id: str | None) -> list[tuple[Subscription, Client]]:
        tokens = ApiTokenRow.__table__
        raised_by = select(ApiRequestRow.client_id).where(ApiRequestRow.id == request_id) \
            .scalar_subquery() if request_id else None
        whose = [ApiTokenRow.team == team]
        if raised_by is not None:
            whose.append(ApiTokenRow.id == raised_by)
        async with self._uow() as uow:
            rows = (await uow.session.execute(
                select(WebhookRow.__table__, *[c.label(f"t_{c.name}") for c in tokens.c])
                .join(tokens, tokens.c.id == WebhookRow.client_id)
                .where(WebhookRow.workspace == workspace, tokens.c.revoked_at.is_(None),
                       or_(WebhookRow.item == item,
                           WebhookRow.item.is_(None) & or_(*whose)))
                .order_by(WebhookRow.id))).all()
            extra = None
            if request_id:
                extra = (await uow.session.execute(
                    select(ApiRequestRow.callback_url, *tokens.c)
                    .join(tokens, tokens.c.id == ApiRequestRow.client_id)
                    .where(ApiRequestRow.id == request_id, tokens.c.revoked_at.is_(None),
                           ApiRequestRow.callback_url.is_not(None)))).first()
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
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def marks(self, workspace: str, numbers: list[int]) -> dict[int, Mark]:
        if not numbers:
            return {}
        async with self._uow() as uow:
            rows = (await uow.session.execute(
                select(ItemRow.number, ItemRow.state, ItemRow.version).where(
                    ItemRow.workspace == workspace, ItemRow.number.in_(numbers)))).all()
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
        async with self._uow() as uow:
            found = await uow.session.execute(stmt.order_by(ItemRow.number).limit(query.limit))
            return list(found.scalars())
