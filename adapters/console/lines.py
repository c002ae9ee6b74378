"""Lines typed (or piped) into the console, read without holding up the event loop or the
process's exit.

`asyncio.to_thread(stdin.readline)` blocks the exit: at Ctrl-C, asyncio.run waits for its
worker threads, and the one in readline waits for a key. A terminal or a pipe is read here
by a daemon thread of its own with os.read on the descriptor (no Python-level buffer lock
that interpreter shutdown would wait for); what is neither (a StringIO, a regular file) is
read with readline on a worker thread, where it never waits for anyone.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import stat
import threading
from typing import TextIO

_CHUNK = 4096


class Lines:
    """`await lines.next()`: the next line without its newline, or None at the end."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._fd = _waiting_descriptor(stream)
        self._queue: asyncio.Queue[str | None] | None = None

    async def next(self) -> str | None:
        if self._fd is None:
            line = await asyncio.to_thread(self.stream.readline)
            return line.removesuffix("\n") if line else None
        if self._queue is None:
            self._queue = asyncio.Queue()
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._pump, args=(loop, self._fd, self._queue),
                             name="console-input", daemon=True).start()
        return await self._queue.get()

    @staticmethod
    def _pump(loop: asyncio.AbstractEventLoop, fd: int,
              queue: asyncio.Queue[str | None]) -> None:
        """Read `fd` to its end, handing each complete line to the loop."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""

        def hand(line: str | None) -> bool:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the loop has closed: nobody is reading any more
                return False
            return True

        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except InterruptedError:
                continue
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                if not hand(line):
                    return
            if not chunk:
                if pending:
                    hand(pending)
                hand(None)
                return


def _waiting_descriptor(stream: TextIO) -> int | None:
    """The descriptor of a terminal, pipe or socket (reads that may wait), else None."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):  # io.StringIO and the like
        return None
    return fd if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else None
