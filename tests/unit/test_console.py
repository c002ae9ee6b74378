"""The console session over the core's fakes: numbered buttons, reason prompts, :as and :time."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from adapters.console.session import ConsoleClock, ConsoleSession
from adapters.console.transport import ConsoleTransport
from bot.runner import Runner
from bot.service import Baton
from jobs.outbox import OutboxWorker
from tests.fakes import FakeDirectory, FakeQueue, FakeUnits, World

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def session_output(script: str, world: World) -> str:
    clock = ConsoleClock(lambda: T0)
    directory = FakeDirectory()
    baton = Baton(FakeUnits(world), clock, directory)
    out = io.StringIO()
    worker = OutboxWorker(FakeQueue(world), [ConsoleTransport(out)], clock)
    session = ConsoleSession(
        Runner(baton), directory, clock, workspace="w", user="alice",
        stdin=io.StringIO(script), stdout=out,
        due_work=lambda now: baton.tick("w", now), outbox=worker.drain)
    await session.run()
    return out.getvalue()


async def test_numbers_press_buttons_and_reasons_are_asked_for() -> None:
    world = World()
    out = await session_output(
        "handoff @bob Review the launch checklist\n"
        ":as bob\n"
        "show #1\n"
        "2\n"                        # Decline… asks for a reason
        "not my area\n"
        ":as alice\n"
        "9\n"                        # no such button
        ":quit\n", world)
    assert "[1] Accept  [2] Decline…" in out
    assert "  reason: not my area" in out
    assert "@bob declined #1: not my area. It is back with @alice." in out
    assert "✉ to @alice: @bob declined #1" in out
    assert "No such choice" in out
    item = world.items[("w", 1)]
    assert (item.owner, item.state.value) == ("alice", "open")


async def test_an_empty_reason_does_nothing() -> None:
    world = World()
    out = await session_output("approval Budget --approvers @bob\n:as bob\nshow #1\n2\n\n", world)
    assert "[1] Approve  [2] Reject…" in out
    assert "Nothing done: a reason is needed." in out
    assert world.items[("w", 1)].decisions == ()


async def test_time_runs_due_work_and_as_refuses_strangers() -> None:
    world = World()
    out = await session_output(
        ":as bob\naway until 2026-11-24 09:00 --delegate @carol\n"
        ":time +1d\n:as zed\n:time soon\n:bogus\n", world)
    assert "🕒 Tue 24 Nov 2026 09:00 UTC" in out
    assert "⏰ @bob is back (away period ended)." in out
    assert "No one called zed" in out
    assert "is not a duration" in out
    assert "Unknown console command ':bogus'" in out
    assert ("w", "bob") not in world.absences
