"""Load benchmark (not a test): signed `/baton handoff` slash commands against `baton serve`
on SQLite, and the same load against three Bolt AsyncApps: a bare one whose handler only
acknowledges, one that first writes the command as one SQLite row, and a typical bot written
the way the SQLAlchemy and Bolt docs show (a fresh AsyncSession on aiosqlite per request
writing the item and an event row, then `chat_postMessage` of a small card from inside the
handler, then the acknowledgement).

    .venv/bin/python bench/slash_load.py [--requests 2000] [--concurrency 1,16,64] [--rounds 3]

The servers run as subprocesses pinned to core 0 (`taskset -c 0`), each behind our own
aiohttp route the way `baton serve` dispatches to Bolt, with `process_before_response=True`.
The load generator runs here, pinned to core 1; a stand-in Slack Web API (auth.test,
users.info, chat.postMessage: Baton's outbox deliveries and the typical bot's cards) runs as a
fifth process, also on core 1. Everything listens on 127.0.0.1. Each level sends at most
--requests requests for at most --seconds, after a warm-up, in --rounds rounds with the
servers taking turns, and prints the medians of requests per second, p50 and p99 for each
server and Baton's ratios to each of the others.

First, with nothing else running, it times Baton's core on core 0 with no HTTP at all: a create
over a store that costs nothing, and over SQLite. Added to bare Bolt's whole request, that is
the most Baton could serve even if storage, rendering and Slack cost nothing.

Target (issue 9): at concurrency 16, Baton's throughput at least twice the typical bot's, with
its p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from procs import free_port, percentile_ms, pinned, wait_until_up

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
SECRET = "bench-signing-secret-0b1c2d3e"
TOKEN = "xoxb-bench-token-0000"
SERVER_CORE, LOAD_CORE = 0, 1
CONFIG = """
workspace: bench
teams:
  general:
    open: true
    channels: {slack: C0BENCH}
"""


# --- the processes under load -------------------------------------------------------------

async def serve_mock(port: int) -> None:
    """A stand-in Slack Web API: enough for Bolt's auth.test, users.info and deliveries."""
    counter = itertools.count(1)
    calls: dict[str, int] = {}

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        calls[method] = calls.get(method, 0) + 1
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post()) | dict(request.query)
        body: dict[str, object] = {"ok": True}
        if method == "auth.test":
            body |= {"team_id": "T0BENCH", "user_id": "U0BOT", "bot_id": "B0BOT"}
        elif method == "users.info":
            user = str(args.get("user"))
            body["user"] = {"id": user, "name": user.lower(), "real_name": user, "tz": "UTC",
                            "profile": {"real_name": user, "email": f"{user}@bench"}}
        elif method in ("chat.postMessage", "chat.update"):
            channel = str(args.get("channel"))
            body |= {"channel": "D" + channel[1:] if channel[0] in "UW" else channel,
                     "ts": f"1700000000.{next(counter):06d}"}
        return web.json_response(body)

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(calls)

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_get("/stats", stats)
    await _run(app, port)


