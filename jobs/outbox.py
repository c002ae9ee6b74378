"""The outbox worker: takes messages from the queue and delivers each through its surface's
Transport, in lanes, one per (surface, conversation): a lane delivers its messages in order,
paced by its platform's rules, while every other lane goes on, so a paced or failing
conversation delays only itself. Retries back off exponentially and honour Retry-After; a
message failing N times is parked. A message recorded `sent` is never offered again.

Never holds a unit of work across a network call: a lease is one short transaction, each
delivery happens outside any, and its outcome is recorded in another. The one window left is a
crash between the platform accepting a message and `sent` being recorded: the row's lease names
this worker, so the message comes back `uncertain` and the transport is asked
`delivered_already` (Slack: the outbox key rides in each post's metadata) before it is posted
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.delivery import DeliveryFailed, NotHere, OutboxQueue, Queued, Transport
from bot.messages import Audience, Outgoing
from bot.ports import Clock
from jobs.pacing import Pacer

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Render = Callable[[Mapping[str, Any], Path], None]
Observe = Callable[[str, str], None]  # (surface, outcome): sent, skipped, retry, parked
#: Told of a message for a person that no surface could deliver, with each surface's reason.
Unreachable = Callable[[Outgoing, tuple[str, ...]], Awaitable[None]]


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
class WorkerSettings:
    worker_id: str = "baton"
    max_attempts: int = 8
    batch: int = 100  # messages leased at a time
    in_flight: int = 1000  # messages held in lanes at most; more wait in the table
    concurrency: int = 32  # deliveries (platform calls) at once
    lease: timedelta = timedelta(minutes=5)
    horizon: timedelta = timedelta(seconds=20)  # a slot further off goes back to the table
    backoff: Backoff = Backoff()


@dataclass
class _Lane:
    transport: Transport
    queue: deque[Queued] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None
    held_until: datetime | None = None  # put off until then: what joins later waits too


class OutboxWorker:
    """`transports`: one per surface this process delivers for. `wake` is set by whoever
    queued messages (the core, after a command committed) to deliver at once rather than at
    the next poll."""

    def __init__(self, queue: OutboxQueue, transports: Sequence[Transport], clock: Clock,
                 settings: WorkerSettings | None = None, *, wake: asyncio.Event | None = None,
                 sleep: Sleep = asyncio.sleep, data_dir: Path | None = None,
                 render: Render | None = None, observe: Observe | None = None,
                 unreachable: Unreachable | None = None) -> None:
        self.queue = queue
        self.unreachable = unreachable
        self.transports = {t.surface: t for t in transports}
        self.clock = clock
        self.settings = settings or WorkerSettings()
        self.sleep = sleep
        self.data_dir = data_dir
        self.render = render
        self.observe = observe
        self._wake = wake or asyncio.Event()
        self._pacers = {t.surface: Pacer(t.pacing) for t in transports}
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._calls = asyncio.Semaphore(self.settings.concurrency)
        self._lane_done = asyncio.Event()
        # Deliveries are recorded `sent` in batches: one short transaction for all that went
        # out meanwhile, rather than one each.
        self._delivered: list[int] = []
        self._recording: asyncio.Task[None] | None = None

    @property
    def surfaces(self) -> list[str]:
        return list(self.transports)

    def pacer(self, surface: str) -> Pacer:
        return self._pacers[surface]

    def wake(self) -> None:
        """Deliver now rather than at the next poll."""
        self._wake.set()

    async def recover(self) -> int:
        """At start: what this worker held when it last stopped is ready again, flagged so
        that the platform is asked before anything is posted twice."""
        released = await self.queue.release(self.settings.worker_id, self.clock.now())
        if released:
            log.info("outbox: %d message(s) in flight at the last stop are ready again",
                     released)
        return released

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Deliver until `stop` is set; a failing round is logged, never fatal. Lanes run on
        their own: leasing goes on while they wait out their pace."""
        await self.recover()
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    taken = await self._take() if self._room() else 0
                except Exception:
                    log.exception("outbox: leasing failed")
                    taken = 0
                if taken and self._room():
                    continue  # there may be more ready at once
                await self._wait(stop, poll)
        finally:
            await self._close_lanes()
            await self._recorded()

    async def run_once(self) -> int:
        """Lease one batch and deliver it, waiting for its lanes to finish; how many were
        leased (the console and tests: everything delivered when it returns)."""
        taken = await self._take()
        await self.idle()
        return taken

    async def drain(self, rounds: int = 1000) -> int:
        """Deliver everything ready now."""
        total = 0
        for _ in range(rounds):
            handled = await self.run_once()
            total += handled
            if handled == 0:
                break
        return total

    async def idle(self) -> None:
        """Wait until every lane has finished and what they delivered is recorded."""
        while self._lanes:
            tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        await self._recorded()

    def _record_sent(self, message_id: int) -> None:
        self._delivered.append(message_id)
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._record(), name="outbox sent")

    async def _record(self) -> None:
        await asyncio.sleep(0)  # the lanes delivering at this moment add theirs first
        while self._delivered:
            batch, self._delivered = self._delivered, []
            try:
                await self.queue.sent(batch, self.clock.now())
            except Exception:  # the leases bring them back, asked about before re-posting
                log.exception("outbox: recording %d delivered message(s) failed", len(batch))

    async def _recorded(self) -> None:
        while self._recording is not None and not self._recording.done():
            await self._recording

    # --- leasing into lanes --------------------------------------------------------------

    def _room(self) -> bool:
        return sum(len(lane.queue) for lane in self._lanes.values()) < self.settings.in_flight

    async def _take(self) -> int:
        now = self.clock.now()
        batch = await self.queue.lease(self.settings.batch, now, self.settings.worker_id,
                                       self.settings.lease, self.surfaces)
        for queued in batch:
            transport = self._transport(queued)
            key = (transport.surface, transport.conversation(queued.message))
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane(transport)
            lane.queue.append(queued)
            if lane.task is None:
                lane.task = asyncio.create_task(self._run_lane(key, lane),
                                                name=f"outbox {key[0]} {key[1]}")
        for pacer in self._pacers.values():
            pacer.forget_idle(now)
        return len(batch)

    def _transport(self, queued: Queued) -> Transport:
        """The row's surface's transport; a row written before rows named their surface goes
        to the first this process delivers for."""
        return self.transports.get(queued.surface) or next(iter(self.transports.values()))

    async def _wait(self, stop: asyncio.Event, poll: float) -> None:
        self._lane_done.clear()
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait()),
                   asyncio.ensure_future(self._lane_done.wait())]
        _, pending = await asyncio.wait(waiters, timeout=poll,
                                        return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()

    async def _close_lanes(self) -> None:
        for lane in list(self._lanes.values()):
            if lane.task is not None:
                lane.task.cancel()
        for lane in list(self._lanes.values()):
            if lane.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.task
        self._lanes.clear()

    # --- one lane: one conversation's messages, in order, paced ---------------------------

    async def _run_lane(self, key: tuple[str, str], lane: _Lane) -> None:
        try:
            await self._deliver_lane(lane)
            while lane.queue:  # leased while the lane was putting its rest off
                await self._postpone(lane, lane.held_until or self.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:  # the worker must outlive any lane; the lease brings rows back
            log.exception("outbox: lane %s failed", key)
        finally:
            self._lanes.pop(key, None)
            self._lane_done.set()

    async def _deliver_lane(self, lane: _Lane) -> None:
        """After a retryable failure or a slot beyond the horizon, the rest of the lane goes
        back to the table for the same instant, so nothing overtakes it; on a surface whose
        messages keep no order (Transport.ordered) a failed one is retried alone and the
        rest go on."""
        transport = lane.transport
        pacer = self.pacer(transport.surface)
        while lane.queue:
            queued = lane.queue[0]
            now = self.clock.now()
            places = transport.places(queued.message)
            start = pacer.peek(places[0], now)
            for place in places[1:]:  # a busy shared place (a channel): wait in line there
                there = pacer.peek(place, now)
                if there > start:
                    start = pacer.line_up(place, there) if there - now > self.settings.horizon \
                        else there
            if start - now > self.settings.horizon:
                await self._postpone(lane, start)
                return
            slot = max(pacer.reserve(place, now) for place in places)
            if slot > now:
                await self.sleep((slot - now).total_seconds())
            async with self._calls:
                now = self.clock.now()
                held = [until for place in places if (until := pacer.held(place, now))]
                if held:  # the platform asked a place to wait while this one waited its slot
                    await self._postpone(lane, pacer.line_up(places[-1], max(held)))
                    return
                lane.queue.popleft()
                retry_at = await self._deliver(transport, places, queued)
            if retry_at is not None and transport.ordered:
                await self._postpone(lane, retry_at)
                return

    async def _postpone(self, lane: _Lane, until: datetime) -> None:
        lane.held_until = until
        ids = [queued.id for queued in lane.queue]
        lane.queue.clear()
        await self.queue.postpone(ids, until)

    async def _deliver(self, transport: Transport, places: tuple[str, ...],
                       queued: Queued) -> datetime | None:
        """Deliver one message and record the outcome; the retry instant if it must wait."""
        message = queued.message
        surface = transport.surface
        try:
            if queued.uncertain and await transport.delivered_already(message):
                log.info("outbox: %s was delivered on %s before the last stop", message.key,
                         surface)
                self._record_sent(queued.id)
                return None
            await transport.deliver(self._with_attachment(message))
        except NotHere as absent:
            await self.queue.skipped(queued.id, str(absent), self.clock.now())
            self._observed(surface, "skipped")
            await self._reached_nowhere(message)
            return None
        except DeliveryFailed as failure:
            return await self._failed(queued, surface, places, str(failure),
                                      failure.retry_after, failure.permanent)
        except Exception as exc:  # a transport bug must not lose the message or the worker
            log.exception("outbox: delivering %s on %s raised", message.key, surface)
            return await self._failed(queued, surface, places,
                                      f"{type(exc).__name__}: {exc}", None, False)
        self._record_sent(queued.id)
        self._observed(surface, "sent")
        return None

    async def _reached_nowhere(self, message: Outgoing) -> None:
        """A message for a person about an item that every surface skipped (each recorded its
        own before asking, so the last to skip sees them all): `unreachable` says so."""
        if self.unreachable is None or message.audience is not Audience.PERSON or \
                message.item is None or message.action == "unreachable":
            return
        try:
            outcomes = await self.queue.outcomes(message.key)
            if outcomes and all(state == "skipped" for _, state, _ in outcomes):
                await self.unreachable(message, tuple(f"{surface}: {why}"
                                                      for surface, _, why in outcomes))
        except Exception:  # the report is a courtesy: the worker goes on
            log.exception("outbox: reporting %s unreachable failed", message.key)

    def _observed(self, surface: str, outcome: str) -> None:
        if self.observe:
            self.observe(surface, outcome)

    async def _failed(self, queued: Queued, surface: str, places: tuple[str, ...],
                      error: str, retry_after: float | None,
                      permanent: bool) -> datetime | None:
        now = self.clock.now()
        failures = queued.attempts + 1
        park = permanent or failures >= self.settings.max_attempts
        retry_at = None if park else now + self.settings.backoff.delay(failures, retry_after)
        transport = self.transports.get(surface)
        ordered = transport is None or transport.ordered
        if ordered and retry_after is not None and math.isfinite(retry_after):
            for place in places:  # the channel a card was refused in waits too
                self.pacer(surface).hold(place, now + timedelta(seconds=retry_after))
        await self.queue.failed(queued.id, error[:2000], retry_at)
        outcome = "parked" if park else "retry"
        log.warning("outbox: %s on %s %s after attempt %d: %s", queued.message.key, surface,
                    outcome, failures, error)
        self._observed(surface, outcome)
        return retry_at

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
