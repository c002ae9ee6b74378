"""Fuzzing the one grammar: any text parses to a command or a UsageError, never anything else.

A UsageError reads as one line naming what was wrong, then the usage line of the verb typed
(or, when no verb was recognised, the pointer to `help`). Through the service, no text makes
Baton raise, and a refused command writes nothing.
"""

from __future__ import annotations

import asyncio
import copy
import functools
from dataclasses import fields
from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.commands import (
    Act,
    Audit,
    Away,
    Back,
    Command,
    Create,
    Digest,
    Help,
    ListItems,
    Mine,
    Show,
)
from bot.context import Request
from bot.grammar import HELP, UsageError, help_text, parse
from bot.service import Baton, Reply
from tests.fakes import FakeClock, FakeDirectory, FakeUnits, World

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
PEOPLE = ("alice", "bob", "carol", "dave", "lena", "ed", "root")
PREFIXES = ("/baton", "baton", "@baton", "@Baton")
POINTER = "Type `help` for the verbs."
COMMANDS = (Create, Act, Mine, ListItems, Show, Audit, Away, Back, Digest, Help)

#: Tokens that sit next to valid ones: numbers out of range, flags with em dashes, mentions
#: in Slack's form, dates that do not exist, values each flag might or might not accept.
NEAR_MISSES = (
    "#", "#0", "#1", "#2", "#3", "#01", "#-1", "# 1", "#99999999999", "#999999999", "42", "#٣",
    "--due", "—due", "–due", "--DUE", "--p", "—p", "--priority", "--P", "--policy", "—policy",
    "--approvers", "--approver", "—approvers", "--owner", "--owners", "--team", "--on", "—on",
    "--details", "--delegate", "--weekly", "--state", "--kind", "--", "—", "–", "---", "--x",
    "quorum:0", "quorum:2", "quorum:99", "quorum:", "quorum:-1", "quorum:²", "any", "all",
    "sequence", "first", "@", "@@bob", "@bob", "@Bob", "@zed", "@alice,", "<@U1|x>", "<@U1>",
    "<@u1>", "<@>", "#release", "#eval", "#Release", "#nope", "#9lives", "until", "tomorrow",
    "today", "9am", "0am", "13pm", "24:00", "17:60", "fri", "friday", "17:00", "5pm",
    "2026-12-01", "2026-02-30", "0000-01-01", "2026-12-01T09:30", "2026-12-01t09:30", "4h",
    "2d", "1h30m", "90", "min", "0h", "0m", "9999w", "1y", "urgent", "high", "HIGH", "meh",
    "handoff", "open", "blocked", "overdue", "done", "approval", "\u200b", "\u00a0", "\t",
    "\x00", "\x1c", "\u2028", "é", "İ", "ß", "🎉", "'", '"', "`", "<", ">", "|",
)
VERBS = tuple(HELP)
verb_token = st.sampled_from(VERBS).flatmap(
    lambda v: st.sampled_from([v, v.upper(), v.capitalize(), v + "s", v[:-1]]))
near_miss = st.lists(st.one_of(st.sampled_from(NEAR_MISSES), st.text(max_size=6)), max_size=8)


@st.composite
def near_miss_lines(draw: st.DrawFn) -> str:
    """A verb (maybe with a prefix, maybe mistyped), then plausible and implausible tokens."""
    head = [draw(st.sampled_from(PREFIXES))] if draw(st.booleans()) else []
    head.append(draw(verb_token))
    return " ".join(head + draw(near_miss))


long_lines = st.builds(
    lambda verb, char, n: f"{verb} #1 " + char * n,
    st.sampled_from(VERBS), st.sampled_from(["x", "x ", "é", "\u200b", "--p ", "@b "]),
    st.integers(150, 4200),
)
any_text = st.one_of(st.text(), st.text(max_size=400), near_miss_lines(), long_lines,
                     st.text(alphabet=st.characters(codec="ascii"), max_size=60))


def typed_verb(text: str) -> str | None:
    """The verb the person typed, as the usage line should name it (None: no known verb)."""
    tokens = text.split()
    if tokens and tokens[0].lower() in ("/baton", "baton", "@baton"):
        tokens = tokens[1:]
    if not tokens:
        return None
    verb = tokens[0].lower()
    return verb if verb in HELP else None


