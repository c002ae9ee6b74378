"""`baton demo`: a realistic past week of a model-release organisation, typed through the core."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import Request
from bot.ports import UnitOfWork, UnitOfWorkFactory
from bot.service import Baton

H = 3600
D = 24 * H

#: (seconds after the week began, who, what they typed). The week began six days ago.
WEEK: list[tuple[int, str, str]] = [
    (0, "alice", "handoff @bob Freeze the v3.2 training config --due 1d --p high "
                 "--details Pin data mix, tokenizer and seeds for the release candidate"),
    (1 * H, "bob", "accept #1"),
    (2 * H, "alice", "handoff @carol Run the safety eval suite on v3.2-rc1 --due 3d --p high"),
    (3 * H, "carol", "accept #2"),
    (4 * H, "dave", "exception Eval cluster out of GPU quota --team ml-platform --p urgent"),
    (5 * H, "priya", "assign #3 @erin"),
    (6 * H, "erin", "ack #3"),
    (7 * H, "carol", "block #2 needs the eval GPUs back --on #3"),
    (1 * D, "bob", "done #1 config frozen at 9f3c2e"),
    (1 * D + H, "alice", "approval Legal sign-off on the v3.2 model card "
                         "--approvers @grace @heidi --policy all --due 4d"),
    (1 * D + 3 * H, "grace", "approve #4 model card reviewed"),
    (2 * D, "alice", "approval Canary ring rollout of v3.2 --approvers @priya @frank @ivan "
                     "--policy sequence --due 2d --p high"),
    (2 * D + H, "priya", "approve #5 serving capacity is reserved"),
    (2 * D + 2 * H, "frank", "exception Tokenizer regression on Hindi prompts --team eval "
                             "--p high"),
    (2 * D + 3 * H, "carol", "comment #6 reproduced on 3 of 50 prompts"),
    (3 * D, "alice", "handoff @dave Write the v3.2 release notes --due 1d"),
    (3 * D + H, "ivan", "handoff #release Update the status page template --p low"),
    (4 * D, "heidi", "exception Licence of the new web dataset is unclear --team legal"),
    (4 * D + H, "grace", "take #9"),
    (4 * D + 2 * H, "grace", "ack #9"),
    (4 * D + 3 * H, "grace", "block #9 waiting on the vendor's reply"),
    (5 * D, "alice", "handoff @frank Collect the eval sign-offs --due 1d"),
    (5 * D + H, "frank", "decline #10 out on Friday, Dave has the context"),
    (5 * D + 2 * H, "alice", "approval Extra GPU budget for the canary --approvers @priya @ivan "
                             "--policy any"),
    (5 * D + 4 * H, "erin", "comment #3 quota request filed with the cloud team"),
]


class DemoClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current


async def load_demo(baton: Baton, uow: UnitOfWorkFactory, workspace: str,
                    now: datetime) -> list[str]:
    """Type the week into the core with the clock set back; return any line that was refused."""
    clock = DemoClock(now - timedelta(days=6))
    start = clock.current
    demo = Baton(uow, clock, baton.directory)
    refused = []
    for offset, who, text in WEEK:
        clock.current = start + timedelta(seconds=offset)
        reply = await demo.run(Request(workspace, who, "demo"), text)
        if not reply.ok:
            refused.append(f"{who}: {text} -> {reply.text}")
    clock.current = now  # the week's follow-ups (reminders, breaches, escalations) are done
    await demo.tick(workspace, now)  # now, so a new console does not start with their flood

    async def delivered(work: UnitOfWork) -> None:  # the week's messages belong to the past
        for queued in await work.outbox.claim(10_000, now):
            await work.outbox.sent(queued.id, now)
        await work.commit()

    await uow.run(delivered)
    return refused
