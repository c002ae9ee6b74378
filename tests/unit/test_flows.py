"""The core end to end over fakes: the flows DESIGN.md describes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.commands import Tick
from bot.context import Request
from bot.events import verify
from bot.messages import Audience
from bot.service import Baton
from tests.fakes import FakeClock, FakeDirectory, FakeUnits, World

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def baton(world: World, clock: FakeClock) -> Baton:
    return Baton(FakeUnits(world), clock, FakeDirectory())


async def say(baton: Baton, who: str, text: str) -> str:
    reply = await baton.run(Request("w", who), text)
    return str(reply.text)


async def ok(baton: Baton, who: str, text: str) -> None:
    reply = await baton.run(Request("w", who), text)
    assert reply.ok, str(reply.text)


async def chain_intact(world: World) -> None:
    events = [e for e in world.events if e.workspace == "w"]
    assert verify(events, events[-1].seq, events[-1].hash) == []


async def test_handoff_declined_rerouted_accepted_done(baton: Baton, world: World) -> None:
    await ok(baton, "alice", "handoff @bob Prepare eval report --due 2d --p high")
    item = world.items[("w", 1)]
    assert (item.owner, item.state.value, item.priority.value) == ("bob", "open", "high")
    assert item.due_at == T0 + timedelta(days=2)
    await ok(baton, "bob", "decline #1 no capacity this week")
    assert world.items[("w", 1)].owner == "alice"
    reply = await baton.run(Request("w", "bob"), "accept #1")
    assert not reply.ok and str(reply.text) == (
        "Can't accept #1: that is for its owner @alice (or whoever stands in for them). "
        "You can only comment on it.")
    await ok(baton, "alice", "assign #1 @carol")
    await ok(baton, "carol", "accept #1")
    await ok(baton, "carol", "done #1 report attached")
    final = world.items[("w", 1)]
    assert (final.state.value, final.outcome and final.outcome.value) == ("done", "done")
    actions = [e.action for e in world.events if e.item == 1]
    assert actions == ["created", "decline", "assign", "accept", "done"]
    dms = [(m.to, str(m.text)) for m in world.outbox if m.audience is Audience.PERSON]
    assert ("bob", "@alice handed you #1: Prepare eval report") in dms
    assert any(to == "carol" for to, _ in dms)
    await chain_intact(world)


async def test_refused_action_lists_allowed_and_writes_nothing(baton: Baton, world: World) -> None:
    await ok(baton, "alice", "handoff @bob Review")
    before = (len(world.events), len(world.outbox))
    reply = await baton.run(Request("w", "bob"), "done #1")
    assert not reply.ok
    assert "it is open" in str(reply.text) and "accept" in str(reply.text)
    assert (len(world.events), len(world.outbox)) == before


async def test_exception_blocked_on_item_unblocks_when_it_ends(baton: Baton, world: World) -> None:
    await ok(baton, "alice", "handoff @bob Fix data loader")
    await ok(baton, "carol", "exception Eval scores missing --team eval")
    await ok(baton, "dave", "take #2")
    await ok(baton, "dave", "ack #2")
    await ok(baton, "dave", "block #2 needs the loader fix --on #1")
    assert world.items[("w", 2)].state.value == "blocked"
    await ok(baton, "bob", "accept #1")
    await ok(baton, "bob", "done #1")
    resumed = world.items[("w", 2)]
    assert (resumed.state.value, resumed.blocked_on) == ("active", None)
    assert [e.action for e in world.events if e.item == 2][-1] == "auto_unblock"
    await ok(baton, "dave", "resolve #2 rerun after the fix")
    assert world.items[("w", 2)].outcome.value == "resolved"  # type: ignore[union-attr]
    await chain_intact(world)


async def test_block_cycle_refused(baton: Baton) -> None:
    await ok(baton, "alice", "handoff @bob A")
    await ok(baton, "alice", "handoff @bob B")
    await ok(baton, "alice", "block #1 waits --on #2")
    text = await say(baton, "alice", "block #2 waits --on #1")
    assert "deadlock" in text


@pytest.mark.parametrize(("policy", "script", "outcome"), [
    ("any", [("bob", "approve #1")], "approved"),
    ("any", [("bob", "reject #1 no")], "rejected"),
    ("all", [("bob", "approve #1"), ("carol", "approve #1"), ("dave", "approve #1")], "approved"),
    ("all", [("bob", "approve #1"), ("carol", "reject #1 risky")], "rejected"),
    ("quorum:2", [("bob", "reject #1 no"), ("carol", "approve #1"), ("dave", "approve #1")],
     "approved"),
    ("quorum:2", [("bob", "reject #1 no"), ("carol", "reject #1 no")], "rejected"),
    ("sequence", [("bob", "approve #1"), ("carol", "approve #1"), ("dave", "approve #1")],
     "approved"),
    ("sequence", [("bob", "approve #1"), ("carol", "reject #1 not yet")], "rejected"),
])
async def test_policies(baton: Baton, world: World, policy: str,
                        script: list[tuple[str, str]], outcome: str) -> None:
    await ok(baton, "alice", f"approval Ship v2 --approvers @bob @carol @dave --policy {policy}")
    for who, text in script:
        await ok(baton, who, text)
    item = world.items[("w", 1)]
    assert item.outcome is not None and item.outcome.value == outcome
    await chain_intact(world)


async def test_sequence_only_current_approver(baton: Baton) -> None:
    await ok(baton, "alice", "approval Ship --approvers @bob @carol --policy sequence")
    text = await say(baton, "carol", "approve #1")
    assert "under `sequence` it is @bob's turn first" in text


async def test_no_self_approval_and_reason_required(baton: Baton) -> None:
    text = await say(baton, "alice", "approval Mine --approvers @alice @bob")
    assert "your own request" in text
    await ok(baton, "alice", "approval Ship --approvers @bob")
    text = await say(baton, "bob", "reject #1")
    assert "needs a reason" in text and "Usage: reject #42 <reason>" in text


async def test_away_delegates_new_handoffs_and_decisions(baton: Baton, world: World,
                                                         clock: FakeClock) -> None:
    await ok(baton, "alice", "approval Budget --approvers @bob")
    await ok(baton, "bob", "away until tomorrow 9:00 --delegate @carol")
    await ok(baton, "alice", "handoff @bob Review PR")
    assert world.items[("w", 2)].owner == "carol"
    assert "delegated" in [e.action for e in world.events if e.item == 2]
    await ok(baton, "carol", "approve #1 on bob's behalf")
    decision = world.items[("w", 1)].decisions[0]
    assert (decision.approver, decision.by) == ("bob", "carol")
    clock.advance(timedelta(days=1))
    refused = await baton.handle(Request("w", "root"), Tick(clock.now()))
    assert not refused.ok and ("w", "bob") in world.absences
    lines = await baton.tick("w", clock.now())
    assert str(lines[0]) == "@bob is back (away period ended)."
    # Meanwhile the handoff's 4h acknowledgement target passed (the reminder, late, is skipped).
    assert [str(line) for line in lines[1:]] == [
        "Baton flagged #2: acknowledgement target missed (due Mon 23 Nov 2026 13:00 UTC)."]
    assert ("w", "bob") not in world.absences


async def test_leads_and_admins_act_on_their_team(baton: Baton, world: World) -> None:
    await ok(baton, "carol", "exception Flaky eval --team eval")
    text = await say(baton, "lena", "assign #1 @dave")
    assert text == ("Can't reassign #1: that is for its requester @carol, the #eval lead or an "
                    "admin. You can only comment on it.")
    await ok(baton, "ed", "assign #1 @dave")
    await ok(baton, "root", "cancel #1 duplicate")
    assert world.items[("w", 1)].state.value == "cancelled"


async def test_show_has_trail_and_mine_sections(baton: Baton) -> None:
    await ok(baton, "alice", "handoff @bob Prepare eval report")
    await ok(baton, "alice", "approval Ship --approvers @bob")
    show = await baton.run(Request("w", "bob"), "show #1")
    assert "Trail" in str(show.text) and "@alice raised it" in str(show.text)
    assert [a.verb for a in show.cards[0].actions] == ["accept", "decline", "block"]
    mine = await say(baton, "bob", "mine")
    assert "Yours (1)" in mine and "Waiting on your decision (1)" in mine


async def test_digest_lists_blocked_and_all_clear(baton: Baton) -> None:
    text = await say(baton, "alice", "digest --team eval")
    assert "all clear" in text
    await ok(baton, "carol", "exception Disk full --team eval")
    await ok(baton, "carol", "block #1 vendor ticket open")
    text = await say(baton, "alice", "digest --team eval")  # not of eval: for her alone
    assert text.startswith("Only members of #eval, its lead and admins post its digest")
    assert "Blocked (1)" in text and "vendor ticket open" in text
    assert text.splitlines()[1].endswith("(times in UTC)")  # the team's zone


@pytest.mark.parametrize(("policy", "asked"), [
    ("all", {"bob": 1, "carol": 1}),       # both asked at once, neither asked again
    ("sequence", {"bob": 1, "carol": 1}),  # carol asked once, when her turn comes
])
async def test_each_approver_is_asked_once(baton: Baton, world: World, policy: str,
                                           asked: dict[str, int]) -> None:
    await ok(baton, "alice", f"approval Ship --approvers @bob @carol --policy {policy}")
    await ok(baton, "bob", "approve #1")
    requests = [m.to for m in world.outbox
                if m.audience is Audience.PERSON and "asks for your decision" in str(m.text)]
    assert {p: requests.count(p) for p in set(requests)} == asked


async def test_a_members_digest_goes_to_the_team_and_an_outsiders_to_them_alone(
        baton: Baton, world: World) -> None:
    await ok(baton, "carol", "exception Disk full --team eval")
    posted = await say(baton, "carol", "digest --team eval")
    assert posted == "Posted the daily digest to #eval's channel."
    team = [m for m in world.outbox if m.audience is Audience.TEAM]
    assert [m.to for m in team] == ["eval"] and "Unassigned exceptions (1)" in str(team[0].text)
    await say(baton, "alice", "digest --team eval")
    assert len([m for m in world.outbox if m.audience is Audience.TEAM]) == 1


async def test_only_the_receiver_or_their_delegate_accepts_a_handoff(baton: Baton,
                                                                     world: World) -> None:
    await ok(baton, "alice", "handoff @bob Prepare the release notes")
    for manager in ("lena", "root"):  # the release lead, an admin: they assign instead
        refused = await say(baton, manager, "accept #1")
        assert refused.startswith("Can't accept #1: that is for its owner @bob")
        assert "reassign" in refused
    await ok(baton, "bob", "away --delegate @carol")
    await ok(baton, "carol", "accept #1")
    assert world.items[("w", 1)].state.value == "active"


async def test_invisible_and_control_characters_are_not_kept(baton: Baton, world: World) -> None:
    # A right-to-left override would make "Pay invoice fdp.exe" read differently from what
    # it is; a control character could rewrite a terminal's line.
    await ok(baton, "alice", "handoff @bob Pay \u202einvoice\u202c fdp.exe\x1b[2K --details a\x07b")
    item = world.items[("w", 1)]
    assert (item.title, item.details) == ("Pay invoice fdp.exe [2K", "a b")
    await ok(baton, "bob", "comment #1 looks \u2066fine\u2069\u200b to me")
    assert world.events[-1].after["note"] == [["t", "looks fine to me"]]
