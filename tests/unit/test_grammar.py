"""The grammar by example: what each verb parses to, and each documented refusal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.commands import (
    Act,
    Audit,
    Away,
    Back,
    Create,
    Digest,
    Help,
    ListItems,
    Mine,
    Show,
    Target,
)
from bot.context import Request
from bot.due import DueSpec
from bot.grammar import HELP, UsageError, help_text, parse
from bot.items import Kind, Policy, PolicyKind, Priority, State
from bot.rules import Verb
from bot.service import Baton
from tests.fakes import FakeClock, FakeDirectory, FakeUnits, World


def refusal(text: str) -> str:
    with pytest.raises(UsageError) as caught:
        parse(text)
    return str(caught.value)


def usage(verb: str) -> str:
    return f"Usage: {HELP[verb].usage}"


# --- creating items ------------------------------------------------------------------------

def test_handoff_to_a_person_with_every_flag() -> None:
    assert parse("handoff @bob Prepare eval report --due 4h --p high --details see the doc") == \
        Create(Kind.HANDOFF, "Prepare eval report", to=Target("bob"), priority=Priority.HIGH,
               due=DueSpec("4h", delta=timedelta(hours=4)), details="see the doc")


def test_handoff_to_a_team_queue_and_to_a_person_as_typed() -> None:
    assert parse("handoff #Release Cut the branch").to == Target("release", team=True)
    assert parse("handoff @U123 Cut the branch").to == Target("U123")  # an id keeps its case
    assert parse("handoff @Bob Cut the branch").to == Target("Bob")  # the directory folds it


def test_platform_markup_is_not_the_grammars() -> None:
    # Surfaces turn their own mentions into @person before the grammar sees the text.
    with pytest.raises(UsageError, match="is not a person"):
        parse("handoff <@U123|bob> Cut the branch")


def test_chat_dashes_count_as_flags() -> None:
    # Slack and Teams turn "--" into an em or en dash.
    assert parse("handoff @bob Cut it —due 2d –p urgent") == parse(
        "handoff @bob Cut it --due 2d --p urgent")
    assert parse("handoff @bob Cut it --priority low").priority is Priority.LOW


def test_prefixes_are_ignored() -> None:
    for prefix in ("/baton", "baton", "@baton", "@Baton"):
        assert parse(f"{prefix} accept #4") == Act(Verb.ACCEPT, 4)
    assert parse("") == Help()
    assert parse("/baton") == Help()


def test_exception() -> None:
    assert parse("exception Eval scores missing --team Eval --owner @Carol --p low") == Create(
        Kind.EXCEPTION, "Eval scores missing", team="eval", owner="Carol",
        priority=Priority.LOW)
    assert parse("exception Disk full") == Create(Kind.EXCEPTION, "Disk full")


@pytest.mark.parametrize(("flag", "policy"), [
    ("", Policy()),
    (" --policy any", Policy(PolicyKind.ANY)),
    (" --policy ALL", Policy(PolicyKind.ALL)),
    (" --policy quorum:2", Policy(PolicyKind.QUORUM, 2)),
    (" --policy sequence", Policy(PolicyKind.SEQUENCE)),
])
def test_approval_policies(flag: str, policy: Policy) -> None:
    command = parse(f"approval Ship v2 --approvers @bob, @carol @dave{flag} --due fri")
    assert isinstance(command, Create)
    assert command.kind is Kind.APPROVAL and command.title == "Ship v2"
    assert command.approvers == ("bob", "carol", "dave")
    assert command.policy == policy
    assert command.due == DueSpec("fri", weekday=4)


def test_approval_flag_alias() -> None:
    command = parse("approval Ship --approver @bob")
    assert isinstance(command, Create) and command.approvers == ("bob",)


# --- reading -------------------------------------------------------------------------------

def test_reading_verbs() -> None:
    assert parse("mine") == Mine()
    assert parse("list") == ListItems()
    assert parse("list --team release --state blocked --kind exception") == ListItems(
        team="release", state=State.BLOCKED, kind=Kind.EXCEPTION)
    assert parse("list --state overdue") == ListItems(overdue=True)
    assert parse("show #42") == Show(42)
    assert parse("show 42") == Show(42)
    assert parse("audit #7") == Audit(7)
    assert parse("digest") == Digest()
    assert parse("digest --team Eval --weekly") == Digest(team="eval", weekly=True)


# --- item verbs ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "command"), [
    ("accept #1", Act(Verb.ACCEPT, 1)),
    ("decline #1 no capacity this week", Act(Verb.DECLINE, 1, text="no capacity this week")),
    ("take #2", Act(Verb.TAKE, 2)),
    ("assign #2 @Dave", Act(Verb.ASSIGN, 2, person="Dave")),
    ("assign #2 @U9", Act(Verb.ASSIGN, 2, person="U9")),
    ("ack #2", Act(Verb.ACK, 2)),
    ("block #2 waiting on legal", Act(Verb.BLOCK, 2, text="waiting on legal")),
    ("block #2 needs the loader --on #1", Act(Verb.BLOCK, 2, text="needs the loader", on=1)),
    ("block #2 needs the loader —on 1", Act(Verb.BLOCK, 2, text="needs the loader", on=1)),
    ("unblock #2", Act(Verb.UNBLOCK, 2)),
    ("done #1", Act(Verb.DONE, 1)),
    ("done #1 report attached", Act(Verb.DONE, 1, text="report attached")),
    ("resolve #2 rerun after the fix", Act(Verb.RESOLVE, 2, text="rerun after the fix")),
    ("approve #3", Act(Verb.APPROVE, 3)),
    ("approve #3 ship it", Act(Verb.APPROVE, 3, text="ship it")),
    ("reject #3 too risky", Act(Verb.REJECT, 3, text="too risky")),
    ("cancel #3", Act(Verb.CANCEL, 3)),
    ("cancel #3 duplicate of #2", Act(Verb.CANCEL, 3, text="duplicate of #2")),
    ("comment #3 see thread", Act(Verb.COMMENT, 3, text="see thread")),
    ("snooze #3 2h", Act(Verb.SNOOZE, 3, duration=timedelta(hours=2))),
    ("snooze #3 1h30m", Act(Verb.SNOOZE, 3, duration=timedelta(minutes=90))),
    ("snooze #3 90 min", Act(Verb.SNOOZE, 3, duration=timedelta(minutes=90))),
    ("ACCEPT #1", Act(Verb.ACCEPT, 1)),
])
def test_item_verbs(text: str, command: Act) -> None:
    assert parse(text) == command


def test_away_and_back() -> None:
    assert parse("away") == Away()
    assert parse("away --delegate @carol") == Away(delegate="carol")
    assert parse("away until tomorrow 9am --delegate @carol") == Away(
        until=DueSpec("tomorrow 9am", day_offset=1, at=time(9, 0)), delegate="carol")
    assert parse("back") == Back()


# --- refusals: one line saying what is wrong, then the verb's usage ------------------------

@pytest.mark.parametrize(("text", "reason"), [
    ("decline #1", "decline needs a reason"),
    ("reject #1", "reject needs a reason"),
    ("resolve #1", "resolve needs a note"),
    ("block #1", "block needs a reason"),
    ("block #1 --on #2", "block needs a reason"),
    ("comment #1", "comment needs the comment text"),
    ("decline #1    ", "decline needs a reason"),
])
def test_missing_reason(text: str, reason: str) -> None:
    verb = text.split()[0]
    assert refusal(text) == f"{reason}\n{usage(verb)}"


@pytest.mark.parametrize(("text", "reason"), [
    ("handoff @bob x --p asap", "unknown priority 'asap': use urgent, high, normal or low"),
    ("exception x --p", "--p needs a value"),
    ("approval x --approvers @bob --policy most",
     "unknown policy 'most': use any, all, quorum:N or sequence"),
    ("approval x --approvers @bob --policy quorum:0",
     "quorum needs a positive count, as in quorum:2"),
    ("approval x --approvers @bob --policy quorum:two",
     "quorum needs a positive count, as in quorum:2"),
    ("approval x --approvers @bob --policy quorum:",
     "quorum needs a positive count, as in quorum:2"),
    ("approval x --approvers @bob --policy any:2",
     "unknown policy 'any:2': use any, all, quorum:N or sequence"),
    ("approval Ship v2", "name the approvers with --approvers @a @b"),
    ("approval Ship --approvers bob", "'bob' is not a person: mention them as @name"),
])
def test_bad_values(text: str, reason: str) -> None:
    assert refusal(text) == f"{reason}\n{usage(text.split()[0])}"


@pytest.mark.parametrize(("text", "reason"), [
    ("accept #1 --due 4h", "accept takes no --due"),
    ("handoff @bob x --owner @carol", "handoff takes no --owner"),
    ("block #1 why --in #2", "block takes no --in"),
    ("mine --team eval", "mine takes no --team"),
    ("handoff @bob x --due 4h --due 2d", "--due given twice"),
    ("handoff @bob x --p high --priority low", "--p given twice"),
    ("handoff @bob x —p high --p low", "--p given twice"),
    ("approval x --approvers @bob --approver @carol", "--approvers given twice"),
])
def test_unknown_and_duplicate_flags(text: str, reason: str) -> None:
    assert refusal(text) == f"{reason}\n{usage(text.split()[0])}"


@pytest.mark.parametrize(("text", "reason"), [
    ("accept", "which item? give its number, as in #42"),
    ("accept 42x", "'42x' is not an item number (try #42)"),
    ("accept #0", "'#0' is not an item number (try #42)"),
    ("accept #", "'#' is not an item number (try #42)"),
    ("accept ##4", "'##4' is not an item number (try #42)"),
    ("accept #-4", "'#-4' is not an item number (try #42)"),
    ("accept #1234567890", "'#1234567890' is not an item number (try #42)"),
    ("show #abc", "'#abc' is not an item number (try #42)"),
    ("block #1 why --on #zero", "'#zero' is not an item number (try #42)"),
    ("block #1 why --on", "--on needs a value"),
])
def test_bad_item_numbers(text: str, reason: str) -> None:
    assert refusal(text) == f"{reason}\n{usage(text.split()[0])}"


@pytest.mark.parametrize(("text", "reason"), [
    ("handoff", "whom to? start with @user or #team"),
    ("handoff @bob", "a title is missing"),
    ("handoff @bob --p high", "a title is missing"),
    ("handoff bob Fix it", "'bob' is not a person: mention them as @name"),
    ("handoff @bob " + "x" * 201, "the title is 201 characters; 200 at most"),
    ("handoff @bob x --details " + "d" * 3001, "the details are over 3000 characters"),
    ("accept #1 please", "accept takes only the item number, got 'please'"),
    ("assign #1", "assign to whom? one @user"),
    ("assign #1 @bob @carol", "assign to whom? one @user"),
    ("snooze #1", "for how long? as in 2h"),
    ("snooze #1 soon", "'soon' is not a duration (try 30m, 4h, 2d or 1w)"),
    ("list --state closed", "unknown state 'closed': use open, active, blocked or overdue"),
    ("list --kind task", "unknown kind 'task': use handoff, exception or approval"),
    ("list everything", "unexpected 'everything'"),
    ("show #1 #2", "unexpected '#2'"),
    ("mine all", "mine takes nothing more, got 'all'"),
    ("away tomorrow", "write `away until <date>`, or just `away`"),
    ("away until", "write `away until <date>`, or just `away`"),
    ("away --delegate carol", "'carol' is not a person: mention them as @name"),
    ("digest now", "unexpected 'now'"),
    ("digest --weekly now", "unexpected 'now'"),
    ("exception x --team 9lives", "'9lives' is not a team name"),
    ("help accept done", "help takes one verb at most"),
    ("help nope", "no verb 'nope'"),
    ("comment #1 " + "c" * 3001, "the text is over 3000 characters"),
    ("handoff @bob " + "x " * 2000, "the command is over 4000 characters"),
])
def test_other_refusals(text: str, reason: str) -> None:
    assert refusal(text) == f"{reason}\n{usage(text.split()[0])}"


def test_unknown_verb_points_to_help() -> None:
    assert refusal("frobnicate #1") == "unknown verb 'frobnicate'\nType `help` for the verbs."
    assert refusal("/baton acept #1") == "unknown verb 'acept'\nType `help` for the verbs."


def test_quorum_with_a_superscript_digit_says_what_is_wrong() -> None:
    text = "approval x --approvers @bob --policy quorum:²"
    assert refusal(text) == ("quorum needs a positive count, as in quorum:2\n"
                             f"{usage('approval')}")


# --- help ----------------------------------------------------------------------------------

def test_help_lists_every_verb() -> None:
    assert parse("help") == Help()
    text = str(help_text())
    lines = text.splitlines()
    assert lines[0] == "Baton verbs (`help <verb>` for one):"
    for verb, entry in HELP.items():
        assert any(line.split()[:1] == [verb] and entry.summary in line for line in lines), verb
    assert "Due times: 4h, 2d, fri 17:00, tomorrow 9am, 2026-12-01" in text


@pytest.mark.parametrize("verb", list(HELP))
def test_help_for_one_verb(verb: str) -> None:
    assert parse(f"help {verb.upper()}") == Help(verb)
    assert str(help_text(verb)) == f"{HELP[verb].usage}\n  {HELP[verb].summary}"
    assert str(help_text(verb)).split()[0] == verb


def test_help_through_the_service() -> None:
    world = World()
    baton = Baton(FakeUnits(world),
                  FakeClock(datetime(2026, 11, 23, 9, tzinfo=UTC)), FakeDirectory())

    async def go() -> None:
        reply = await baton.run(Request("w", "alice"), "help decline")
        assert reply.ok and str(reply.text) == \
            "decline #42 <reason>\n  hand a handoff back to its requester"
        reply = await baton.run(Request("w", "alice"), "")
        assert reply.ok and reply.text == help_text()
        reply = await baton.run(Request("w", "alice"), "decline #1")
        assert not reply.ok
        assert str(reply.text) == "decline needs a reason\nUsage: decline #42 <reason>"

    asyncio.run(go())
    assert world.events == [] and world.outbox == []


@pytest.mark.parametrize("text", ["cancel #٣", "show #１", "accept #𝟙", "snooze #1 ٢h"])
def test_only_ascii_digits_are_numbers(text: str) -> None:
    with pytest.raises(UsageError):
        parse(text)
