"""`baton demo`: eight weeks of a model-release organisation's work, typed through the core.

Seven weeks of history (handoffs, exceptions and approvals raised, taken and closed at a pace
that changes from week to week, so the weekly digest's chart and its changes against the week
before show something on the first run), then a detailed last week with items still open,
overdue and blocked on one another. The clock is set back and moves forward line by line;
the timers' due work (reminders, breaches, escalations) is done as time passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.context import Request
from bot.service import Baton
from store.uow import Database, SqlUnitOfWork

H = 3600
D = 24 * H
HISTORY_WEEKS = 7
WEEK_STARTS = HISTORY_WEEKS * 7 * D - D  # the detailed week began six days ago
CREATES = ("handoff", "exception", "approval")
#: `#w3`, `#h12`: the demo's own items (the week's third, the history's twelfth), whatever
#: numbers the database gives them.
_KEY = re.compile(r"#([wh]\d+)\b")

#: The detailed last week: (seconds after it began, who, what they typed).
WEEK: list[tuple[int, str, str]] = [
    (0, "alice", "handoff @bob Freeze the v3.2 training config --due 1d --p high "
                 "--details Pin data mix, tokenizer and seeds for the release candidate"),
    (1 * H, "bob", "accept #w1"),
    (2 * H, "alice", "handoff @carol Run the safety eval suite on v3.2-rc1 --due 3d --p high"),
    (3 * H, "carol", "accept #w2"),
    (4 * H, "dave", "exception Eval cluster out of GPU quota --team ml-platform --p urgent"),
    (5 * H, "priya", "assign #w3 @erin"),
    (6 * H, "erin", "ack #w3"),
    (7 * H, "carol", "block #w2 needs the eval GPUs back --on #w3"),
    (1 * D, "bob", "done #w1 config frozen at 9f3c2e"),
    (1 * D + H, "alice", "approval Legal sign-off on the v3.2 model card "
                         "--approvers @grace @heidi --policy all --due 4d"),
    (1 * D + 3 * H, "grace", "approve #w4 model card reviewed"),
    (2 * D, "alice", "approval Canary ring rollout of v3.2 --approvers @priya @frank @ivan "
                     "--policy sequence --due 2d --p high"),
    (2 * D + H, "priya", "approve #w5 serving capacity is reserved"),
    (2 * D + 2 * H, "frank", "exception Tokenizer regression on Hindi prompts --team eval "
                             "--p high"),
    (2 * D + 3 * H, "carol", "comment #w6 reproduced on 3 of 50 prompts"),
    (3 * D, "alice", "handoff @dave Write the v3.2 release notes --due 1d"),
    (3 * D + H, "ivan", "handoff #release Update the status page template --p low"),
    (4 * D, "heidi", "exception Licence of the new web dataset is unclear --team legal"),
    (4 * D + H, "grace", "take #w9"),
    (4 * D + 2 * H, "grace", "ack #w9"),
    (4 * D + 3 * H, "grace", "block #w9 waiting on the vendor's reply"),
    (5 * D, "alice", "handoff @frank Collect the eval sign-offs --due 1d"),
    (5 * D + H, "frank", "decline #w10 out on Friday, Dave has the context"),
    (5 * D + 2 * H, "alice", "approval Extra GPU budget for the canary --approvers @priya @ivan "
                             "--policy any"),
    (5 * D + 4 * H, "erin", "comment #w3 quota request filed with the cloud team"),
]


@dataclass(frozen=True)
class TeamPlan:
    """How one team's history goes: who hands work to whom, who raises and works exceptions,
    which kinds come in turn, how many items each week, and their titles."""

    lead: str
    owner: str  # receives handoffs (their home team is this team)
    raiser: str
    worker: str  # takes, acknowledges and resolves exceptions (a member)
    kinds: tuple[str, ...]
    per_week: tuple[int, ...]
    titles: tuple[str, ...]
    slowest_ack: int = 6  # hours: slower than some SLA targets, so a few items breach
    high_priority: bool = True  # every fourth item is `--p high`


TEAMS: dict[str, TeamPlan] = {
    "ml-platform": TeamPlan(
        "priya", "bob", "ivan", "heidi", ("handoff", "exception"), (1, 2, 1, 2, 3, 2, 3),
        ("Rotate the training cluster's node images", "Checkpoint upload to cold storage "
         "stalled", "Raise the serving quota for the canary pool", "Preemptions spiking on "
         "the A100 queue", "Pin the CUDA base image for v3.2", "Nightly data-mix job ran out "
         "of disk", "Move the feature store to the new bucket")),
    "eval": TeamPlan(
        "carol", "dave", "ivan", "dave", ("exception", "handoff"), (1, 1, 2, 2, 1, 3, 2),
        ("Refresh the multilingual eval set", "Toxicity scores missing for 2% of prompts",
         "Add the long-context suite to the nightly run", "Eval dashboard timed out on the "
         "big sweep", "Re-baseline the coding benchmark")),
    "release": TeamPlan(
        "alice", "erin", "heidi", "erin", ("handoff", "approval", "exception"),
        (1, 1, 2, 1, 2, 2, 3),
        ("Draft the v3.1 patch release notes", "Ship the v3.1.1 hotfix to the broad ring",
         "Canary metrics export broke after the upgrade", "Update the rollback runbook",
         "Extra GPU hours for the shadow deployment"),
        slowest_ack=3, high_priority=False),  # its chain hands breached items to the lead
    "legal": TeamPlan(
        "grace", "frank", "heidi", "frank", ("exception",), (0, 1, 0, 1, 0, 1, 0),
        ("Review the dataset licence addendum", "Takedown request for a scraped forum post")),
}
NOTES = ("shipped", "fixed and verified", "done, see the runbook", "closed with the vendor")


#: A line typed: seconds after the demo began, who, what, and the key of the item it creates.
Line = tuple[int, str, str, str | None]


def history() -> list[Line]:
    """Seven weeks of each team's items, from creation to close. The last week's last item of
    each team is left open."""
    lines: list[Line] = []
    count = 0
    for week in range(HISTORY_WEEKS):
        for plan_number, (team, plan) in enumerate(TEAMS.items()):
            for i in range(plan.per_week[week]):
                count += 1
                key = f"#h{count}"
                start = week * 7 * D + ((2 * i + week + plan_number) % 5) * D + (9 + 2 * i) * H
                ack = (1 + (week * 3 + i * 5 + plan_number) % plan.slowest_ack) * H
                close = ack + (1 + (week + i) % 2) * D + (i % 2) * 5 * H
                title = plan.titles[(3 * week + i + plan_number) % len(plan.titles)]
                kind = plan.kinds[(week + i) % len(plan.kinds)]
                high = " --p high" if plan.high_priority and (week + i) % 4 == 0 else ""
                still_open = week == HISTORY_WEEKS - 1 and i == plan.per_week[week] - 1
                note = NOTES[(week + i) % len(NOTES)]
                if kind == "handoff":
                    steps = [(0, plan.lead, f"handoff @{plan.owner} {title}{high}"),
                             (ack, plan.owner, f"accept {key}"),
                             (close, plan.owner, f"done {key} {note}")]
                elif kind == "exception":
                    steps = [(0, plan.raiser, f"exception {title} --team {team}{high}"),
                             (ack, plan.worker, f"take {key}"),
                             (ack, plan.worker, f"ack {key}"),
                             (close, plan.worker, f"resolve {key} {note}")]
                else:
                    steps = [(0, plan.lead, f"approval {title} --approvers @priya @ivan "
                                            f"--policy any{high}"),
                             (ack, "priya", f"approve {key} fine by me")]
                if still_open:
                    steps = steps[:-1]
                lines += [(start + after, who, text, key[1:] if after == 0 else None)
                          for after, who, text in steps]
    return lines


def last_week() -> list[Line]:
    """WEEK, its n-th item created keyed w<n>, in time after the history."""
    keys = iter(range(1, len(WEEK) + 1))
    return [(WEEK_STARTS + at, who, text,
             f"w{next(keys)}" if text.split(" ", 1)[0] in CREATES else None)
            for at, who, text in WEEK]


class DemoClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current


async def load_demo(baton: Baton, database: Database, workspace: str,
                    now: datetime) -> list[str]:
    """Type the eight weeks into the core with the clock set back and moving forward; return
    any line that was refused."""
    start = now - timedelta(seconds=WEEK_STARTS + 6 * D)
    clock = DemoClock(start)
    demo = Baton(database.unit_of_work, clock, baton.directory)
    numbers: dict[str, int] = {}  # the demo's keys (h3, w1) -> the items' numbers
    refused = []
    for at, who, text, creates in sorted(history() + last_week(), key=lambda line: line[0]):
        clock.current = start + timedelta(seconds=at)
        await demo.tick(workspace, clock.current)  # what fell due meanwhile, when it did
        typed = _KEY.sub(lambda key: f"#{numbers.get(key[1], 0)}", text)
        reply = await demo.run(Request(workspace, who, "demo"), typed)
        if not reply.ok:
            refused.append(f"{who}: {typed} -> {reply.text}")
        elif creates is not None and reply.cards:
            numbers[creates] = reply.cards[0].number
    clock.current = now
    await demo.tick(workspace, now)

    async def delivered(work: SqlUnitOfWork) -> None:  # the weeks' messages belong to the past
        while claimed := await work.outbox.claim(10_000, now):
            for queued in claimed:
                await work.outbox.sent(queued.id, now)
        await work.commit()

    await database.write(delivered)
    return refused
