"""The SQL repositories against a real, migrated SQLite file."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import JSON, bindparam, text
from sqlalchemy.exc import StatementError

from bot import rich
from bot.events import GENESIS, EventDraft, verify
from bot.items import (
    Absence,
    Decision,
    Item,
    Kind,
    Outcome,
    Policy,
    PolicyKind,
    Priority,
    Source,
    State,
    Verdict,
)
from bot.messages import Audience, Outgoing
from bot.ports import ConcurrentChange, ItemQuery
from store.outbox import LEASE
from store.uow import Database
from tests.integration.conftest import T0, MakeItem

BERLIN = ZoneInfo("Europe/Berlin")


def full_item() -> Item:
    """An item with every field set away from its default."""
    return Item(
        workspace="T1", number=1, kind=Kind.APPROVAL, title="Ship 2.0", requester="alice",
        team="platform", created_at=T0.astimezone(BERLIN),
        updated_at=T0 + timedelta(minutes=5, microseconds=123456), details="the details",
        owner="bob", approvers=("carol", "dave", "erin"), policy=Policy(PolicyKind.QUORUM, 2),
        decisions=(
            Decision("dave", Verdict.APPROVE, "looks good", T0 + timedelta(hours=1), "dave"),
            Decision("carol", Verdict.REJECT, "not yet", T0 + timedelta(hours=2), "frank"),
        ),
        priority=Priority.URGENT, state=State.BLOCKED, outcome=Outcome.REJECTED,
        due_at=T0 + timedelta(days=1), ack_deadline=T0 + timedelta(hours=4),
        resolve_deadline=T0 + timedelta(days=2), acked_at=T0 + timedelta(hours=3),
        escalation_level=2, blocked_reason="waiting on legal", blocked_on=7,
        resume_state=State.ACTIVE, snoozed_until=T0 + timedelta(hours=6),
        watchers=("gina", "hal"),
        source=Source("slack", "C123", "1700000000.000100", "https://example.test/p/1"),
        parent=3, version=0,
    )


async def test_an_item_round_trips_every_field(db: Database) -> None:
    item = full_item()
    async with db.unit_of_work() as uow:
        await uow.items.add(item)
        await uow.commit()
    async with db.unit_of_work() as uow:
        loaded = await uow.items.get("T1", 1)

    assert loaded == item
    assert loaded is not None
    assert loaded.created_at.tzinfo is UTC and loaded.decisions[0].at.tzinfo is UTC
    assert loaded.created_at.hour == 9  # stored as the instant, read back in UTC


async def test_a_missing_item_is_none(db: Database) -> None:
    async with db.unit_of_work() as uow:
        assert await uow.items.get("T1", 99) is None


async def test_naive_datetimes_are_refused(db: Database, make_item: MakeItem) -> None:
    async with db.unit_of_work() as uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.items.add(make_item(created_at=datetime(2025, 1, 1)))


async def test_numbers_count_up_per_workspace(db: Database) -> None:
    async with db.unit_of_work() as uow:
        first = [await uow.items.allocate_number("T1") for _ in range(3)]
        other = await uow.items.allocate_number("T2")
        await uow.commit()
    async with db.unit_of_work() as uow:
        after = await uow.items.allocate_number("T1")

    assert first == [1, 2, 3]
    assert other == 1
    assert after == 4


async def test_save_bumps_the_version_and_stores_changes(db: Database) -> None:
    item = full_item()
    async with db.unit_of_work() as uow:
        await uow.items.add(item)
        changed = replace(item, state=State.DONE, approvers=("carol", "dave"),
                          decisions=(*item.decisions, Decision(
                              "erin", Verdict.APPROVE, "", T0 + timedelta(hours=3), "erin")))
        saved = await uow.items.save(changed)
        await uow.commit()
    async with db.unit_of_work() as uow:
        loaded = await uow.items.get("T1", 1)

    assert saved == replace(changed, version=1)
    assert loaded == saved


async def test_save_of_a_stale_version_is_a_concurrent_change(db: Database,
                                                              make_item: MakeItem) -> None:
    item = make_item()
    async with db.unit_of_work() as uow:
        await uow.items.add(item)
        await uow.items.save(replace(item, title="first"))
        await uow.commit()
    async with db.unit_of_work() as uow:
        with pytest.raises(ConcurrentChange):
            await uow.items.save(replace(item, title="second"))
        with pytest.raises(ConcurrentChange):
            await uow.items.save(make_item(number=42))
    async with db.unit_of_work() as uow:
        loaded = await uow.items.get("T1", 1)
    assert loaded is not None and loaded.title == "first" and loaded.version == 1


@pytest.fixture
async def board(db: Database, make_item: MakeItem) -> Database:
    """Six items of workspace T1 (and one of T2) to query."""
    h = timedelta(hours=1)
    items = [
        make_item(number=1, owner="bob", due_at=T0 + 3 * h),
        make_item(number=2, owner="bob", requester="carol", state=State.DONE,
                  outcome=Outcome.DONE, due_at=T0),
        make_item(number=3, kind=Kind.EXCEPTION, team="triage", resolve_deadline=T0 + h),
        make_item(number=4, kind=Kind.APPROVAL, approvers=("bob", "carol"),
                  decisions=(Decision("carol", Verdict.APPROVE, "", T0, "carol"),),
                  due_at=T0 + 5 * h, resolve_deadline=T0 + 2 * h),
        make_item(number=5, kind=Kind.APPROVAL, requester="dave", team="legal",
                  approvers=("carol",), state=State.ACTIVE),
        make_item(number=6, owner="bob", requester="erin", state=State.BLOCKED,
                  blocked_on=1, resume_state=State.ACTIVE, due_at=T0 + h / 2),
        make_item(workspace="T2", number=1, owner="bob", due_at=T0),
    ]
    async with db.unit_of_work() as uow:
        for item in items:
            await uow.items.add(item)
        await uow.commit()
    return db


@pytest.mark.parametrize(("query", "numbers"), [
    # soonest of due/resolve deadline first, items with neither last
    (ItemQuery(), [6, 3, 4, 1, 5]),
    (ItemQuery(states=()), [2, 6, 3, 4, 1, 5]),
    (ItemQuery(owner="bob"), [6, 1]),
    (ItemQuery(owner="bob", states=(State.DONE,)), [2]),
    (ItemQuery(requester="alice"), [3, 4, 1]),
    (ItemQuery(approver="bob"), [4]),
    (ItemQuery(approver="carol"), [5]),  # carol decided #4 already
    (ItemQuery(approver="dave"), []),
    (ItemQuery(team="ops"), [6, 4, 1]),
    (ItemQuery(kind=Kind.APPROVAL), [4, 5]),
    (ItemQuery(states=(State.ACTIVE, State.BLOCKED)), [6, 5]),
    (ItemQuery(due_before=T0 + timedelta(hours=2, minutes=30)), [6, 3, 4]),
    (ItemQuery(due_before=T0 + timedelta(hours=2)), [6, 3]),  # strictly before
    (ItemQuery(limit=2), [6, 3]),
    (ItemQuery(owner="bob", requester="erin"), [6]),
])
async def test_find_filters_and_orders(board: Database, query: ItemQuery,
                                       numbers: list[int]) -> None:
    async with board.unit_of_work() as uow:
        found = await uow.items.find("T1", query)
    assert [i.number for i in found] == numbers
    assert all(i.workspace == "T1" for i in found)


async def test_found_items_carry_their_approvers_and_decisions(board: Database) -> None:
    async with board.unit_of_work() as uow:
        [found] = await uow.items.find("T1", ItemQuery(approver="bob"))
    assert found.approvers == ("bob", "carol")
    assert [d.approver for d in found.decisions] == ["carol"]


async def test_blocked_on_lists_the_waiting_items(board: Database) -> None:
    async with board.unit_of_work() as uow:
        assert [i.number for i in await uow.items.blocked_on("T1", 1)] == [6]
        assert await uow.items.blocked_on("T1", 6) == []
        assert await uow.items.blocked_on("T2", 1) == []


def draft(workspace: str = "T1", item: int | None = 1, action: str = "created",
          **after: object) -> EventDraft:
    return EventDraft(workspace, item, "alice", action, T0, "console", {}, dict(after))


async def chain_problems(db: Database, workspace: str = "T1") -> list[int]:
    async with db.unit_of_work() as uow:
        events = await uow.events.all(workspace)
        seq, head = await uow.events.head(workspace)
    return [p.seq for p in verify(events, seq, head)]


@pytest.fixture
async def trail(db: Database) -> Database:
    async with db.unit_of_work() as uow:
        await uow.events.append(draft(title="one"))
        await uow.events.append(draft(item=2, title="two"))
        await uow.events.append(draft(action="accepted", state="active"))
        await uow.events.append(draft(item=None, action="config"))
        await uow.events.append(draft("T2", title="elsewhere"))
        await uow.commit()
    return db


async def test_events_chain_per_workspace(trail: Database) -> None:
    async with trail.unit_of_work() as uow:
        events = await uow.events.all("T1")
        head = await uow.events.head("T1")
        other = await uow.events.all("T2")
        for_item = await uow.events.for_item("T1", 1)
        workspaces = await uow.events.workspaces()
        nowhere = await uow.events.head("T3")

    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert head == (4, events[-1].hash)
    assert [e.seq for e in other] == [1] and other[0].prev_hash == GENESIS
    assert [e.action for e in for_item] == ["created", "accepted"]
    assert workspaces == ["T1", "T2"]
    assert nowhere == (0, GENESIS)
    assert verify(events, *head) == []


async def test_an_event_verifies_after_a_reload_whatever_it_holds(db: Database) -> None:
    awkward = EventDraft("T1", 1, "alice", "changed", T0.astimezone(BERLIN), "slack",
                         {"due": T0, "watchers": ("a", "b"), "state": State.OPEN},
                         {"due": None, "n": 1.5, "nested": {"z": [1, {"y": "ü"}]}})
    async with db.unit_of_work() as uow:
        appended = await uow.events.append(awkward)
        await uow.commit()
    async with db.unit_of_work() as uow:
        [loaded] = await uow.events.all("T1")

    assert loaded == appended
    assert loaded.at == T0 and loaded.before["watchers"] == ["a", "b"]
    assert await chain_problems(db) == []


async def test_an_edited_event_is_reported(trail: Database) -> None:
    async with trail.engine.begin() as conn:
        await conn.execute(text("UPDATE events SET after = :forged "
                                "WHERE workspace = 'T1' AND seq = 2").bindparams(
            bindparam("forged", {"title": "forged"}, type_=JSON)))
    assert await chain_problems(trail) == [2]


async def test_a_deleted_middle_event_is_reported(trail: Database) -> None:
    async with trail.engine.begin() as conn:
        await conn.execute(text("DELETE FROM events WHERE workspace = 'T1' AND seq = 2"))
    assert 2 in await chain_problems(trail)


async def test_a_deleted_last_event_is_reported(trail: Database) -> None:
    async with trail.engine.begin() as conn:
        await conn.execute(text("DELETE FROM events WHERE workspace = 'T1' AND seq = 4"))
    assert await chain_problems(trail) == [4]
    assert await chain_problems(trail, "T2") == []


def message(key: str = "k1", workspace: str = "T1", text: str = "hello") -> Outgoing:
    return Outgoing(workspace, Audience.PERSON, "bob", rich.text(text), key, 1,
                    {"title": "#1", "fields": [["owner", "bob"]]})


async def outbox_row(db: Database, message_id: int) -> dict[str, object]:
    async with db.engine.connect() as conn:
        row = (await conn.execute(text("SELECT state, attempts, last_error FROM outbox "
                                       "WHERE id = :id"), {"id": message_id})).one()
    return dict(row._mapping)


async def test_outbox_ignores_a_second_message_with_the_same_key(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.outbox.put(message("k1"))
        await uow.outbox.put(message("k1", text="again"))
        await uow.outbox.put(message("k1", workspace="T2"))
        await uow.outbox.put(message("k2"))
        await uow.commit()
    async with db.unit_of_work() as uow:
        claimed = await uow.outbox.claim(10, T0)

    assert [(q.message.workspace, q.message.key) for q in claimed] == [
        ("T1", "k1"), ("T2", "k1"), ("T1", "k2")]
    assert claimed[0].message == message("k1")
    assert claimed[0].attempts == 0


async def test_claim_takes_the_oldest_ready_messages_and_leases_them(db: Database) -> None:
    async with db.unit_of_work() as uow:
        for n in range(5):
            await uow.outbox.put(message(f"k{n}"))
        await uow.commit()
    async with db.unit_of_work() as uow:
        first = await uow.outbox.claim(2, T0)
        await uow.commit()
    async with db.unit_of_work() as uow:
        second = await uow.outbox.claim(10, T0)
        await uow.commit()
    async with db.unit_of_work() as uow:
        expired = await uow.outbox.claim(10, T0 + LEASE)

    assert [q.message.key for q in first] == ["k0", "k1"]
    assert [q.message.key for q in second] == ["k2", "k3", "k4"]
    assert [q.message.key for q in expired] == ["k0", "k1", "k2", "k3", "k4"]


async def test_deliverers_claiming_at_once_get_different_messages(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite runs one unit of work at a time; the second would wait")
    async with db.unit_of_work() as uow:
        for n in range(4):
            await uow.outbox.put(message(f"k{n}"))
        await uow.commit()
    async with db.unit_of_work() as first, db.unit_of_work() as second:
        mine = await first.outbox.claim(2, T0)
        theirs = await second.outbox.claim(10, T0)  # skips the rows `first` has locked

    assert [q.message.key for q in mine] == ["k0", "k1"]
    assert [q.message.key for q in theirs] == ["k2", "k3"]


async def test_sent_failed_and_parked_messages(db: Database) -> None:
    async with db.unit_of_work() as uow:
        for key in ("sent", "retried", "parked"):
            await uow.outbox.put(message(key))
        await uow.commit()
    later = T0 + timedelta(minutes=1)
    async with db.unit_of_work() as uow:
        sent, retried, parked = await uow.outbox.claim(10, T0)
        await uow.outbox.sent(sent.id, T0)
        await uow.outbox.failed(retried.id, "rate limited", later)
        await uow.outbox.failed(parked.id, "channel_not_found", None)
        await uow.commit()
    async with db.unit_of_work() as uow:
        too_soon = await uow.outbox.claim(10, later - timedelta(seconds=1))
        await uow.commit()
    async with db.unit_of_work() as uow:
        again = await uow.outbox.claim(10, T0 + timedelta(days=1))

    assert too_soon == []
    assert [(q.message.key, q.attempts) for q in again] == [("retried", 1)]
    assert await outbox_row(db, sent.id) == {"state": "sent", "attempts": 1, "last_error": ""}
    assert await outbox_row(db, retried.id) == {
        "state": "pending", "attempts": 1, "last_error": "rate limited"}
    assert await outbox_row(db, parked.id) == {
        "state": "parked", "attempts": 1, "last_error": "channel_not_found"}


async def test_absences(db: Database) -> None:
    week = timedelta(days=7)
    async with db.unit_of_work() as uow:
        await uow.absences.put(Absence("T1", "bob", T0, T0 + week, "carol"))
        await uow.absences.put(Absence("T1", "dave", T0, None, "carol"))
        await uow.absences.put(Absence("T1", "erin", T0, T0 + 2 * week, None))
        await uow.absences.put(Absence("T2", "bob", T0, T0 + week, "carol"))
        await uow.absences.put(Absence("T1", "bob", T0, T0 + 3 * week, "frank"))  # replaces
        await uow.commit()
    async with db.unit_of_work() as uow:
        bob = await uow.absences.get("T1", "bob")
        nobody = await uow.absences.get("T1", "zed")
        for_carol = await uow.absences.delegating_to("T1", "carol")
        ending = await uow.absences.ending_by(T0 + 2 * week)
        await uow.absences.remove("T1", "dave")
        await uow.commit()
    async with db.unit_of_work() as uow:
        removed = await uow.absences.get("T1", "dave")

    assert bob == Absence("T1", "bob", T0, T0 + 3 * week, "frank")
    assert nobody is None and removed is None
    assert [a.person for a in for_carol] == ["dave"]
    assert [(a.workspace, a.person) for a in ending] == [("T2", "bob"), ("T1", "erin")]
