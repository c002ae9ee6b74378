"""Load benchmark (not a test): POST /api/v1/items (an approval, the API's typical request)
against `baton serve` on SQLite, beside a bare aiohttp handler that only parses the JSON and
answers, in one run.

    .venv/bin/python bench/api_load.py [--requests 2000] [--concurrency 16] [--rounds 3]

Both servers run as subprocesses pinned to core 0 (`taskset -c 0`); the load generator runs
here, pinned to core 1; everything listens on 127.0.0.1. Each round sends at most --requests
requests for at most --seconds to each server in turn (after a warm-up), and the medians over
the rounds of requests per second, p50 and p99 are printed with the ratio.

Target on the reference machine: at concurrency 16, Baton at least a third of the bare
handler's throughput, with p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import aiohttp
from procs import free_port, percentile_ms, pinned, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).resolve()
SERVER_CORE, LOAD_CORE = 0, 1

CONFIG = """
workspace: bench
people:
  alice: {name: Alice}
  bob: {name: Bob}
  carol: {name: Carol}
teams:
  release: {lead: alice, members: [bob, carol]}
"""
PLAIN = {"kind": "approval", "title": "Ship build 4242 to the canary ring",
        "details": "All checks green.", "approvers": ["@bob", "@carol"], "policy": "any"}
BODY = {**PLAIN, "metadata": {"pipeline": "release", "run": 4242}}


def bare_server(port: int) -> None:
    """The yardstick: aiohttp parsing the JSON body and answering, nothing else."""
    from aiohttp import web

    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"id": 1, "title": body.get("title")}, status=201)

    app = web.Application()
    app.router.add_post("/api/v1/items", create)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        return percentile_ms(self.latencies, p)


async def load(url: str, token: str, *, concurrency: int, requests: int,
               seconds: float, plain: bool = False) -> Result:
    result = Result()
    body = json.dumps(PLAIN if plain else BODY).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    sent = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def worker() -> None:
            nonlocal sent
            while sent < requests and time.monotonic() < deadline:
                sent += 1
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 201:
                        result.errors += 1
                        continue
                result.latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - began
    return result


def make_token(env: dict[str, str], work: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "baton.cli", "token", "create", "--name",
                           "bench-pipeline", "--team", "release"], env=env, cwd=work,
                          capture_output=True, text=True, check=True)
    return next(line.strip() for line in done.stdout.splitlines()
                if line.strip().startswith("baton_"))


@dataclass(frozen=True)
class Servers:
    token: str
    baton: str
    bare: str
    processes: tuple[subprocess.Popen[bytes], ...]


def launch(work: Path) -> Servers:
    """A token, then `baton serve` and the bare handler on core 0."""
    (work / "baton.yaml").write_text(CONFIG)
    baton_port, bare_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "BATON_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'baton.db'}",
           "BATON_CONFIG": str(work / "baton.yaml"), "BATON_HOST": "127.0.0.1",
           "BATON_PORT": str(baton_port), "BATON_LOG_LEVEL": "WARNING",
           "BATON_API_RATE_LIMIT": "1000000/minute"}
    for name in ("BATON_REDIS_URL", "BATON_SLACK_BOT_TOKEN", "BATON_SLACK_APP_TOKEN",
                 "BATON_SLACK_CLIENT_ID", "BATON_SLACK_CLIENT_SECRET"):
        env.pop(name, None)
    token = make_token(env, work)
    processes = (
        subprocess.Popen(pinned(SERVER_CORE, sys.executable, "-m", "baton.cli", "serve"),
                         env=env, cwd=work, stdout=subprocess.DEVNULL),
        subprocess.Popen(pinned(SERVER_CORE, sys.executable, str(SCRIPT), "--bare",
                                str(bare_port)), env=env),
    )
    return Servers(token, f"http://127.0.0.1:{baton_port}", f"http://127.0.0.1:{bare_port}",
                   processes)


async def measure(arguments: argparse.Namespace, servers: Servers) -> None:
    token, processes = servers.token, servers.processes
    baton_url, bare_url = servers.baton, servers.bare
    await wait_until_up(baton_url + "/readyz", processes[0])
    await wait_until_up(bare_url + "/api/v1/items", processes[1])
    targets = {"baton": baton_url + "/api/v1/items", "bare": bare_url + "/api/v1/items"}
    for url in targets.values():  # warm up
        await load(url, token, concurrency=4, requests=200, seconds=20)
    level = arguments.concurrency
    print(f"POST /api/v1/items (an approval{'' if arguments.plain else ' with metadata'}) "
          f"at concurrency {level}: at most "
          f"{arguments.requests} requests or {arguments.seconds:.0f} s per server and "
          f"round; {arguments.rounds} rounds, the servers taking turns; medians over the "
          f"rounds; servers on core {SERVER_CORE}, load on core {LOAD_CORE}; Baton on "
          f"SQLite")
    rounds: dict[str, list[Result]] = {name: [] for name in targets}
    for _ in range(arguments.rounds):
        for name, url in targets.items():
            rounds[name].append(await load(url, token, concurrency=level,
                                           requests=arguments.requests,
                                           seconds=arguments.seconds))
    print(f"{'server':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
          f"   req/s of each round")
    figures = {}
    for name, results in rounds.items():
        rate = median(r.rate for r in results)
        p50 = median(r.percentile(0.5) for r in results)
        p99 = median(r.percentile(0.99) for r in results)
        figures[name] = (rate, p50, p99)
        each = " ".join(f"{r.rate:.0f}" for r in results)
        print(f"{name:>6} {rate:>8.0f} {p50:>8.2f} {p99:>8.2f} "
              f"{sum(r.errors for r in results):>6}   {each}")
    ratio = figures["baton"][0] / figures["bare"][0]
    met = ratio >= 1 / 3 and figures["baton"][2] < 100
    print(f"ratio Baton / bare: throughput {ratio:.2f}, p99 "
          f"{figures['baton'][2] / figures['bare'][2]:.2f}; target (throughput >= 0.33, "
          f"Baton p99 < 100 ms): {'met' if met else 'MISSED'}")


def main(arguments: argparse.Namespace) -> int:
    if arguments.bare is not None:
        bare_server(arguments.bare)
        return 0
    cores = os.sched_getaffinity(0)
    if not {SERVER_CORE, LOAD_CORE} <= cores:
        print(f"needs cores {SERVER_CORE} and {LOAD_CORE}; this process may use {cores}")
        return 2
    os.sched_setaffinity(0, {LOAD_CORE})
    work = Path(tempfile.mkdtemp(prefix="baton-api-bench-"))
    servers = launch(work)
    try:
        asyncio.run(measure(arguments, servers))
    finally:
        for process in servers.processes:
            process.terminate()
        for process in servers.processes:
            process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per server and round")
    parser.add_argument("--seconds", type=float, default=20.0, help="per server and round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plain", action="store_true", help="no caller metadata: nothing "
                        "for the API to keep beside the item")
    parser.add_argument("--bare", type=int, help=argparse.SUPPRESS)  # the bare server's port
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(main(_arguments()))
