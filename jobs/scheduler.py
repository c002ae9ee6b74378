"""The timers: a sweep every few seconds (reminders, breaches, escalation steps, nudges, ends of
away periods) and each team's digests on cron schedules in the team's time zone.

Every replica runs the same schedules, kept in memory (APScheduler 3 with its default memory
job store; a shared job store would make replicas fight over jobs instead of over work). What a
job does is claimed in the database by the core, so running it on several replicas, or again
after a restart, does it once. Short locks (Redis across replicas, or in-process) only spare
the losers the effort of computing what they would not post.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from bot import rich
from bot.commands import Digest
from bot.context import Request
from bot.people import DigestTimes
from bot.ports import Clock, Locks
from bot.service import SYSTEM, Baton

log = logging.getLogger(__name__)

Workspaces = Callable[[], Awaitable[Sequence[str]]]
SWEEP_LOCK = timedelta(seconds=60)
DIGEST_LOCK = timedelta(minutes=5)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: When every replica signs the audit chain's heads (and after each digest it posts).
CHECKPOINT_DAILY = CronTrigger(hour=0, minute=5, timezone=UTC)


@dataclass(frozen=True)
class DigestJob:
    """One team's digest schedule: `weekly` or daily, in `trigger`'s zone."""

    workspace: str
    team: str
    weekly: bool
    trigger: CronTrigger

    @property
    def name(self) -> str:
        return f"digest:{'weekly' if self.weekly else 'daily'}:{self.workspace}:{self.team}"


def digest_jobs(workspace: str, schedules: Sequence[tuple[str, DigestTimes]]) -> list[DigestJob]:
    """Cron triggers for every scheduled digest, each in its team's zone."""
    jobs = []
    for team, times in schedules:
        zone = ZoneInfo(times.zone)
        if times.daily is not None:
            jobs.append(DigestJob(workspace, team, False, CronTrigger(
                hour=times.daily.hour, minute=times.daily.minute, timezone=zone)))
        if times.weekday is not None and times.weekly_at is not None:
            jobs.append(DigestJob(workspace, team, True, CronTrigger(
                day_of_week=WEEKDAYS[times.weekday], hour=times.weekly_at.hour,
                minute=times.weekly_at.minute, timezone=zone)))
    return jobs


class Jobs:
    """Baton's timed work for one process."""

    def __init__(self, baton: Baton, clock: Clock, locks: Locks, workspaces: Workspaces,
                 digests: Sequence[DigestJob] = (), *,
                 sweep_every: timedelta = timedelta(seconds=15),
                 checkpoint: Callable[[], Awaitable[None]] | None = None) -> None:
        self.baton = baton
        self.clock = clock
        self.locks = locks
        self.workspaces = workspaces
        self.digests = list(digests)
        self.sweep_every = sweep_every
        # Signs the audit chain's heads; idempotent, so every replica runs it (daily, and
        # after each digest it posts).
        self.checkpoint = checkpoint
        self.scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Schedule the sweep and the digests on the running event loop (memory job store)."""
        scheduler = AsyncIOScheduler(job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        scheduler.add_job(self.sweep, IntervalTrigger(
            seconds=self.sweep_every.total_seconds()), id="sweep", name="follow-up sweep")
        for job in self.digests:
            scheduler.add_job(self.digest, job.trigger, args=[job], id=job.name, name=job.name)
        if self.checkpoint is not None:
            scheduler.add_job(self.anchor, CHECKPOINT_DAILY, id="checkpoint",
                              name="audit checkpoint")
        scheduler.start()
        self.scheduler = scheduler
        log.info("jobs: sweep every %ss, %d digest schedule(s)",
                 self.sweep_every.total_seconds(), len(self.digests))

    def shutdown(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None

    async def sweep(self) -> list[rich.Rich]:
        """Follow up everything due now in every workspace; each workspace's sweep is locked
        for a short while so replicas take turns instead of queueing on the same rows."""
        lines: list[rich.Rich] = []
        for workspace in await self.workspaces():
            name = f"sweep:{workspace}"
            token = await self.locks.acquire(name, SWEEP_LOCK)
            if token is None:
                continue
            try:
                lines += await self.baton.tick(workspace, self.clock.now())
            finally:
                await self.locks.release(name, token)
        return lines

    async def digest(self, job: DigestJob) -> rich.Rich:
        """Post one scheduled digest (the core claims it per team and day: once in all)."""
        token = await self.locks.acquire(job.name, DIGEST_LOCK)
        if token is None:
            return rich.Rich()
        try:
            reply = await self.baton.handle(Request(job.workspace, SYSTEM.id, "timer"),
                                            Digest(team=job.team, weekly=job.weekly))
        finally:
            await self.locks.release(job.name, token)
        if not reply.ok:  # already posted by another replica, or the team is gone
            log.info("jobs: %s not posted: %s", job.name, reply.text)
            return rich.Rich()
        await self.anchor()
        return reply.text

    async def anchor(self) -> None:
        """Checkpoint the audit chain (it logs what it refuses); a bug in it must not stop
        the digest that called it."""
        if self.checkpoint is None:
            return
        try:
            await self.checkpoint()
        except Exception:
            log.exception("jobs: the audit checkpoint failed")

    async def catch_up(self, since: datetime, until: datetime) -> list[rich.Rich]:
        """What fell due between two instants, as if the timers had run: each digest
        scheduled in (since, until] once (it shows things as they are now, so one is enough
        however many were missed), then the sweep. The console's `:time` uses it."""
        lines: list[rich.Rich] = []
        due: list[tuple[datetime, DigestJob]] = []
        for job in self.digests:
            fire = job.trigger.get_next_fire_time(None, since + timedelta(microseconds=1))
            if fire is not None and fire <= until:
                due.append((fire, job))
        for _, job in sorted(due, key=lambda pair: pair[0]):
            if await self.digest(job):
                kind = "Weekly" if job.weekly else "Daily"
                lines.append(rich.fmt("{kind} digest of {team} posted.", kind=kind,
                                      team=rich.team(job.team)))
        return lines + await self.sweep()
