"""What the API and the MCP server do, apart from HTTP: each call checks the client's scope and
team, then runs a core command (the same the chat surfaces run, under the same rules) or reads
items for the client to see."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.api.errors import ApiError, forbidden, not_found, unauthorized
from adapters.api.models import (
    Change,
    DecisionOut,
    ItemOut,
    ItemPage,
    Link,
    NewApproval,
    NewException,
    NewHandoff,
    TrailEvent,
)
from adapters.api.watch import Watch
from bot.approvals import pending_approvers
from bot.clients import (
    IDEMPOTENCY_KEPT,
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
from bot.commands import Act, Command, Create, Target
from bot.context import Request
from bot.due import DueError, DueSpec, parse_due
from bot.events import Event
from bot.items import Item, Kind, Policy, State
from bot.people import Directory
from bot.ports import Clock
from bot.rich import Rich
from bot.rules import Verb
from bot.service import Baton

SURFACE = "api"
TOKEN_PREFIX = "baton_"
_TOKEN_CACHE_SECONDS = 5.0  # a revoked token stops working on every replica within this
_LAST_USE_EVERY = timedelta(minutes=1)  # last use is recorded at most this often
_IN_PROGRESS = timedelta(seconds=30)  # a keyed request unfinished for longer was interrupted
MAX_PAGE = 100

NewItem = NewHandoff | NewException | NewApproval


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_signing_secret() -> str:
    """A webhook signing secret as Standard Webhooks writes them: whsec_ and 32 random bytes
    in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def body_hash(body: Any) -> str:
    """The same JSON body, however it is spaced or ordered, hashes the same."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Created:
    status: int  # 201, or 200 for a replay of an earlier request with the same key
    item: ItemOut
    replayed: bool = False


@dataclass
class ApiService:
    baton: Baton
    directory: Directory
    clock: Clock
    workspace: str
    clients: Clients
    requests: ApiRequests
    index: ItemIndex
    watch: Watch
    subscriptions: Subscriptions
    _tokens: dict[str, tuple[Client, float]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Finish the bookkeeping still running, and stop waking long-polls."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.watch.close()

    # --- who is asking -----------------------------------------------------------------------

    async def authenticate(self, authorization: str | None) -> Client:
        """The client whose bearer token the Authorization header carries."""
        if not authorization:
            raise unauthorized("This API needs a token: send `Authorization: Bearer <token>` "
                               "(`baton token create` makes one).")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("Send the token as `Authorization: Bearer <token>`.")
        return await self.client_for(token.strip())

    async def client_for(self, token: str) -> Client:
        digest = hash_token(token)
        cached = self._tokens.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            client = cached[0]
        else:
            found = await self.clients.by_hash(digest)
            if found is None:
                self._tokens.pop(digest, None)
                raise unauthorized("That token is not valid: it is unknown or was revoked.")
            client = found
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[digest] = (client, time.monotonic() + _TOKEN_CACHE_SECONDS)
        now = self.clock.now()
        if client.last_used_at is None or now - client.last_used_at >= _LAST_USE_EVERY:
            await self.clients.used(client.id, now)
            client = Client(**{**client.__dict__, "last_used_at": now})
            self._tokens[digest] = (client, self._tokens[digest][1])
        return client

    @staticmethod
    def require(client: Client, scope: Scope) -> None:
        if not client.may(scope):
            raise forbidden(f"This token lacks the `{scope.value}` scope "
                            f"(it has: {', '.join(sorted(client.scopes)) or 'none'}).")

    @staticmethod
    def visible(client: Client, item: Item) -> bool:
        """A client sees its team's items and those it raised."""
        return item.team == client.team or item.source.via == client.name

    def _request(self, client: Client, delivery: str = "") -> Request:
        return Request(self.workspace, client.actor, SURFACE, delivery, via=client.name)

    # --- raising items -----------------------------------------------------------------------

    async def create(self, client: Client, body: NewItem, raw: Any,
                     key: str | None = None) -> Created:
        self.require(client, Scope.WRITE)
        command = self._command(client, body)
        if key is None and not (body.metadata or body.links or body.callback_url):
            return await self._create_plain(client, command)  # nothing to keep beside it
        now = self.clock.now()
        request = ApiRequest(
            id=uuid.uuid4().hex, client_id=client.id, workspace=self.workspace,
            body_hash=body_hash(raw), created_at=now, key=key, metadata=body.metadata or None,
            links=tuple(link.model_dump() for link in body.links),
            callback_url=body.callback_url)
        recorded = await self.requests.begin(request, now - IDEMPOTENCY_KEPT)
        if recorded.id != request.id:
            replay = await self._replay(client, recorded, request, now)
            if replay is not None:
                return replay
            request = recorded  # the first attempt was interrupted: finish it
        command = Create(**{**command.__dict__, "message": request.id})
        reply = await self.baton.handle(self._request(client, f"api:{request.id}"), command)
        if reply.duplicate:  # the interrupted attempt did raise it
            number = await self.requests.item_raised_by(self.workspace, request.id)
            if number is None:
                raise ApiError(409, "in-progress", "A request with this Idempotency-Key is "
                               "still being processed; retry shortly.",
                               headers={"Retry-After": "1"})
        elif not reply.ok:
            await self.requests.drop(request.id)
            raise ApiError(422, "refused", str(reply.text))
        else:
            number = reply.cards[0].number
        # Off the answer's path: a replay finds the item by its source until this is written.
        self._later(self.requests.finish(request.id, number, 201))
        return Created(201, await self.get(client, number, trail=False))

    async def _create_plain(self, client: Client, command: Create) -> Created:
        reply = await self.baton.handle(self._request(client), command)
        if not reply.ok:
            raise ApiError(422, "refused", str(reply.text))
        return Created(201, await self.get(client, reply.cards[0].number, trail=False))

    async def _replay(self, client: Client, recorded: ApiRequest, request: ApiRequest,
                      now: datetime) -> Created | None:
        """The answer to a request repeated with the same Idempotency-Key (None: the first
        attempt was interrupted before it finished, and this one should finish it)."""
        if recorded.body_hash != request.body_hash:
            raise ApiError(422, "idempotency-key-reused", "This Idempotency-Key was used with "
                           "a different body; use a new key for a new request.",
                           errors=[{"field": "Idempotency-Key", "message": "reused with a "
                                    "different body"}])
        number = recorded.item or await self.requests.item_raised_by(self.workspace,
                                                                      recorded.id)
        if number is not None:
            if not recorded.status:
                await self.requests.finish(recorded.id, number, 201)
            return Created(200, await self.get(client, number, trail=False), replayed=True)
        if now - recorded.created_at < _IN_PROGRESS:
            raise ApiError(409, "in-progress", "A request with this Idempotency-Key is still "
                           "being processed; retry shortly.", headers={"Retry-After": "1"})
        return None

    def _command(self, client: Client, body: NewItem) -> Create:
        due = self._due(body.due)
        permalink = body.links[0].url if body.links else ""
        common: dict[str, Any] = {"title": body.title, "details": body.details,
                                  "priority": body.priority, "due": due,
                                  "permalink": permalink}
        if isinstance(body, NewHandoff):
            to = body.to
            return Create(Kind.HANDOFF, to=Target(to.lstrip("#@"), team=to.startswith("#")),
                          **common)
        team = self._own_team(client, body.team)
        if isinstance(body, NewException):
            return Create(Kind.EXCEPTION, team=team, owner=body.owner.lstrip("@")
                          if body.owner else None, **common)
        return Create(Kind.APPROVAL, team=team, policy=Policy.parse(body.policy),
                      approvers=tuple(a.lstrip("@") for a in body.approvers), **common)

    def _own_team(self, client: Client, team: str | None) -> str:
        if team is None:
            return client.team
        wanted = team.lstrip("#")
        found = self.directory.team(wanted)
        if found is None or found.name != client.team:
            raise forbidden(f"This token works for team {client.team}, not {wanted}.")
        return found.name

    def _due(self, text: str | None) -> DueSpec | None:
        if text is None:
            return None
        try:
            instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            instant = None
        if instant is not None:
            if instant.tzinfo is None:
                raise _bad("due", "an RFC 3339 time needs an offset, as in "
                                  "2026-12-01T17:00:00Z")
            return DueSpec(text=text, delta=instant.astimezone(UTC) - self.clock.now())
        try:
            return parse_due(text)
        except DueError as exc:
            raise _bad("due", str(exc)) from None

    # --- acting on items ---------------------------------------------------------------------

    async def comment(self, client: Client, number: int, text: str) -> ItemOut:
        self.require(client, Scope.WRITE)
        return await self._act(client, Act(Verb.COMMENT, number, text))

    async def cancel(self, client: Client, number: int, reason: str) -> ItemOut:
        self.require(client, Scope.WRITE)
        return await self._act(client, Act(Verb.CANCEL, number, reason))

    async def decide(self, client: Client, number: int, verdict: Verb,
                     comment: str) -> ItemOut:
        self.require(client, Scope.DECIDE)
        if client.owner is None:
            raise forbidden("Only a token acting for a person (`--owner`) may decide, and only "
                            "where that person may.")
        if verdict is Verb.REJECT and not comment.strip():
            raise _bad("comment", "a rejection needs a reason")
        return await self._act(client, Act(verdict, number, comment))

    async def _act(self, client: Client, command: Command) -> ItemOut:
        assert isinstance(command, Act)
        await self._visible_item(client, command.number)
        reply = await self.baton.handle(self._request(client), command)
        if not reply.ok:
            raise ApiError(409, "refused", str(reply.text), allowed=list(reply.allowed))
        await self.watch.changed(command.number)
        return await self.get(client, command.number, trail=False)

    # --- reading items -----------------------------------------------------------------------

    async def _visible_item(self, client: Client, number: int) -> Item:
        read = await self.index.item(self.workspace, number)
        if read is None or not self.visible(client, read.item):
            raise not_found(number)
        return read.item

    async def get(self, client: Client, number: int, *, trail: bool = True) -> ItemOut:
        self.require(client, Scope.READ)
        read = await self.index.item(self.workspace, number, trail=trail)
        if read is None or not self.visible(client, read.item):
            raise not_found(number)
        return item_out(read.item, read.events, read.raised)

    async def wait(self, client: Client, number: int, seconds: float,
                   version: int | None = None) -> ItemOut:
        """The item once it changes (past `version`, default its version now), or as it is
        at the timeout."""
        item = await self._visible_item(client, number)
        baseline = Mark(item.state, item.version if version is None else version)
        if Mark(item.state, item.version) == baseline and seconds > 0:
            await self.watch.wait(number, baseline, seconds)
        return await self.get(client, number)

    async def list_items(self, client: Client, *, team: str | None = None,
                   state: State | None = None, kind: Kind | None = None,
                   updated_since: datetime | None = None, cursor: str | None = None,
                   limit: int = 50) -> ItemPage:
        self.require(client, Scope.READ)
        after = _cursor(cursor)
        if team is not None and team.lstrip("#") != client.team:
            raise forbidden(f"This token works for team {client.team}, not {team}.")
        numbers = await self.index.page(self.workspace, PageQuery(
            team=client.team, client="\0" if team else client.name,
            states=(state,) if state else tuple(State), kind=kind.value if kind else None,
            updated_since=updated_since, after=after, limit=limit + 1))
        more = len(numbers) > limit
        found = await self.index.items(self.workspace, numbers[:limit])
        items = [item_out(r.item, None, r.raised) for r in found]
        return ItemPage(items=items, next_cursor=str(numbers[limit - 1]) if more else None)


    # --- webhooks ----------------------------------------------------------------------------

    async def add_webhook(self, client: Client, url: str, item: int | None) -> Subscription:
        self.require(client, Scope.WEBHOOKS)
        if item is not None:
            await self._visible_item(client, item)
        return await self.subscriptions.add(Subscription(
            0, client.id, url, self.workspace, item, self.clock.now()))

    async def webhooks(self, client: Client) -> list[Subscription]:
        self.require(client, Scope.WEBHOOKS)
        return await self.subscriptions.of_client(client.id)

    async def remove_webhook(self, client: Client, webhook: int) -> None:
        self.require(client, Scope.WEBHOOKS)
        if not await self.subscriptions.remove(client.id, webhook):
            raise ApiError(404, "not-found", f"This token has no webhook {webhook}.")