async def serve_bare_bolt(port: int, api_url: str, database: str = "") -> None:
    """Bolt at its fastest: process_before_response, a handler that only acknowledges; with
    `database`, one that first writes the command's text as one row in a SQLite file (WAL,
    synchronous=NORMAL, sqlite3 on the loop's thread) and commits: the least durable work."""
    import sqlite3

    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(signing_secret=SECRET, process_before_response=True,
                    client=AsyncWebClient(token=TOKEN, base_url=api_url))
    db = sqlite3.connect(database or ":memory:", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("CREATE TABLE IF NOT EXISTS commands (id INTEGER PRIMARY KEY, text TEXT)")

    @bolt.command("/baton")
    async def only_ack(ack: object, body: dict[str, str]) -> None:
        if database:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("INSERT INTO commands (text) VALUES (?)", (body["text"],))
            db.execute("COMMIT")
            await ack(f"Stored {row.lastrowid}")  # type: ignore[operator]
            return
        await ack()  # type: ignore[operator]

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(
            request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    await _run(app, port)


async def serve_typical_bolt(port: int, api_url: str, database: str) -> None:
    """A typical Bolt bot, written the way the SQLAlchemy and Bolt docs show: declarative
    models, an async engine on aiosqlite with its defaults, a fresh AsyncSession per request
    that writes the item and an event row and commits, then `chat_postMessage` of a small card
    from inside the handler, then the acknowledgement."""
    from datetime import UTC, datetime

    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy import DateTime, ForeignKey, Integer, String
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    class Base(DeclarativeBase):
        pass

    class Handoff(Base):  # columns without annotations: this module's are strings
        __tablename__ = "handoffs"
        id = mapped_column(Integer, primary_key=True)
        title = mapped_column(String(200))
        requester = mapped_column(String(32))
        channel = mapped_column(String(32))
        state = mapped_column(String(16), default="open")
        created_at = mapped_column(DateTime(timezone=True))

    class Event(Base):
        __tablename__ = "events"
        id = mapped_column(Integer, primary_key=True)
        handoff_id = mapped_column(ForeignKey("handoffs.id"))
        actor = mapped_column(String(32))
        action = mapped_column(String(32))
        at = mapped_column(DateTime(timezone=True))

    engine = create_async_engine(f"sqlite+aiosqlite:///{database}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bolt = AsyncApp(signing_secret=SECRET, process_before_response=True,
                    client=AsyncWebClient(token=TOKEN, base_url=api_url))

    @bolt.command("/baton")
    async def handoff(ack: Any, body: dict[str, str], client: AsyncWebClient) -> None:
        title = body["text"].split(">", 1)[-1].split("--")[0].strip()
        now = datetime.now(UTC)
        async with sessions() as session, session.begin():
            item = Handoff(title=title, requester=body["user_id"],
                           channel=body["channel_id"], created_at=now)
            session.add(item)
            await session.flush()  # the item's id, for the event and the card
            session.add(Event(handoff_id=item.id, actor=body["user_id"], action="created",
                              at=now))
        await client.chat_postMessage(channel=body["channel_id"], text=f"#{item.id} {title}",
                                      blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*#{item.id}* {title}"}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"open · from <@{body['user_id']}>"}]},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Accept"},
                 "action_id": "accept", "value": str(item.id), "style": "primary"},
                {"type": "button", "text": {"type": "plain_text", "text": "Decline"},
                 "action_id": "decline", "value": str(item.id)}]}])
        await ack(f"Created #{item.id}")

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(
            request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    await _run(app, port)


class _NoStore:
    """A unit of work whose writes cost nothing (numbers counted, events sealed, the rest
    dropped): what Baton's core spends on a create with storage taken away. A measuring
    device for the floor below, not a store."""

    def __init__(self) -> None:
        from bot.events import GENESIS

        self.numbers = itertools.count(1)
        self.seq, self.hash = 0, GENESIS
        self.items = self.events = self.outbox = self.absences = self.deliveries = self

    async def __aenter__(self) -> _NoStore:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def commit(self) -> None:
        return None

    async def allocate_number(self, _: str) -> int:
        return next(self.numbers)

    async def add(self, _: object) -> None:
        return None

    async def put(self, _: object) -> None:
        return None

    async def append(self, draft: object) -> object:
        from bot.events import seal

        event = seal(draft, self.seq + 1, self.hash)  # type: ignore[arg-type]
        self.seq, self.hash = event.seq, event.hash
        return event

    async def get(self, *_: object) -> None:
        return None

    async def delegating_to(self, *_: object) -> list[object]:
        return []

    async def first_time(self, *_: object) -> bool:
        return True


async def core_floor(work: Path, requests: int) -> None:
    """CPU per `/baton handoff` in Baton's core with no HTTP at all (Baton.handle called
    directly, as the Slack listener calls it): over a store that costs nothing, and over the
    SQLite store `baton serve` uses. Prints JSON: median milliseconds of 3 runs each."""
    import json

    from baton.app import build
    from baton.settings import Settings
    from bot.config import ConfigDirectory, load_config
    from bot.context import Request
    from bot.grammar import parse
    from bot.ports import UnitOfWork, UnitOfWorkFactory
    from bot.service import Baton

    (work / "floor.yaml").write_text(CONFIG)
    os.environ |= {"BATON_CONFIG": str(work / "floor.yaml"),
                   "BATON_DATABASE_URL": f"sqlite:///{work / 'floor.db'}"}
    app = await build(Settings())
    free = _NoStore()

    class Free(UnitOfWorkFactory):
        def __call__(self) -> UnitOfWork:
            return free  # type: ignore[return-value]

    cores = {"no store": Baton(Free(), app.clock,
                               ConfigDirectory(load_config(work / "floor.yaml"))),
             "SQLite": app.baton}
    figures = {}
    counter = itertools.count()
    for name, core in cores.items():
        runs = []
        for run in range(4):  # the first warms up
            started = time.process_time()
            for _ in range(requests):
                n = next(counter)
                reply = await core.handle(
                    Request("bench", f"U0REQ{n % 8}", "slack", f"floor:{n}"),
                    parse(f"handoff @U0RCV{n % 8} Bench handoff {n} --p high"))
                assert reply.ok, reply.text
            if run:
                runs.append((time.process_time() - started) / requests * 1000)
        figures[name] = median(runs)
    await app.close()
    print(json.dumps(figures))


async def _run(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


# --- the load -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        return percentile_ms(self.latencies, p)


_ids = itertools.count(1)


def signed_handoff() -> tuple[bytes, dict[str, str]]:
    n = next(_ids)
    body = urlencode({
        "token": "verification_token", "team_id": "T0BENCH", "team_domain": "bench",
        "channel_id": "C0BENCH", "channel_name": "bench", "user_id": f"U0REQ{n % 8}",
        "user_name": "requester", "command": "/baton",
        "text": f"handoff <@U0RCV{n % 8}|receiver> Bench handoff {n} --p high",
        "response_url": "http://127.0.0.1:9/hooks", "trigger_id": f"{n}.{time.time_ns()}"})
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Slack-Request-Timestamp": stamp,
                           "X-Slack-Signature": f"v0={digest.hexdigest()}"}


async def load(url: str, *, concurrency: int, requests: int, seconds: float,
               expect: str) -> Result:
    """`requests` signed slash commands, `concurrency` at a time, for at most `seconds`."""
    latencies: list[float] = []
    errors = 0
    sent = itertools.count()
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal errors
            while next(sent) < requests and time.perf_counter() < deadline:
                body, headers = signed_handoff()
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    text = await response.text()
                latencies.append(time.perf_counter() - started)
                if response.status != 200 or expect not in text:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(len(latencies), errors, elapsed, latencies)


async def measure_floor(requests: int) -> dict[str, float]:
    """`core_floor` in a subprocess pinned where the servers run, while no load runs."""
    import json

    with tempfile.TemporaryDirectory(prefix="baton-floor-") as work:
        process = await asyncio.create_subprocess_exec(
            *pinned(SERVER_CORE, sys.executable, str(SCRIPT), "--core-floor", work,
                    str(requests)),
            env={**os.environ, "PYTHONPATH": str(ROOT), "BATON_LOG_LEVEL": "WARNING"},
            stdout=asyncio.subprocess.PIPE)
        out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the core floor run failed ({process.returncode})")
    figures: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return figures


@dataclass(frozen=True)
class Servers:
    mock: str  # the Web API's base URL
    baton: str
    bare: str
    bare_db: str
    typical: str
    processes: tuple[subprocess.Popen[bytes], ...]


def launch(work: Path) -> Servers:
    """The stand-in Web API (core 1), `baton serve` and the bare Bolt app (core 0)."""
    (work / "baton.yaml").write_text(CONFIG)
    mock_port, baton_port, bare_port, db_port, typical_port = (free_port() for _ in range(5))
    api_url = f"http://127.0.0.1:{mock_port}/api/"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BATON_DATABASE_URL":
           f"sqlite+aiosqlite:///{work / 'baton.db'}", "BATON_CONFIG": str(work / "baton.yaml"),
           "BATON_SLACK_SIGNING_SECRET": SECRET, "BATON_SLACK_BOT_TOKEN": TOKEN,
           "BATON_SLACK_API_URL": api_url, "BATON_HOST": "127.0.0.1",
           "BATON_PORT": str(baton_port), "BATON_LOG_LEVEL": "WARNING"}
    for name in ("BATON_REDIS_URL", "BATON_SLACK_APP_TOKEN", "BATON_SLACK_CLIENT_ID",
                 "BATON_SLACK_CLIENT_SECRET"):
        env.pop(name, None)
    python, script = sys.executable, str(SCRIPT)
    processes = (
        subprocess.Popen(pinned(LOAD_CORE, python, script, "--mock-slack", str(mock_port)),
                         env=env),
        subprocess.Popen(pinned(SERVER_CORE, python, "-m", "baton.cli", "serve"), env=env,
                         cwd=work, stdout=subprocess.DEVNULL),
        subprocess.Popen(pinned(SERVER_CORE, python, script, "--bare-bolt", str(bare_port),
                                api_url), env=env),
        subprocess.Popen(pinned(SERVER_CORE, python, script, "--bare-bolt", str(db_port),
                                api_url, str(work / "bare.db")), env=env),
        subprocess.Popen(pinned(SERVER_CORE, python, script, "--typical-bolt",
                                str(typical_port), api_url, str(work / "typical.db")), env=env),
    )
    return Servers(api_url, f"http://127.0.0.1:{baton_port}",
                   f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{db_port}",
                   f"http://127.0.0.1:{typical_port}", processes)


