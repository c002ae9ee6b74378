"""What the load benchmarks share: servers pinned to a core, a free port on 127.0.0.1, waiting
for a server to answer, and percentiles in milliseconds. (A bench script runs as
`python bench/<name>.py`, so this folder is on its path.)"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess

import aiohttp


def pinned(core: int, *command: str) -> list[str]:
    """The command run on one core (taskset), or as it is where taskset is missing."""
    taskset = shutil.which("taskset")
    return [taskset, "-c", str(core), *command] if taskset else list(command)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_up(url: str, process: subprocess.Popen[bytes] | None = None,
                        within: float = 60) -> None:
    """Until `url` answers anything but a 5xx; RuntimeError when `process` exits first."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(within):
        while True:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{url}: the server exited ({process.returncode})")
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


def percentile_ms(seconds: list[float], p: float) -> float:
    """The p-th fraction (0.5, 0.99) of these durations, in milliseconds; 0 when empty."""
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0
