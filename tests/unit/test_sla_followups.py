"""Reminders, breaches, escalation steps and nudges at the right business-hours instants,
through the core with an injected clock (over the fakes; never sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.calendar import BusinessHours, days_off
from bot.context import Request
from bot.messages import Audience
from bot.people import ChainStep, SlaTargets, TeamClock
from bot.service import Baton
from tests.fakes import FakeClock, FakeDirectory, FakeUnits, World

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
OFFICE = BusinessHours(LONDON, frozenset(range(5)), time(9), time(17, 30),
                       days_off(holidays.country_holidays("GB", subdiv="ENG").__contains__))
CHAIN = (ChainStep(timedelta(), "owner"),
         ChainStep(H, "lead", reassign_to="lead"),
         ChainStep(4 * H, "channel"))


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


class Office:
    """Team `release` (lead lena; alice, bob) on London office hours, 4h to acknowledge, 2 days
    to resolve, reminders at 75 %, the chain owner → lead (taking it over) → channel."""

    def __init__(self, start: datetime, targets: SlaTargets | None = None,
                 **clock: object) -> None:
        self.world = World()
        self.clock = FakeClock(start)
        rules = TeamClock(calendar=OFFICE, chain=CHAIN, **clock)  # type: ignore[arg-type]
        directory = FakeDirectory({"release": rules},
                                  targets or SlaTargets(4 * H, timedelta(days=2), 0.75))
        self.baton = Baton(FakeUnits(self.world), self.clock, directory)

    async def say(self, who: str, text: str, at: datetime | None = None) -> None:
        if at is not None:
            self.clock.current = at
        reply = await self.baton.run(Request("w", who), text)
        assert reply.ok, str(reply.text)

    async def at(self, when: datetime) -> list[str]:
        """Move the clock to `when` and run what is due."""
        self.clock.current = when
        return [str(line) for line in await self.baton.tick("w", when)]

    async def quiet_until(self, when: datetime) -> None:
        """Nothing is due a minute before `when`."""
        assert await self.at(when - timedelta(minutes=1)) == []

    def actions(self, number: int = 1) -> list[str]:
        return [e.action for e in self.world.events if e.item == number]

    def sent(self, delivery: Audience, to: str) -> list[str]:
        return [str(m.text) for m in self.world.outbox if m.audience is delivery and m.to == to]


async def test_a_friday_handoff_reminds_breaches_and_escalates_on_monday() -> None:
    office = Office(london(2026, 11, 20, 16))  # Friday 16:00: 1.5 working hours left today
    await office.say("alice", "handoff @bob Sign the release notes")
    item = office.world.items[("w", 1)]
    assert item.ack_deadline == london(2026, 11, 23, 11, 30)
    assert item.next_followup_at == london(2026, 11, 23, 10, 30)  # 75 % of 4 working hours

    assert await office.at(london(2026, 11, 21, 12)) == []  # the weekend counts for nothing
    await office.quiet_until(london(2026, 11, 23, 10, 30))
    assert await office.at(london(2026, 11, 23, 10, 30)) == [
        "Baton sent a reminder on #1: acknowledgement due Mon 23 Nov 2026 11:30 UTC; "
        "reminded @bob."]
    assert office.sent(Audience.PERSON, "bob")[-1] == (
        "⏳ Reminder: #1 “Sign the release notes” — acknowledgement due Mon 23 Nov 11:30 GMT "
        "(in 1h).")

    await office.quiet_until(london(2026, 11, 23, 11, 30))
    assert await office.at(london(2026, 11, 23, 11, 30)) == [
        "Baton flagged #1: acknowledgement target missed (due Mon 23 Nov 2026 11:30 UTC).",
        "Baton escalated #1: step 1 of 3, acknowledgement 0m overdue; told @bob."]

    await office.quiet_until(london(2026, 11, 23, 12, 30))
    assert await office.at(london(2026, 11, 23, 12, 30)) == [
        "Baton escalated #1: step 2 of 3, acknowledgement 1h overdue; told @lena; "
        "reassigned to @lena."]
    assert office.world.items[("w", 1)].owner == "lena"
    assert "🚨 Escalation 2/3" in office.sent(Audience.PERSON, "lena")[-1]

    await office.quiet_until(london(2026, 11, 23, 15, 30))
    assert await office.at(london(2026, 11, 23, 15, 30)) == [
        "Baton escalated #1: step 3 of 3, acknowledgement 4h overdue; told #release's channel."]
    assert office.sent(Audience.TEAM, "release") == [
        "🚨 Escalation 3/3: #1 “Sign the release notes” is 4h past its acknowledgement target "
        "(due Mon 23 Nov 11:30 UTC); owner @lena."]
    # Every step is on the trail and in the card's thread.
    assert office.actions() == ["created", "remind", "breach", "escalate", "escalate",
                                "escalate"]
    thread = [str(m.text) for m in office.world.outbox if m.audience is Audience.THREAD]
    assert len(thread) == 5 and all("#1" in line for line in thread)
    assert office.world.items[("w", 1)].escalation_level == 3


async def test_christmas_and_the_observed_boxing_day_hold_the_clock() -> None:
    office = Office(london(2026, 12, 24, 15))
    await office.say("alice", "handoff @bob Year-end checklist")
    assert office.world.items[("w", 1)].ack_deadline == london(2026, 12, 29, 10, 30)
    for day in (25, 26, 27, 28):
        assert await office.at(london(2026, 12, day, 16)) == []
    await office.quiet_until(london(2026, 12, 29, 9, 30))
    assert len(await office.at(london(2026, 12, 29, 9, 30))) == 1  # the reminder
    await office.quiet_until(london(2026, 12, 29, 10, 30))
    assert len(await office.at(london(2026, 12, 29, 10, 30))) == 2  # breach, step 1
    await office.quiet_until(london(2026, 12, 29, 11, 30))
    assert len(await office.at(london(2026, 12, 29, 11, 30))) == 1  # step 2


async def test_the_autumn_clock_change_keeps_office_hours_local() -> None:
    office = Office(london(2026, 10, 23, 16, 30))  # BST, UTC+1
    await office.say("alice", "handoff @bob Rotate the signing keys")
    item = office.world.items[("w", 1)]
    assert item.ack_deadline == datetime(2026, 10, 26, 12, tzinfo=UTC)  # 12:00 GMT
    await office.quiet_until(datetime(2026, 10, 26, 11, tzinfo=UTC))
    assert len(await office.at(datetime(2026, 10, 26, 11, tzinfo=UTC))) == 1
    await office.quiet_until(datetime(2026, 10, 26, 12, tzinfo=UTC))
    assert len(await office.at(datetime(2026, 10, 26, 12, tzinfo=UTC))) == 2
    await office.quiet_until(datetime(2026, 10, 26, 13, tzinfo=UTC))
    assert len(await office.at(datetime(2026, 10, 26, 13, tzinfo=UTC))) == 1


async def test_acknowledging_stops_the_ack_ladder_and_the_resolve_one_runs_on() -> None:
    office = Office(london(2026, 11, 23, 9))
    await office.say("alice", "handoff @bob Publish the changelog")
    await office.at(london(2026, 11, 23, 12))  # reminder
    await office.say("bob", "accept #1", at=london(2026, 11, 23, 12, 30))
    assert await office.at(london(2026, 11, 23, 17, 29)) == []  # no breach of the ack target
    item = office.world.items[("w", 1)]
    # Resolve: 2 working days from Monday 09:00 is Tuesday 17:30; 25 % of 17h before it.
    assert item.resolve_deadline == london(2026, 11, 24, 17, 30)
    assert item.next_followup_at == london(2026, 11, 24, 13, 15)
    assert await office.at(london(2026, 11, 24, 13, 15)) == [
        "Baton sent a reminder on #1: resolution due Tue 24 Nov 2026 17:30 UTC; reminded @bob."]
    await office.say("bob", "done #1", at=london(2026, 11, 24, 14))
    assert office.world.items[("w", 1)].next_followup_at is None
    assert await office.at(london(2026, 11, 30, 9)) == []
    assert office.actions() == ["created", "remind", "accept", "remind", "done"]


async def test_snooze_holds_the_reminder_but_not_the_breach() -> None:
    office = Office(london(2026, 11, 23, 9))
    await office.say("alice", "handoff @bob Renew the certificate")
    await office.say("bob", "snooze #1 2h30m", at=london(2026, 11, 23, 10))
    assert await office.at(london(2026, 11, 23, 12)) == []  # the reminder would be now
    assert len(await office.at(london(2026, 11, 23, 12, 30))) == 1  # held until the snooze ends
    assert len(await office.at(london(2026, 11, 23, 13))) == 2  # the breach is not held
    assert office.actions() == ["created", "snooze", "remind", "breach", "escalate"]


async def test_a_snooze_past_the_deadline_drops_the_reminder() -> None:
    office = Office(london(2026, 11, 23, 9))
    await office.say("alice", "handoff @bob Renew the certificate")
    await office.say("bob", "snooze #1 1d", at=london(2026, 11, 23, 10))
    assert await office.at(london(2026, 11, 23, 12, 59)) == []
    assert [line.split(":")[0] for line in await office.at(london(2026, 11, 23, 13))] == [
        "Baton flagged #1", "Baton escalated #1"]


async def test_blocked_time_pauses_the_resolve_clock_and_the_trail_says_so() -> None:
    office = Office(london(2026, 11, 23, 9), pause_when_blocked=True)
    await office.say("alice", "handoff @bob Migrate the eval cluster")
    await office.say("bob", "accept #1", at=london(2026, 11, 23, 9, 30))
    await office.say("bob", "block #1 waiting on the vendor", at=london(2026, 11, 24, 12))
    # The reminder was due Tuesday 13:15; blocked, the resolve clock does not run.
    assert await office.at(london(2026, 11, 24, 15)) == []
    await office.say("bob", "unblock #1", at=london(2026, 11, 24, 16))
    item = office.world.items[("w", 1)]
    # Blocked 12:00-16:00, four working hours: Tuesday 17:30 becomes Wednesday 13:00.
    assert item.resolve_deadline == london(2026, 11, 25, 13)
    unblock = next(e for e in office.world.events if e.action == "unblock")
    assert unblock.before["resolve_deadline"] == london(2026, 11, 24, 17, 30).isoformat()
    assert unblock.after["resolve_deadline"] == london(2026, 11, 25, 13).isoformat()
    await office.quiet_until(london(2026, 11, 24, 17, 15))
    assert len(await office.at(london(2026, 11, 24, 17, 15))) == 1
    await office.quiet_until(london(2026, 11, 25, 13))
    assert len(await office.at(london(2026, 11, 25, 13))) == 2


async def test_without_the_pause_rule_blocked_items_keep_their_clock() -> None:
    office = Office(london(2026, 11, 23, 9))
    await office.say("alice", "handoff @bob Migrate the eval cluster")
    await office.say("bob", "accept #1", at=london(2026, 11, 23, 9, 30))
    await office.say("bob", "block #1 waiting on the vendor", at=london(2026, 11, 24, 12))
    assert len(await office.at(london(2026, 11, 24, 13, 15))) == 1


async def test_stalled_active_items_are_nudged_once_per_quiet_working_day() -> None:
    office = Office(london(2026, 11, 23, 9), SlaTargets(4 * H, None),
                    stall_every=timedelta(days=1))
    await office.say("alice", "exception Flaky nightly eval --owner @bob")
    await office.say("bob", "ack #1", at=london(2026, 11, 23, 9, 30))
    await office.quiet_until(london(2026, 11, 24, 9, 30))  # a working day, 8.5h, later
    assert await office.at(london(2026, 11, 24, 9, 30)) == [
        "Baton nudged on #1: no change since Mon 23 Nov 2026 09:30 UTC; asked @bob for news."]
    assert office.sent(Audience.PERSON, "bob")[-1].startswith("💤 #1 “Flaky nightly eval” has not")
    await office.say("bob", "comment #1 still digging", at=london(2026, 11, 24, 10))
    assert await office.at(london(2026, 11, 25, 9, 59)) == []  # the comment moved it
    assert await office.at(london(2026, 11, 25, 10)) == [
        "Baton nudged on #1: no change since Tue 24 Nov 2026 10:00 UTC; asked @bob for news."]


async def test_after_downtime_each_overdue_step_fires_once_in_order() -> None:
    office = Office(london(2026, 11, 23, 9))
    await office.say("alice", "handoff @bob Archive the old runs")
    lines = await office.at(london(2026, 11, 23, 17))
    assert [line.split(":")[0] for line in lines] == [
        "Baton flagged #1", "Baton escalated #1", "Baton escalated #1", "Baton escalated #1"]
    assert "sent a reminder" not in " ".join(lines)  # too late to remind
    assert await office.at(london(2026, 11, 23, 17)) == []  # and never again
    assert office.actions().count("escalate") == 3


async def test_approvals_remind_the_pending_approvers() -> None:
    office = Office(london(2026, 11, 23, 9))
    await office.say("alice", "approval Ship v3 --approvers @bob @carol --policy all")
    await office.say("bob", "approve #1 fine", at=london(2026, 11, 23, 10))
    # bob's decision was the first: the ack target is met; carol still owes hers.
    assert await office.at(london(2026, 11, 24, 13, 15)) == [
        "Baton sent a reminder on #1: decision due Tue 24 Nov 2026 17:30 UTC; reminded @carol."]


async def test_an_unowned_exception_reminds_the_team_lead() -> None:
    office = Office(london(2026, 11, 23, 9))
    await office.say("alice", "exception Disk almost full --team release")
    assert await office.at(london(2026, 11, 23, 12)) == [
        "Baton sent a reminder on #1: acknowledgement due Mon 23 Nov 2026 13:00 UTC; "
        "reminded @lena."]
    await office.at(london(2026, 11, 23, 13))
    assert office.sent(Audience.PERSON, "lena")[-1] == (
        "🚨 Escalation 1/3: #1 “Disk almost full” is 0m past its acknowledgement target "
        "(due Mon 23 Nov 13:00 GMT); unassigned.")


@pytest.mark.parametrize("command", ["cancel #1 not needed", "done #1"])
async def test_ended_items_have_nothing_due(command: str) -> None:
    office = Office(london(2026, 11, 23, 9))
    await office.say("alice", "handoff @bob Tidy up")
    if command.startswith("done"):
        await office.say("bob", "accept #1")
        await office.say("bob", command)
    else:
        await office.say("alice", command)
    item = office.world.items[("w", 1)]
    assert item.next_followup_at is None and item.closed_at == london(2026, 11, 23, 9)
    assert await office.at(london(2026, 12, 23, 9)) == []
