"""End-to-end benchmark (not a test): the time from a signed `/baton handoff` until the stand-in
Slack Web API receives the item's card, and its owner's DM, through `baton serve` on SQLite
and its outbox worker.

    .venv/bin/python bench/e2e.py [--commands 16] [--rounds 3]

Each round sends a burst of --commands handoffs, each from its own channel (a card goes to the
channel it was raised in), at concurrency 1 and 16, to 16 distinct owners and to 4 owners.
Slack paces a conversation to about one message a second (short bursts allowed), so 4 owners'
DMs queue up, four each: what is measured is that a paced conversation delays only itself,
never the cards bound for other channels. Rounds are a few seconds apart, as bursts of work
are. `baton serve` runs on core 0; the load and the stand-in Web API (which notes when each
card and DM arrives) on core 1. Medians of --rounds rounds.

Target on the reference machine: the card's p99 under 300 ms in all four cases.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import os
import re
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
SECRET = "bench-e2e-signing-secret-5d1e"
TOKEN = "xoxb-bench-e2e-token"
SERVER_CORE, LOAD_CORE = 0, 1
CONFIG = """
workspace: bench
teams:
  general:
    open: true
    channels: {slack: C0BENCH}
"""
CHANNELS = 16
PAUSE = 3.0  # seconds between rounds: the last round's paced DMs are out by then
_TAG = re.compile(r"e2e-(\d+)")


# --- the stand-in Web API: notes when each card and DM arrives ------------------------------

async def serve_mock(port: int) -> None:
    counter = itertools.count(1)
    cards: dict[int, float] = {}
    dms: dict[int, float] = {}

    async def api(request: web.Request) -> web.Response:
        arrived = time.time()
        method = request.match_info["method"]
        args: dict[str, Any] = await request.json() if request.content_type == \
            "application/json" else dict(await request.post()) | dict(request.query)
        body: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            body |= {"team_id": "T0BENCH", "user_id": "U0BOT", "bot_id": "B0BOT"}
        elif method == "users.info":
            user = str(args.get("user"))
            body["user"] = {"id": user, "name": user.lower(), "real_name": user, "tz": "UTC",
                            "profile": {"real_name": user, "email": f"{user}@bench"}}
        elif method == "chat.postMessage":
            channel = str(args.get("channel"))
            found = _TAG.search(str(args.get("blocks") or args.get("text")))
            if found and not args.get("thread_ts"):
                (dms if channel[0] in "UW" else cards).setdefault(int(found[1]), arrived)
            body |= {"channel": "D" + channel[1:] if channel[0] in "UW" else channel,
                     "ts": f"1700000000.{next(counter):06d}"}
        elif method == "conversations.open":
            body["channel"] = {"id": "D" + str(args.get("users", "X"))[1:]}
        return web.json_response(body)

    async def arrivals(_: web.Request) -> web.Response:
        return web.json_response({"cards": cards, "dms": dms})

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_get("/arrivals", arrivals)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


# --- the load -------------------------------------------------------------------------------

def signed_handoff(n: int, owners: int) -> tuple[bytes, dict[str, str]]:
    channel = f"C0CH{n % CHANNELS:04d}"
    body = urlencode({
        "token": "verification_token", "team_id": "T0BENCH", "team_domain": "bench",
        "channel_id": channel, "channel_name": f"ch{n % CHANNELS}", "user_id": "U0REQUEST",
        "user_name": "requester", "command": "/baton",
        "text": f"handoff <@U0OWNER{n % owners:02d}|owner> e2e-{n} Ship the report",
        "response_url": "http://127.0.0.1:9/hooks", "trigger_id": f"{n}.{time.time_ns()}"})
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Slack-Request-Timestamp": stamp,
                           "X-Slack-Signature": f"v0={digest.hexdigest()}"}


@dataclass(frozen=True)
class Round:
    cards: list[float]  # seconds from the command to its card, per command
    dms: list[float]
    missing: int

    @staticmethod
    def percentile(values: list[float], p: float) -> float:
        return percentile_ms(values, p)


_numbers = itertools.count(1)


async def one_round(baton: str, mock: str, *, commands: int, concurrency: int,
                    owners: int) -> Round:
    numbers = [next(_numbers) for _ in range(commands)]
    sent: dict[int, float] = {}
    queue = iter(numbers)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def worker() -> None:
            for n in queue:
                body, headers = signed_handoff(n, owners)
                sent[n] = time.time()
                async with http.post(f"{baton}/slack/events", data=body,
                                     headers=headers) as response:
                    text = await response.text()
                if response.status != 200 or "Created #" not in text:
                    raise RuntimeError(f"handoff {n}: {response.status} {text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        # Cards arrive within moments; 4 owners' DMs wait out Slack's pace (about 1/s each).
        deadline = time.time() + 10 + commands / owners * 1.2
        while True:
            async with http.get(f"{mock}/arrivals") as response:
                arrivals = await response.json()
            cards = {int(k): v for k, v in arrivals["cards"].items()}
            dms = {int(k): v for k, v in arrivals["dms"].items()}
            if all(n in cards and n in dms for n in numbers) or time.time() > deadline:
                break
            await asyncio.sleep(0.2)
    missing = sum(1 for n in numbers if n not in cards or n not in dms)
    return Round([cards[n] - sent[n] for n in numbers if n in cards],
                 [dms[n] - sent[n] for n in numbers if n in dms], missing)


async def measure(baton: str, mock: str, arguments: argparse.Namespace) -> None:
    await wait_until_up(f"{mock}/arrivals")
    await wait_until_up(f"{baton}/readyz")
    await one_round(baton, mock, commands=32, concurrency=4, owners=16)  # warm up
    print(f"{arguments.commands} signed `/baton handoff` commands per round from {CHANNELS} "
          f"channels; {arguments.rounds} rounds; medians; baton serve on core {SERVER_CORE}, "
          f"load and the stand-in Web API on core {LOAD_CORE}; SQLite")
    print(f"{'conc':>4} {'owners':>6} {'card p50':>9} {'card p99':>9} {'DM p50':>9} "
          f"{'DM p99':>9} {'missing':>7}   card p99 of each round (ms)")
    verdicts = []
    for concurrency in (1, 16):
        for owners in (16, 4):
            rounds = []
            for _ in range(arguments.rounds):
                await asyncio.sleep(PAUSE)
                rounds.append(await one_round(baton, mock, commands=arguments.commands,
                                              concurrency=concurrency, owners=owners))
            card50 = median(Round.percentile(r.cards, 0.5) for r in rounds)
            card99 = median(Round.percentile(r.cards, 0.99) for r in rounds)
            dm50 = median(Round.percentile(r.dms, 0.5) for r in rounds)
            dm99 = median(Round.percentile(r.dms, 0.99) for r in rounds)
            each = " ".join(f"{Round.percentile(r.cards, 0.99):.0f}" for r in rounds)
            print(f"{concurrency:>4} {owners:>6} {card50:>8.0f}m {card99:>8.0f}m "
                  f"{dm50:>8.0f}m {dm99:>8.0f}m {sum(r.missing for r in rounds):>7}   {each}")
            verdicts.append(card99 < 300)
    print(f"target (the card's p99 under 300 ms in every case): "
          f"{'met' if all(verdicts) else 'MISSED'}; DMs to 4 owners wait out Slack's pace "
          f"of about one message a second each, by design")


def main(arguments: argparse.Namespace) -> int:
    if not {SERVER_CORE, LOAD_CORE} <= os.sched_getaffinity(0):
        print(f"needs cores {SERVER_CORE} and {LOAD_CORE}")
        return 2
    os.sched_setaffinity(0, {LOAD_CORE})
    work = Path(tempfile.mkdtemp(prefix="baton-e2e-"))
    (work / "baton.yaml").write_text(CONFIG)
    mock_port, baton_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "BATON_DATABASE_URL": f"sqlite:///{work / 'baton.db'}",
           "BATON_CONFIG": str(work / "baton.yaml"), "BATON_DATA_DIR": str(work / "var"),
           "BATON_SLACK_SIGNING_SECRET": SECRET, "BATON_SLACK_BOT_TOKEN": TOKEN,
           "BATON_SLACK_API_URL": f"http://127.0.0.1:{mock_port}/api/",
           "BATON_HOST": "127.0.0.1", "BATON_PORT": str(baton_port),
           "BATON_LOG_LEVEL": "WARNING"}
    for name in ("BATON_REDIS_URL", "BATON_SLACK_APP_TOKEN", "BATON_SLACK_CLIENT_ID",
                 "BATON_SLACK_CLIENT_SECRET"):
        env.pop(name, None)
    processes = [
        subprocess.Popen(pinned(LOAD_CORE, sys.executable, str(SCRIPT), "--mock",
                                str(mock_port)), env=env),
        subprocess.Popen(pinned(SERVER_CORE, sys.executable, "-m", "baton.cli", "serve"),
                         env=env, cwd=work, stdout=subprocess.DEVNULL),
    ]
    try:
        asyncio.run(measure(f"http://127.0.0.1:{baton_port}", f"http://127.0.0.1:{mock_port}",
                            arguments))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=16, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mock", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mock:
        asyncio.run(serve_mock(args.mock))
    else:
        raise SystemExit(main(args))
