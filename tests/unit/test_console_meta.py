"""The console's own commands over the core's fakes: `:as` with no name, and `:time` kept
by whoever keeps the offset, or refused where the clock must stay real."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.console.session import ConsoleClock, ConsoleSession
from bot.runner import Runner
from bot.service import Baton
from tests.fakes import FakeDirectory, FakeUnits, World

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def session(script: str, clock: ConsoleClock, **options: Any) -> tuple[ConsoleSession,
                                                                          io.StringIO]:
    world = World()
    directory = FakeDirectory()
    baton = Baton(FakeUnits(world), clock, directory)
    out = io.StringIO()
    return ConsoleSession(Runner(baton), directory, clock, workspace="w", user="alice",
                          stdin=io.StringIO(script), stdout=out,
                          due_work=lambda now: baton.tick("w", now),
                          **options), out


async def test_as_with_no_name_says_how_and_whom() -> None:
    console, out = session(":as\n:as   \n:quit\n", ConsoleClock(lambda: T0))
    await console.run()
    assert out.getvalue().count("Name the person to act as") == 2
    assert "e.g. `:as bob`; one of alice, bob, carol, dave, ed, lena." in out.getvalue()
    assert "Unknown console command" not in out.getvalue()
    assert console.user == "alice"


async def test_time_hands_the_new_offset_to_be_kept() -> None:
    kept: list[timedelta] = []

    async def keep(offset: timedelta) -> None:
        kept.append(offset)

    clock = ConsoleClock(lambda: T0, timedelta(hours=5))  # as a restarted console finds it
    console, out = session(":time +1d\n:time +30m\n:time\n:quit\n", clock, keep_offset=keep)
    await console.run()
    assert "🕒 The clock runs 5h ahead of real time" in out.getvalue()
    assert kept == [timedelta(days=1, hours=5), timedelta(days=1, hours=5, minutes=30)]
    assert "🕒 Tue 24 Nov 2026 14:30 UTC" in out.getvalue()


async def test_time_travel_can_be_refused() -> None:
    clock = ConsoleClock(lambda: T0)
    console, out = session(":time +1d\n:time\n:quit\n", clock,
                           travel_refused="this database serves Slack")
    await console.run()
    assert "The clock stays real here: this database serves Slack." in out.getvalue()
    assert clock.offset == timedelta() and "🕒 Mon 23 Nov 2026 09:00 UTC" in out.getvalue()