async def measure(servers: Servers, arguments: argparse.Namespace,
                  floor: dict[str, float]) -> None:
    levels = [int(c) for c in arguments.concurrency.split(",")]
    mock, baton, bare, bare_db, typical = servers.processes
    await wait_until_up(servers.mock + "api.test", mock)
    await wait_until_up(servers.baton + "/readyz", baton)
    await wait_until_up(servers.bare + "/slack/events", bare)
    await wait_until_up(servers.bare_db + "/slack/events", bare_db)
    await wait_until_up(servers.typical + "/slack/events", typical)
    targets = {"baton": servers.baton + "/slack/events", "bare": servers.bare + "/slack/events",
               "bare+db": servers.bare_db + "/slack/events",
               "typical": servers.typical + "/slack/events"}
    expect = {"baton": "Created #", "bare": "", "bare+db": "Stored ", "typical": "Created #"}
    for name, url in targets.items():  # warm up: auth.test, users.info, first writes
        await load(url, concurrency=4, requests=200, seconds=20, expect=expect[name])
    print(f"{arguments.requests} signed `/baton handoff` requests per level, server and round "
          f"(at most {arguments.seconds:.0f} s); {arguments.rounds} rounds, the servers "
          f"taking turns; medians over the rounds; servers on core {SERVER_CORE}, load on core "
          f"{LOAD_CORE}; Baton on SQLite")
    print(f"{'conc':>4} {'server':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
          f"   req/s (p99 ms) of each round")
    summary = []
    bare_rates: dict[int, float] = {}
    for level in levels:
        rounds: dict[str, list[Result]] = {name: [] for name in targets}
        for _ in range(arguments.rounds):
            for name, url in targets.items():
                rounds[name].append(await load(url, concurrency=level,
                                                requests=arguments.requests,
                                                seconds=arguments.seconds,
                                                expect=expect[name]))
        figures = {}
        for name, results in rounds.items():
            rate = median(r.rate for r in results)
            p50 = median(r.percentile(0.5) for r in results)
            p99 = median(r.percentile(0.99) for r in results)
            figures[name] = (rate, p99)
            if name == "bare":
                bare_rates[level] = rate
            each = " ".join(f"{r.rate:.0f} ({r.percentile(0.99):.0f})" for r in results)
            print(f"{level:>4} {name:>7} {rate:>8.0f} {p50:>8.2f} {p99:>8.2f} "
                  f"{sum(r.errors for r in results):>6}   {each}")
        summary.append((level, *(value for other in ("bare", "bare+db", "typical")
                                 for value in (figures["baton"][0] / figures[other][0],
                                               figures["baton"][1] / figures[other][1])),
                        figures["baton"][1]))
    async with aiohttp.ClientSession() as http, \
            http.get(servers.mock.removesuffix("api/") + "stats") as response:
        calls = await response.json()
    print("Web API calls the stand-in Slack received (Baton's outbox deliveries among them): "
          + ", ".join(f"{method} {count}" for method, count in sorted(calls.items())))
    print("ratios of Baton's throughput and p99 to: bare Bolt; bare Bolt writing one row; the "
          "typical Bolt bot")
    for level, rate, p99, db_rate, db_p99, typ_rate, typ_p99, baton_p99 in summary:
        verdict = ""
        if level == 16:
            met = typ_rate >= 2 and baton_p99 < 100
            verdict = (f"  target (>=2.00x the typical bot, Baton's p99 < 100 ms): "
                       f"{'met' if met else 'MISSED'}")
        print(f"{level:>4}  {rate:.2f} / {p99:.2f};  {db_rate:.2f} / {db_p99:.2f};  "
              f"{typ_rate:.2f} / {typ_p99:.2f}{verdict}")
    print(f"Baton's core alone, per create, no HTTP (core {SERVER_CORE}, CPU): "
          f"{floor['no store']:.3f} ms over a store that costs nothing, "
          f"{floor['SQLite']:.3f} ms over SQLite")
    bare16 = bare_rates.get(16)
    if bare16:
        bare_ms = 1000 / bare16
        free, stored = (1000 / (bare_ms + floor[name]) for name in ("no store", "SQLite"))
        print(f"bare Bolt's whole request at c16: {bare_ms:.3f} ms; added to the core's, Baton "
              f"could serve at most {free:.0f} req/s ({free / bare16:.2f}x bare) were storage, "
              f"rendering and Slack free, {stored:.0f} req/s ({stored / bare16:.2f}x) with "
              f"the SQLite store and the rest free")