def item_out(item: Item, events: list[Event] | None, raised: ApiRequest | None) -> ItemOut:
    return ItemOut(
        id=item.number, kind=item.kind, title=item.title, details=item.details,
        team=item.team, requester=item.requester, via=item.source.via or None,
        owner=item.owner, approvers=list(item.approvers),
        policy=str(item.policy) if item.kind is Kind.APPROVAL else None,
        decisions=[DecisionOut(approver=d.approver, verdict=d.verdict.value,
                               comment=d.comment, at=d.at, by=d.by) for d in item.decisions],
        pending_approvers=pending_approvers(item), priority=item.priority, state=item.state,
        outcome=item.outcome, final=item.state.final, due_at=item.due_at,
        ack_deadline=item.ack_deadline, resolve_deadline=item.resolve_deadline,
        blocked_reason=item.blocked_reason, blocked_on=item.blocked_on,
        created_at=item.created_at, updated_at=item.updated_at, version=item.version,
        links=[Link(**link) for link in raised.links] if raised else [],
        metadata=(raised.metadata or {}) if raised else {},
        trail=[trail_event(e) for e in events] if events is not None else None)


def trail_event(event: Event) -> TrailEvent:
    after = dict(event.after)
    note = str(Rich.from_json(after.pop("note", "") or ""))  # kept as rich text: as words
    via = after.pop("via", None)
    changes = {k: Change(before=event.before.get(k), after=v) for k, v in after.items()
               if k in event.before}
    return TrailEvent(seq=event.seq, at=event.at, actor=event.actor, via=via,
                      action=event.action, surface=event.surface, note=note, changes=changes)


def _cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdecimal()) or len(cursor) > 10:
        raise _bad("cursor", "not a cursor this API returned")
    return int(cursor)


def _bad(field_name: str, message: str) -> ApiError:
    return ApiError(422, "invalid-body", f"{field_name}: {message}.",
                    errors=[{"field": field_name, "message": message}])
