"""Items with their approvers and decisions, over one SqlSession."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, case, delete, exists, insert, or_, select, update

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
from store.session import SqlSession
from store.sql import dialect_of
from store.tables import ApproverRow, Base, DecisionRow, ItemRow
from store.workspaces import WorkspaceHeads

_items = ItemRow.__table__
_approvers = ApproverRow.__table__
_decisions = DecisionRow.__table__
# Built once, run with bound parameters (a statement built per call costs more to prepare
# than SQLite takes to run it).
_INSERT = insert(Base.metadata.tables[ItemRow.__tablename__]).returning(_items.c.id)
_INSERT_APPROVERS = insert(Base.metadata.tables[ApproverRow.__tablename__])
_INSERT_DECISIONS = insert(Base.metadata.tables[DecisionRow.__tablename__])

# The earlier of the two deadlines, null when the item has neither (CASE, for every dialect).
_earliest = case(
    (ItemRow.due_at.is_(None), ItemRow.resolve_deadline),
    (ItemRow.resolve_deadline.is_(None), ItemRow.due_at),
    (ItemRow.due_at < ItemRow.resolve_deadline, ItemRow.due_at),
    else_=ItemRow.resolve_deadline,
)


class SqlItemRepository(ItemRepository):
    def __init__(self, session: SqlSession, heads: WorkspaceHeads | None = None) -> None:
        self._session = session
        self._heads = heads or WorkspaceHeads(session)

    async def allocate_number(self, workspace: str) -> int:
        return await self._heads.take_number(workspace)

    async def add(self, item: Item) -> None:
        result = await self._session.execute(_INSERT, {**_columns(item), "version": item.version})
        await self._write_children(result.scalar_one(), item)

    async def get(self, workspace: str, number: int) -> Item | None:
        found = await self._load(select(_items).where(
            ItemRow.workspace == workspace, ItemRow.number == number))
        return found[0] if found else None

    async def save(self, item: Item) -> Item:
        result = await self._session.execute(
            update(ItemRow)
            .where(ItemRow.workspace == item.workspace, ItemRow.number == item.number,
                   ItemRow.version == item.version)
            .values(**_columns(item), version=item.version + 1)
            .returning(ItemRow.id)
            .execution_options(synchronize_session=False))
        item_id = result.scalar_one_or_none()
        if item_id is None:
            raise ConcurrentChange(f"{item.workspace} {item.ref} changed since version "
                                   f"{item.version} was read")
        await self._session.execute(delete(ApproverRow).where(ApproverRow.item_id == item_id))
        await self._session.execute(delete(DecisionRow).where(DecisionRow.item_id == item_id))
        await self._write_children(item_id, item)
        return replace(item, version=item.version + 1)

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
        """Due items by ix_items_followup. On PostgreSQL the sweep first locks the workspace
        row, so replicas sweeping at once take turns (the audit chain would serialize their
        writes anyway, and taking it first avoids a lock-order deadlock with commands), then
        locks the due rows, skipping any a command holds right now."""
        due = select(_items).where(
            ItemRow.workspace == workspace, ItemRow.next_followup_at <= now,
        ).order_by(ItemRow.next_followup_at).limit(limit)  # the index's own order: no sort
        if dialect_of(self._session) == "postgresql":
            await self._heads.lock(workspace)
            due = due.with_for_update(skip_locked=True)
        return await self._load(due)

    async def _load(self, stmt: Any) -> list[Item]:
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
                      row.source_permalink),
        parent=row.parent, version=row.version,
    )
