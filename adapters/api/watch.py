"""Long-polls: wake each waiter as soon as its item moves, on whichever replica it moved.

One task per process reads the marks (state, version) of every watched item in one short read
each interval, so a thousand waiters cost one query, and no transaction is held while waiting.
With Redis, a change made through the API is published as well and wakes every replica's
waiters at once; the reads go on, slower, for changes made elsewhere (chat, timers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.clients import ItemIndex, Mark

log = logging.getLogger(__name__)

Publish = Callable[[int], Awaitable[None]]


@dataclass
class _Waiter:
    baseline: Mark | None
    woken: asyncio.Future[Mark | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class Watch:
    def __init__(self, marks: ItemIndex, workspace: str, *, interval: float = 0.25,
                 publish: Publish | None = None) -> None:
        self._marks = marks
        self._workspace = workspace
        self.interval = interval
        self._publish = publish
        self._waiters: dict[int, list[_Waiter]] = {}
        self._poller: asyncio.Task[None] | None = None
        self._nudge = asyncio.Event()

    async def wait(self, number: int, baseline: Mark, seconds: float) -> Mark | None:
        """The item's new mark once it differs from `baseline`, or None at the timeout."""
        waiter = _Waiter(baseline)
        self._waiters.setdefault(number, []).append(waiter)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(), name="baton-api-watch")
        try:
            return await asyncio.wait_for(asyncio.shield(waiter.woken), seconds)
        except TimeoutError:
            return None
        finally:
            waiting = self._waiters.get(number, [])
            if waiter in waiting:
                waiting.remove(waiter)
            if not waiting:
                self._waiters.pop(number, None)

    async def changed(self, number: int) -> None:
        """An item moved here: check at once, and tell the other replicas."""
        self.wake(number)
        if self._publish is not None:
            try:
                await self._publish(number)
            except Exception:  # the reads still find it; never fail the caller's change
                log.warning("could not publish a change of #%s", number, exc_info=True)

    def wake(self, number: int) -> None:
        """Something says `number` moved (a local change, a message from another replica)."""
        if number in self._waiters:
            self._nudge.set()

    async def _poll(self) -> None:
        while self._waiters:
            numbers = list(self._waiters)
            try:
                marks = await self._marks.marks(self._workspace, numbers)
            except Exception:  # the database is briefly away: keep waiting, try again
                log.warning("long-poll read failed", exc_info=True)
                marks = None
            for number in numbers if marks is not None else ():
                now = marks.get(number) if marks is not None else None
                for waiter in list(self._waiters.get(number, ())):
                    if now != waiter.baseline and not waiter.woken.done():
                        waiter.woken.set_result(now)
            self._nudge.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudge.wait(), self.interval)

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
