"""The outbox worker: claims messages, delivers each through its surface's Transport, paced per
conversation (and a new card per channel as well), retried with exponential backoff that
honours Retry-After, parked after N failures. A message recorded `sent` is never offered again.

Never holds a unit of work across a network call: a claim is one short transaction (it
leases the rows to this worker), each delivery happens outside any, and its outcome is recorded
in another. The one window left is a crash between the platform accepting a message and `sent`
being recorded: the row's lease names this worker, so the message comes back `uncertain` and
the transport is asked `delivered_already` (Slack: the outbox key rides in each post's
metadata and is looked up in the conversation) before it is posted again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.messages import Outgoing, Queued
from bot.ports import Clock, DeliveryFailed, Transport, UnitOfWorkFactory
from jobs.pacing import SURFACE_PACING, Pacer, Pacing

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Render = Callable[[Mapping[str, Any], Path], None]
Observe = Callable[[str, str], None]  # (surface, outcome): sent, retry, parked


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1 after n failures: base·factor^(n-1), capped, and never sooner
    than the platform's Retry-After."""

    base: float = 2.0
    factor: float = 2.0
    cap: float = 600.0

    def delay(self, failures: int, retry_after: float | None = None) -> timedelta:
        seconds = min(self.base * self.factor ** max(failures - 1, 0), self.cap)
        if retry_after is not None and math.isfinite(retry_after):
            seconds = max(seconds, retry_after)
        return timedelta(seconds=seconds)


@dataclass
class Routes:
    """Which transport delivers a workspace's messages: one per workspace, or the default."""

    default: Transport | None = None
    by_workspace: dict[str, Transport] = field(default_factory=dict)

    def __call__(self, message: Outgoing) -> Transport | None:
        return self.by_workspace.get(message.workspace, self.default)


@dataclass
class WorkerSettings:
    worker_id: str = "baton"
    max_attempts: int = 8
    batch: int = 100
    concurrency: int = 32  # conversations delivered to at once
    lease: timedelta = timedelta(minutes=5)
    horizon: timedelta = timedelta(seconds=20)  # a slot further off goes back to the table
    no_route_retry: timedelta = timedelta(minutes=5)
    backoff: Backoff = Backoff()


