"""The timers and the outbox worker, wired into a process: which transports deliver, where
charts are kept, Redis or in-process locks, and the outbox figures /metrics shows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from baton.app import App
from baton.settings import SettingsError
from bot.commands import Unreachable as UnreachableCommand
from bot.context import Request
from bot.delivery import Transport
from bot.messages import Outgoing
from bot.service import SYSTEM
from jobs.charts import render_weekly_chart
from jobs.outbox import Observe, OutboxWorker, Unreachable, WorkerSettings
from jobs.scheduler import DigestJob, Jobs, digest_jobs
from store.queue import SqlOutboxQueue

if TYPE_CHECKING:  # the console has no /metrics: it need not import prometheus or aiohttp
    from adapters.http.metrics import Metrics

log = logging.getLogger(__name__)


def outbox_worker(app: App, transports: Sequence[Transport], *,
                  observe: Observe | None = None) -> OutboxWorker:
    """The worker delivering this process's outbox through `transports`, woken by the core."""
    settings = WorkerSettings(worker_id=app.settings.replica(),
                              max_attempts=app.settings.outbox_max_attempts)
    return OutboxWorker(SqlOutboxQueue(app.database), transports, app.clock, settings,
                        wake=app.wake, data_dir=app.settings.data_dir.resolve(),
                        render=render_weekly_chart, observe=observe,
                        unreachable=unreachable_reporter(app))


def unreachable_reporter(app: App) -> Unreachable:
    """A person no surface reached about an item is said in its trail, its card's thread and
    to its requester: the core's Unreachable, once per message (the delivery key)."""

    async def report(message: Outgoing, reasons: tuple[str, ...]) -> None:
        if message.item is None:
            return
        request = Request(message.workspace, SYSTEM.id, "outbox",
                          delivery=f"unreachable:{message.key}")
        await app.runner.command(request, UnreachableCommand(message.item, message.to,
                                                             reasons))

    return report


def schedules(app: App) -> list[DigestJob]:
    directory = app.directory
    return digest_jobs(app.workspace, [(team.name, directory.digest_times(team.name))
                                       for team in directory.teams()])


def jobs(app: App) -> Jobs:
    """The sweep and the digests of this deployment's teams."""

    async def workspaces() -> Sequence[str]:
        known = await app.database.read(lambda uow: uow.events.workspaces())
        return sorted({app.workspace, *known})

    return Jobs(app.baton, app.clock, app.locks, workspaces, schedules(app),
                sweep_every=timedelta(seconds=app.settings.sweep_seconds),
                checkpoint=checkpointer(app))


def checkpointer(app: App) -> Callable[[], Awaitable[None]]:
    """The audit checkpoint the timers run. Its signing key is made now, at start, if there is
    none (before the process serves anything: a small file, written once)."""
    from baton.audit import Anchoring, checkpoint_logged  # what `baton --help` need not load
    from store.anchors import AnchorError

    anchoring = Anchoring.of(app.settings)
    try:
        anchoring.signing_key()
    except AnchorError as exc:
        raise SettingsError([f"BATON_AUDIT_KEY: {exc}"]) from None

    async def checkpoint() -> None:
        await checkpoint_logged(app.database, anchoring, app.clock.now())

    return checkpoint


def watch_outbox(metrics: Metrics, app: App) -> Observe:
    """/metrics: the outbox's depth (pending, ready, parked) read at each scrape, and every
    failed delivery counted by surface and kind."""
    queue = SqlOutboxQueue(app.database)

    async def refresh() -> None:
        stats = await queue.stats(app.clock.now())
        metrics.outbox_depth.labels("pending").set(stats.pending)
        metrics.outbox_depth.labels("ready").set(stats.ready)
        metrics.outbox_depth.labels("parked").set(stats.parked)

    metrics.on_scrape(refresh)

    def observe(surface: str, outcome: str) -> None:
        if outcome not in ("sent", "skipped"):
            metrics.outbox_failures.labels(surface or "none", outcome).inc()

    return observe


@dataclass
class Running:
    """Jobs and delivery running in this process until `close()`."""

    jobs: Jobs
    worker: OutboxWorker | None
    stop: asyncio.Event
    task: asyncio.Task[None] | None

    async def close(self) -> None:
        self.jobs.shutdown()
        self.stop.set()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


def start(app: App, transports: Sequence[Transport], metrics: Metrics | None = None) -> Running:
    """Start the scheduler and, when there are transports, the outbox worker. Without one (no
    chat platform configured) messages wait in the outbox for `baton chat`."""
    observe = watch_outbox(metrics, app) if metrics is not None else None
    worker = outbox_worker(app, transports, observe=observe) if transports else None
    timers = jobs(app)
    timers.start()
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop)) if worker else None
    log.info("jobs started (replica %s); outbox delivered by %s", app.settings.replica(),
             ", ".join(t.surface for t in transports) or "nobody: no chat platform configured")
    return Running(timers, worker, stop, task)