def main(arguments: argparse.Namespace) -> int:
    cores = os.sched_getaffinity(0)
    if not {SERVER_CORE, LOAD_CORE} <= cores:
        print(f"needs cores {SERVER_CORE} and {LOAD_CORE}; this process may use {cores}")
        return 2
    os.sched_setaffinity(0, {LOAD_CORE})
    floor = asyncio.run(measure_floor(arguments.requests))  # before any server runs
    work = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    servers = launch(work)
    try:
        asyncio.run(measure(servers, arguments, floor))
    finally:
        for process in servers.processes:
            process.terminate()
        for process in servers.processes:
            process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per level and server")
    parser.add_argument("--seconds", type=float, default=60.0, help="per level and server")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--rounds", type=int, default=3, help="per level; medians are quoted")
    parser.add_argument("--mock-slack", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare-bolt", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--typical-bolt", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--core-floor", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    args = _arguments()
    if args.mock_slack:
        asyncio.run(serve_mock(args.mock_slack))
    elif args.core_floor:
        asyncio.run(core_floor(Path(args.core_floor[0]), int(args.core_floor[1])))
    elif args.bare_bolt:
        asyncio.run(serve_bare_bolt(int(args.bare_bolt[0]), *args.bare_bolt[1:]))
    elif args.typical_bolt:
        asyncio.run(serve_typical_bolt(int(args.typical_bolt[0]), *args.typical_bolt[1:]))
    else:
        raise SystemExit(main(args))