class OutboxWorker:
    def __init__(self, uow: UnitOfWorkFactory, route: Callable[[Outgoing], Transport | None],
                 clock: Clock, settings: WorkerSettings | None = None, *,
                 pacing: Mapping[str, Pacing] | None = None, sleep: Sleep = asyncio.sleep,
                 data_dir: Path | None = None, render: Render | None = None,
                 observe: Observe | None = None) -> None:
        self.uow = uow
        self.route = route
        self.clock = clock
        self.settings = settings or WorkerSettings()
        self.sleep = sleep
        self.data_dir = data_dir
        self.render = render
        self.observe = observe
        self._pacing = dict(SURFACE_PACING if pacing is None else pacing)
        self._pacers: dict[str, Pacer] = {}
        self._wake = asyncio.Event()

    def pacer(self, surface: str) -> Pacer:
        if surface not in self._pacers:
            self._pacers[surface] = Pacer(self._pacing.get(surface, Pacing()))
        return self._pacers[surface]

    async def recover(self) -> int:
        """At start: what this worker held when it last stopped is ready again, flagged so
        that the platform is asked before anything is posted twice."""
        async with self.uow() as uow:
            released = await uow.outbox.release(self.settings.worker_id, self.clock.now())
            await uow.commit()
        if released:
            log.info("outbox: %d message(s) in flight at the last stop are ready again",
                     released)
        return released

    def wake(self) -> None:
        """Deliver now rather than at the next poll (a command just queued messages)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Deliver until `stop` is set; a failing round is logged, never fatal."""
        await self.recover()
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("outbox round failed")
                handled = 0
            if handled == 0:
                self._wake.clear()
                waiters = [asyncio.ensure_future(stop.wait()),
                           asyncio.ensure_future(self._wake.wait())]
                _, pending = await asyncio.wait(waiters, timeout=poll,
                                                return_when=asyncio.FIRST_COMPLETED)
                for waiter in pending:
                    waiter.cancel()

    async def drain(self, rounds: int = 1000) -> int:
        """Deliver everything ready now (the console after each command)."""
        total = 0
        for _ in range(rounds):
            handled = await self.run_once()
            total += handled
            if handled == 0:
                break
        return total

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many messages were handled."""
        now = self.clock.now()
        async with self.uow() as uow:
            batch = await uow.outbox.lease(self.settings.batch, now, self.settings.worker_id,
                                           self.settings.lease)
            await uow.commit()
        if not batch:
            return 0
        groups: dict[tuple[str, str], tuple[Transport | None, list[Queued]]] = {}
        for queued in batch:
            transport = self.route(queued.message)
            surface = transport.surface if transport else ""
            key = transport.conversation(queued.message) if transport else ""
            groups.setdefault((surface, key), (transport, []))[1].append(queued)
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def deliver_group(transport: Transport | None, key: str,
                                messages: list[Queued]) -> None:
            async with gate:
                await self._deliver_group(transport, key, messages)

        await asyncio.gather(*(deliver_group(t, key, msgs)
                               for (_, key), (t, msgs) in groups.items()))
        for pacer in self._pacers.values():
            pacer.forget_idle(self.clock.now())
        return len(batch)

    async def _deliver_group(self, transport: Transport | None, key: str,
                             messages: list[Queued]) -> None:
        """One conversation's messages in order, paced; after a retryable failure the rest
        wait for the same retry, so they never overtake it."""
        if transport is None:
            later = self.clock.now() + self.settings.no_route_retry
            await self._postpone(messages, later)
            log.warning("outbox: no transport for %d message(s) of workspace %s",
                        len(messages), messages[0].message.workspace)
            return
        pacer = self.pacer(transport.surface)
        for n, queued in enumerate(messages):
            now = self.clock.now()
            start = pacer.peek(key, now)
            shared = transport.shared_place(queued.message)
            places = (key,) if shared is None else (key, shared)
            if shared is not None and pacer.peek(shared, now) > start:
                start = pacer.peek(shared, now)
                if start - now > self.settings.horizon:  # a new card, its channel busy:
                    # In line there; its item's thread and updates are not claimed before
                    # it is posted (store.outbox).
                    start = pacer.line_up(shared, start)
            if start - now > self.settings.horizon:
                await self._postpone(messages[n:], start)
                return
            slot = max(pacer.reserve(place, now) for place in places)
            if slot > now:
                await self.sleep((slot - now).total_seconds())
            retry_at = await self._deliver(transport, places, queued)
            if retry_at is not None:
                await self._postpone(messages[n + 1:], retry_at)
                return

    async def _deliver(self, transport: Transport, places: tuple[str, ...],
                       queued: Queued) -> datetime | None:
        """Deliver one message and record the outcome; the retry instant if it must wait."""
        message = queued.message
        surface = transport.surface
        try:
            if queued.uncertain and await transport.delivered_already(message):
                log.info("outbox: %s was delivered before the last stop", message.key)
                await self._sent(queued)
                return None
            await transport.deliver(self._with_attachment(message))
        except DeliveryFailed as failure:
            return await self._failed(queued, surface, places, str(failure),
                                      failure.retry_after, failure.permanent)
        except Exception as exc:  # a transport bug must not lose the message or the worker
            log.exception("outbox: delivering %s raised", message.key)
            return await self._failed(queued, surface, places,
                                      f"{type(exc).__name__}: {exc}", None, False)
        await self._sent(queued)
        if self.observe:
            self.observe(surface, "sent")
        return None

    async def _sent(self, queued: Queued) -> None:
        async with self.uow() as uow:
            await uow.outbox.sent(queued.id, self.clock.now())
            await uow.commit()

    async def _failed(self, queued: Queued, surface: str, places: tuple[str, ...],
                      error: str, retry_after: float | None,
                      permanent: bool) -> datetime | None:
        now = self.clock.now()
        failures = queued.attempts + 1
        park = permanent or failures >= self.settings.max_attempts
        retry_at = None if park else now + self.settings.backoff.delay(failures, retry_after)
        if retry_after is not None and math.isfinite(retry_after):
            for place in places:  # the channel a card was refused in waits too
                self.pacer(surface).hold(place, now + timedelta(seconds=retry_after))
        async with self.uow() as uow:
            await uow.outbox.failed(queued.id, error[:2000], retry_at)
            await uow.commit()
        outcome = "parked" if park else "retry"
        log.warning("outbox: %s %s after attempt %d: %s", queued.message.key, outcome,
                    failures, error)
        if self.observe:
            self.observe(surface, outcome)
        return retry_at

    async def _postpone(self, messages: list[Queued], until: datetime) -> None:
        if not messages:
            return
        async with self.uow() as uow:
            for queued in messages:
                await uow.outbox.postpone(queued.id, until)
            await uow.commit()

    def _with_attachment(self, message: Outgoing) -> Outgoing:
        """The message with its attachment as an absolute path, drawn first if it is a chart
        not drawn yet. A chart that cannot be drawn leaves the text to go alone."""
        if message.attachment is None or self.data_dir is None:
            return message
        path = (self.data_dir / message.attachment).resolve()
        spec = (message.card or {}).get("chart")
        if not path.exists() and isinstance(spec, Mapping) and self.render is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.render(spec, path)
            except Exception:
                log.exception("outbox: drawing %s failed; sending the text alone", path)
                return replace(message, attachment=None)
        if not path.exists():
            return replace(message, attachment=None)
        return replace(message, attachment=str(path))