def assert_well_formed(exc: UsageError, text: str) -> None:
    lines = str(exc).split("\n")
    assert len(lines) == 2, f"{text!r} -> {str(exc)!r}"
    reason, usage = lines
    assert reason.strip() and reason == exc.reason, f"{text!r} -> {str(exc)!r}"
    verb = typed_verb(text)
    if verb is None:
        assert usage == POINTER, f"{text!r} -> {str(exc)!r}"
    else:
        assert usage == f"Usage: {HELP[verb].usage}", f"{text!r} -> {str(exc)!r}"


@given(any_text)
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example("")
@example("\x00")
@example("—due")
@example("handoff @bob x —due 4h —p urgent")
@example("approval x --approvers @bob --policy quorum:0")
@example("approval x --approvers @bob --policy quorum:²")
@example("accept #99999999999")
@example("block #1 x --on")
@example("help nope")
@example("list --state done")
@example("handoff @bob " + "x" * 4000)
def test_parse_returns_a_command_or_a_usage_error(text: str) -> None:
    try:
        command = parse(text)
    except UsageError as exc:
        assert_well_formed(exc, text)
        return
    assert isinstance(command, COMMANDS)
    check_command(command)


def check_command(command: Command) -> None:
    """What a parsed command promises the handlers."""
    match command:
        case Act() | Show() | Audit():
            assert 1 <= command.number <= 999_999_999
        case Create():
            assert command.title.strip() and len(command.title) <= 200
            assert len(command.details) <= 3000
    if isinstance(command, Act):
        assert len(command.text) <= 3000
        assert command.on is None or command.on >= 1
        assert (command.person is not None) == (command.verb == "assign")
        assert (command.duration is not None) == (command.verb == "snooze")
        if command.duration is not None:
            assert command.duration.total_seconds() > 0


@given(st.one_of(st.text(max_size=30), st.sampled_from(VERBS), verb_token))
@settings(max_examples=300, deadline=None)
def test_help_names_a_verb_or_says_which_is_unknown(verb: str) -> None:
    try:
        text = str(help_text(verb))
    except UsageError as exc:
        assert str(exc) == f"{exc.reason}\nUsage: {HELP['help'].usage}"
        assert verb.strip().lower() not in HELP
        return
    if verb:
        assert text.startswith(HELP[verb.strip().lower()].usage)
    else:
        assert all(name in text for name in HELP)


# --- through the service -------------------------------------------------------------------

SEED = [
    ("alice", "handoff @bob Prepare eval report --due 2d"),
    ("carol", "exception Eval scores missing --team eval"),
    ("alice", "approval Ship v2 --approvers @bob @carol --policy quorum:2"),
    ("dave", "take #2"),
    ("dave", "block #2 waiting on the loader --on #1"),
    ("ed", "away --delegate @dave"),
]


@functools.cache
def seeded_world() -> World:
    """A workspace with a handoff, a blocked exception, an approval and someone away."""
    world = World()
    baton = Baton(FakeUnits(world), FakeClock(T0), FakeDirectory())

    async def seed() -> None:
        for who, text in SEED:
            reply = await baton.run(Request("w", who), text)
            assert reply.ok, (who, text, str(reply.text))

    asyncio.run(seed())
    return world


def fingerprint(world: World) -> tuple[tuple[str, object], ...]:
    """Every field of the world (items, numbers, events, outbox, absences…), copied."""
    return tuple((f.name, copy.copy(getattr(world, f.name))) for f in fields(world))


@given(st.sampled_from([*PEOPLE, "zed"]), any_text)
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example("bob", "accept #1")
@example("bob", "approve #3 —p high")
@example("alice", "handoff @bob x --due 2026-01-01")
@example("alice", "away until 0001-01-01")
@example("alice", "handoff @bob x --due 9999-12-31 23:59")
@example("alice", "away until 9999-12-31 --delegate @bob")
@example("zed", "help")
def test_the_service_never_raises_and_refusals_write_nothing(who: str, text: str) -> None:
    world = copy.deepcopy(seeded_world())
    baton = Baton(FakeUnits(world), FakeClock(T0), FakeDirectory())
    before = fingerprint(world)
    reply = asyncio.run(baton.run(Request("w", who), text))
    assert isinstance(reply, Reply) and str(reply.text)
    if not reply.ok:
        assert fingerprint(world) == before, f"{who}: {text!r} was refused but wrote"
