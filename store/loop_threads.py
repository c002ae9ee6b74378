"""Threads that each run an asyncio loop of their own, for SQLite work kept off the event loop.

A coroutine handed to `LoopThreads.run` runs to completion on one of the threads' loops while
the caller's loop awaits the result: one hand-over each way, however many statements it runs
(the store's statements then execute synchronously on that thread). `hold` gives a caller one
thread for a series of calls (a transaction driven statement by statement from the event
loop), during which that thread takes no other job. Written by hand: concurrent.futures'
thread pool has no per-thread event loop with a lifetime of its own, nor a way to hold one
of its threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

Job = Callable[[asyncio.Runner], Any]
_Future = concurrent.futures.Future[Any]
_Queued = tuple[Job, _Future]


def _do(job: Job, runner: asyncio.Runner, future: concurrent.futures.Future[Any]) -> None:
    if not future.set_running_or_notify_cancel():
        return  # its caller stopped waiting before it started
    try:
        result = job(runner)
    except BaseException as exc:  # whatever it is, the caller's to see
        future.set_exception(exc)
    else:
        future.set_result(result)


class Turn:
    """One thread held for one caller: its calls run there, in order, until `release`."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[_Queued | None] = queue.SimpleQueue()

    async def call(self, function: Callable[[], T]) -> T:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._calls.put((lambda _: function(), future))
        return await asyncio.wrap_future(future)

    def release(self) -> None:
        self._calls.put(None)

    def serve(self, runner: asyncio.Runner) -> None:
        """On the held thread: the holder's calls until it lets go."""
        while (queued := self._calls.get()) is not None:
            _do(queued[0], runner, queued[1])


class Together:
    """A job that runs together with the like ones queued right behind it (the same `run`):
    `run(runner, [(item, future), …])` is called once for all of them and settles each
    future."""

    def __init__(self, run: Callable[[asyncio.Runner, list[tuple[Any, _Future]]], None],
                 item: Any, limit: int) -> None:
        self.run = run
        self.item = item
        self.limit = limit

    def __call__(self, runner: asyncio.Runner) -> None:
        self.run(runner, [])  # never called: its thread runs it with the others


class LoopThreads:
    """`count` threads started on first use, taking jobs from one queue in turn."""

    def __init__(self, name: str, count: int = 1) -> None:
        self._name = name
        self._count = count
        self._jobs: queue.SimpleQueue[_Queued | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._starting = threading.Lock()
        self._closed = False

    def on_one_of_them(self) -> bool:
        """Whether the calling code runs on one of these threads."""
        return threading.current_thread() in self._threads

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work()` run to completion on one thread's loop; its result or exception here."""

        async def whole() -> T:
            return await work()

        return await self._submit(lambda runner: runner.run(whole()))

    async def call(self, function: Callable[[], T]) -> T:
        """`function()` called on one of the threads."""
        return await self._submit(lambda _: function())

    async def together(self, job: Together) -> Any:
        """`job` run by one thread together with the like jobs queued right behind it (up to
        its limit), in the order queued."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._put(job, future)
        return await asyncio.wrap_future(future)

    def submit(self, function: Callable[[], T]) -> concurrent.futures.Future[T]:
        """`function()` queued for one of the threads, from any thread; not awaited."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._put(lambda _: function(), future)
        return future

    def hold(self) -> Turn:
        """A thread for the caller alone, once the jobs queued before are done."""
        turn = Turn()
        self._put(turn.serve, concurrent.futures.Future())
        return turn

    async def close(self) -> None:
        """Let the queued jobs finish, then stop the threads."""
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)
        threads, self._threads = self._threads, []
        for thread in threads:
            await asyncio.to_thread(thread.join)

    async def _submit(self, job: Callable[[asyncio.Runner], T]) -> T:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._put(job, future)
        return await asyncio.wrap_future(future)

    def _put(self, job: Job, future: concurrent.futures.Future[Any]) -> None:
        if self._closed:
            raise RuntimeError(f"{self._name}: closed")
        if len(self._threads) < self._count:
            with self._starting:
                while len(self._threads) < self._count:
                    thread = threading.Thread(target=self._serve, daemon=True,
                                              name=f"{self._name}-{len(self._threads) + 1}")
                    self._threads.append(thread)
                    thread.start()
        self._jobs.put((job, future))

    def _serve(self) -> None:
        with asyncio.Runner() as runner:
            carried: _Queued | None = None
            while True:
                queued, carried = carried or self._jobs.get(), None
                if queued is None:
                    return
                job, future = queued
                if not isinstance(job, Together):
                    _do(job, runner, future)
                    continue
                group = [(job.item, future)]
                while len(group) < job.limit:
                    try:
                        following = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if following is None:
                        self._jobs.put(None)  # stop, once this group is done
                        break
                    if isinstance(following[0], Together) and following[0].run == job.run:
                        group.append((following[0].item, following[1]))
                    else:
                        carried = following  # next, in its turn
                        break
                _together(job, runner, group)


def _together(job: Together, runner: asyncio.Runner, group: list[tuple[Any, _Future]]) -> None:
    try:
        job.run(runner, group)
    except BaseException as exc:  # a fault in `run` itself: no caller is left waiting
        for _, future in group:
            if not future.done():
                future.set_exception(exc)
