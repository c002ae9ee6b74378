"""Items with their approvers and decisions, over one SqlSession."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Row,
    bindparam,
    case,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)

from bot.items import (
    Decision,
    Item,
    Kind,
    Outcome,
    Policy,
    Priority,
    Source,
    State,
    Verdict,
)
from bot.ports import ConcurrentChange, ItemQuery, ItemRepository
from store.held import Held, ItemKey
from store.session import SqlSession
from store.sql import dialect_of
from store.tables import ApproverRow, Base, DecisionRow, FollowupRow, ItemRow
from store.workspaces import WorkspaceHeads

_items = ItemRow.__table__
_approvers = ApproverRow.__table__
_decisions = DecisionRow.__table__
# Built once, run with bound parameters (a statement built per call costs more to prepare
# than SQLite takes to run it).
_INSERT = insert(Base.metadata.tables[ItemRow.__tablename__]).returning(_items.c.id)
_INSERT_APPROVERS = insert(Base.metadata.tables[ApproverRow.__tablename__])
_INSERT_DECISIONS = insert(Base.metadata.tables[DecisionRow.__tablename__])
# The columns to set come from the parameters, the row from `old_*`: one statement for every
# save, compiled once.
_UPDATE = update(Base.metadata.tables[ItemRow.__tablename__]).where(
    _items.c.workspace == bindparam("old_workspace"), _items.c.number == bindparam("old_number"),
    _items.c.version == bindparam("old_version"))
_UPDATE_RETURNING = _UPDATE.returning(_items.c.id)
_DELETE_APPROVERS = delete(Base.metadata.tables[ApproverRow.__tablename__]).where(
    _approvers.c.item_id == bindparam("item_id"))
_followups = Base.metadata.tables[FollowupRow.__tablename__]
_CLAIMS = select(_followups.c.item, _followups.c.target, _followups.c.step).where(
    _followups.c.workspace == bindparam("ws"),
    _followups.c.item.in_(bindparam("items", expanding=True)))
_DELETE_DECISIONS = delete(Base.metadata.tables[DecisionRow.__tablename__]).where(
    _decisions.c.item_id == bindparam("item_id"))

# The earlier of the two deadlines, null when the item has neither (CASE, for every dialect).
_earliest = case(
    (ItemRow.due_at.is_(None), ItemRow.resolve_deadline),
    (ItemRow.resolve_deadline.is_(None), ItemRow.due_at),
    (ItemRow.due_at < ItemRow.resolve_deadline, ItemRow.due_at),
    else_=ItemRow.resolve_deadline,
)


Children = tuple[tuple[str, ...], tuple[Decision, ...]]


class SqlItemRepository(ItemRepository):
    """Items over their three tables. A save of an item this transaction holds (store.held)
    waits and goes with the others in one statement, before the commit or the next read of
    items; any other save is checked at once against the version read. An item's approvers
    and decisions are rewritten only when they differ from what is stored (most saves change
    neither)."""

    def __init__(self, session: SqlSession, heads: WorkspaceHeads | None = None,
                 held: Held | None = None) -> None:
        self._session = session
        self._heads = heads or WorkspaceHeads(session)
        self._held = held or Held()
        self._stored: dict[ItemKey, Children] = {}  # approvers and decisions, as stored
        self._queued: list[dict[str, Any]] = []

    def forget(self) -> None:
        self._stored.clear()
        self._queued.clear()

    async def allocate_number(self, workspace: str) -> int:
        return await self._heads.take_number(workspace)

    async def add(self, item: Item) -> None:
        await self.flush()
        result = await self._session.execute(_INSERT, {**_columns(item), "version": item.version})
        await self._write_children(result.scalar_one(), item)
        key = (item.workspace, item.number)
        self._stored[key] = (item.approvers, item.decisions)
        if self._held.whole_database:
            self._held.versions[key] = item.version

    async def get(self, workspace: str, number: int) -> Item | None:
        found = await self._load(select(_items).where(
            ItemRow.workspace == workspace, ItemRow.number == number))
        return found[0] if found else None

    async def save(self, item: Item) -> Item:
        key = (item.workspace, item.number)
        children = (item.approvers, item.decisions)
        row = {**_columns(item), "version": item.version + 1, "old_workspace": item.workspace,
               "old_number": item.number, "old_version": item.version}
        if self._held.versions.get(key) == item.version and self._stored.get(key) == children:
            self._queued.append(row)
        else:
            await self.flush()
            item_id = (await self._session.execute(_UPDATE_RETURNING, row)).scalar_one_or_none()
            if item_id is None:
                raise ConcurrentChange(f"{item.workspace} {item.ref} changed since version "
                                       f"{item.version} was read")
            if self._stored.get(key) != children:
                await self._session.execute(_DELETE_APPROVERS, {"item_id": item_id})
                await self._session.execute(_DELETE_DECISIONS, {"item_id": item_id})
                await self._write_children(item_id, item)
                self._stored[key] = children
        if key in self._held.versions:
            self._held.versions[key] = item.version + 1
        return replace(item, version=item.version + 1)

    async def flush(self) -> None:
        """Write the saves held back, in one statement."""
        if not self._queued:
            return
        rows, self._queued = self._queued, []
        result = await self._session.execute(_UPDATE, rows)
        if isinstance(result, CursorResult) and result.supports_sane_multi_rowcount() \
                and result.rowcount != len(rows):  # cannot happen while the rows are held
            raise ConcurrentChange(f"{len(rows) - result.rowcount} held item(s) changed")

    async def find(self, workspace: str, query: ItemQuery) -> list[Item]:
        stmt = select(_items).where(ItemRow.workspace == workspace, *_filters(query))
        stmt = stmt.order_by(case((_earliest.is_(None), 1), else_=0), _earliest,
                             ItemRow.number).limit(query.limit)
        return await self._load(stmt)

    async def blocked_on(self, workspace: str, number: int) -> list[Item]:
        return await self._load(select(_items).where(
            ItemRow.workspace == workspace, ItemRow.blocked_on == number,
        ).order_by(ItemRow.number))

    async def due_followups(self, workspace: str, now: datetime, limit: int) -> list[Item]:
        """Due items by ix_items_followup, held by this transaction with their follow-up
        claims read (store.held). On PostgreSQL the sweep first locks the workspace row, so
        replicas sweeping at once take turns (the audit chain would serialize their writes
        anyway, and taking it first avoids a lock-order deadlock with commands), then locks
        the due rows, skipping any a command holds right now."""
        due = select(_items).where(
            ItemRow.workspace == workspace, ItemRow.next_followup_at <= now,
        ).order_by(ItemRow.next_followup_at).limit(limit)  # the index's own order: no sort
        if dialect_of(self._session) == "postgresql":
            await self._heads.lock(workspace)
            due = due.with_for_update(skip_locked=True)
        items = await self._load(due, held=True)
        if items:
            claims: dict[ItemKey, set[tuple[str, str]]] = {
                (workspace, i.number): set() for i in items}
            for row in await self._session.execute(_CLAIMS, {
                    "ws": workspace, "items": [i.number for i in items]}):
                claims[(workspace, row.item)].add((row.target, row.step))
            self._held.claims.update(claims)
        return items

    async def _load(self, stmt: Any, *, held: bool = False) -> list[Item]:
        await self.flush()
        rows = (await self._session.execute(stmt)).all()
        ids = [r.id for r in rows]
        approvers: dict[int, list[str]] = defaultdict(list)
        decisions: dict[int, list[Decision]] = defaultdict(list)
        if ids:
            for a in await self._children(_approvers, ids):
                approvers[a.item_id].append(a.person)
            for d in await self._children(_decisions, ids):
                decisions[d.item_id].append(Decision(d.approver, Verdict(d.verdict), d.comment,
                                                     d.at, d.by))
        held = held or self._held.whole_database
        for r in rows:
            key = (r.workspace, r.number)
            self._stored[key] = (tuple(approvers[r.id]), tuple(decisions[r.id]))
            if held:
                self._held.versions[key] = r.version
        return [_item(r, approvers[r.id], decisions[r.id]) for r in rows]

    async def _children(self, table: Any, item_ids: list[int]) -> Sequence[Row[Any]]:
        stmt = select(table).where(table.c.item_id.in_(item_ids)).order_by(
            table.c.item_id, table.c.position)
        return (await self._session.execute(stmt)).all()

    async def _write_children(self, item_id: int, item: Item) -> None:
        if item.approvers:
            await self._session.execute(_INSERT_APPROVERS, [
                {"item_id": item_id, "position": i, "person": person}
                for i, person in enumerate(item.approvers)])
        if item.decisions:
            await self._session.execute(_INSERT_DECISIONS, [
                {"item_id": item_id, "position": i, "approver": d.approver,
                 "verdict": d.verdict.value, "comment": d.comment, "at": d.at, "by": d.by}
                for i, d in enumerate(item.decisions)])


def _filters(query: ItemQuery) -> Iterable[ColumnElement[bool]]:
    if query.owner is not None:
        yield ItemRow.owner == query.owner
    if query.requester is not None:
        yield ItemRow.requester == query.requester
    if query.team is not None:
        yield ItemRow.team == query.team
    if query.approver is not None:
        # Driven from the approver's index rows, then each item by primary key.
        undecided = select(ApproverRow.item_id).where(
            ApproverRow.person == query.approver,
            ~exists().where(DecisionRow.item_id == ApproverRow.item_id,
                            DecisionRow.approver == ApproverRow.person))
        yield ItemRow.id.in_(undecided)
    if query.kind is not None:
        yield ItemRow.kind == query.kind.value
    if query.states:
        yield ItemRow.state.in_([s.value for s in query.states])
    if query.due_before is not None:
        yield or_(ItemRow.due_at < query.due_before,
                  ItemRow.resolve_deadline < query.due_before)


def _columns(item: Item) -> dict[str, Any]:
    """The items row of an item, less its id and version."""
    return {
        "workspace": item.workspace, "number": item.number, "kind": item.kind.value,
        "title": item.title, "details": item.details, "team": item.team,
        "requester": item.requester, "owner": item.owner, "policy": str(item.policy),
        "priority": item.priority.value, "state": item.state.value,
        "outcome": item.outcome.value if item.outcome else None,
        "due_at": item.due_at, "ack_deadline": item.ack_deadline,
        "resolve_deadline": item.resolve_deadline, "acked_at": item.acked_at,
        "escalation_level": item.escalation_level, "blocked_reason": item.blocked_reason,
        "blocked_on": item.blocked_on,
        "resume_state": item.resume_state.value if item.resume_state else None,
        "snoozed_until": item.snoozed_until, "watchers": list(item.watchers),
        "blocked_since": item.blocked_since, "closed_at": item.closed_at,
        "next_followup_at": item.next_followup_at, "ack_stage": item.ack_stage,
        "resolve_stage": item.resolve_stage, "stalls": item.stalls,
        "source_surface": item.source.surface, "source_channel": item.source.channel,
        "source_message": item.source.message, "source_permalink": item.source.permalink,
        "source_via": item.source.via,
        "parent": item.parent, "created_at": item.created_at, "updated_at": item.updated_at,
    }


def _item(row: Row[Any], approvers: list[str], decisions: list[Decision]) -> Item:
    return Item(
        workspace=row.workspace, number=row.number, kind=Kind(row.kind), title=row.title,
        requester=row.requester, team=row.team, created_at=row.created_at,
        updated_at=row.updated_at, details=row.details, owner=row.owner,
        approvers=tuple(approvers), policy=Policy.parse(row.policy),
        decisions=tuple(decisions), priority=Priority(row.priority), state=State(row.state),
        outcome=Outcome(row.outcome) if row.outcome else None, due_at=row.due_at,
        ack_deadline=row.ack_deadline, resolve_deadline=row.resolve_deadline,
        acked_at=row.acked_at, escalation_level=row.escalation_level,
        blocked_reason=row.blocked_reason, blocked_on=row.blocked_on,
        resume_state=State(row.resume_state) if row.resume_state else None,
        snoozed_until=row.snoozed_until, blocked_since=row.blocked_since,
        closed_at=row.closed_at, next_followup_at=row.next_followup_at,
        ack_stage=row.ack_stage, resolve_stage=row.resolve_stage, stalls=row.stalls,
        watchers=tuple(row.watchers),
        source=Source(row.source_surface, row.source_channel, row.source_message,
                      row.source_permalink, row.source_via),
        parent=row.parent, version=row.version,
    )
