"""Load benchmark (not a test): signed Teams message activities carrying `handoff @someone …`
against `baton serve`'s /api/messages on SQLite, and the same load against a stock botbuilder
bot that only replies, token validation on in both.

    .venv/bin/python bench/teams_load.py [--requests 2000] [--seconds 60] [--concurrency 16]
                                         [--rounds 3]

Microsoft's side runs here, on 127.0.0.1, as one process (`--mock-microsoft`): an OpenID
metadata document and its JWKS (a local RSA key, the one the load signs its tokens with), the
sign-in service a bot gets its own token from (OAuth client credentials over TLS, with a
certificate made for the run: MSAL will only sign in over https), and the Bot Connector
(`/v3/conversations/…`: replies, proactive messages, 1:1 chats opened, member lookups), which
answers at once and counts what it received.

The stock bot (`--stock-bot`) is botbuilder-integration-aiohttp 4.17.1's documented path: an
aiohttp route calling `CloudAdapter.process` with `ConfigurationBotFrameworkAuthentication`
(pointed at the local OpenID metadata and sign-in service, as for a sovereign cloud), and an
ActivityHandler whose `on_message_activity` sends one text reply. One thing differs from the
stock credentials: MSAL would first ask login.microsoftonline.com whether the sign-in host is
a known one (instance discovery; it asks for any host but Microsoft's own, and this machine
has no internet), so the bench's credentials factory builds the same MicrosoftAppCredentials
per activity, as the stock factory does, with that one question turned off; against the
public cloud's login.microsoftonline.com MSAL does not ask it either.

Baton is `baton serve` with BATON_TEAMS_APP_ID/_APP_PASSWORD, BATON_TEAMS_OPENID_METADATA_URL
and BATON_TEAMS_LOGIN_URL pointed at the same local services; its outbox delivers the new
owner's DM (opening the 1:1 chat the first time) and the team channel's card at Teams' pace,
in the background, on the same core.

Each request is a message in a requester's 1:1 chat with the bot (`handoff <at>Owner</at> …`
with its mention entity, as Teams sends it), with a valid token: signed RS256 by the local key,
issuer, audience (the app id) and serviceurl claim as the Bot Framework sets them. The Bot
Framework reuses its token for an hour, so one token signed at the start serves every request
(each is still validated in full by both servers: signature, issuer, audience, lifetime,
service URL, endorsements).

The servers run as subprocesses pinned to core 0 (`taskset -c 0`); the load generator and the
stand-in Microsoft run on core 1. Each round sends at most --requests requests for at most
--seconds at each concurrency level, after a warm-up, the servers taking turns; it prints the
medians over --rounds rounds of requests per second, p50 and p99 for each, each server's CPU
per request (from /proc), and Baton's ratios to the stock bot.

Target (issue 10, item 9): at concurrency 16, Baton's throughput at least 5 times the stock
bot's, with Baton's p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import itertools
import json
import logging
import os
import pstats
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import unquote

import aiohttp
from aiohttp import web
from procs import free_port, percentile_ms, pinned, wait_until_up

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
SERVER_CORE, LOAD_CORE = 0, 1
APP_ID = "5e1d6c1a-0b7e-4f55-9d2c-6a4b0c3e2f10"
APP_PASSWORD = "bench-client-secret-7c1e"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ISSUER = "https://api.botframework.com"  # whose tokens the Bot Framework sends a bot
BOT = f"28:{APP_ID}"
PEOPLE = 8  # requesters req0…req7 hand off to owners own0…own7
CHANNEL = "19:bench0000000000000000000000000000@thread.tacv2"


def aad(person: str) -> str:
    n = int(person[-1]) + (0 if person.startswith("req") else PEOPLE)
    return f"00000000-0000-4000-8000-{n:012d}"


def mri(person: str) -> str:
    return f"29:1bench-{person}"


def config() -> str:
    people = "\n".join(f"  {p}: {{name: {p.capitalize()} Bench, teams: {aad(p)}}}"
                       for p in (*(f"req{n}" for n in range(PEOPLE)),
                                 *(f"own{n}" for n in range(PEOPLE))))
    members = ", ".join(f"{kind}{n}" for kind in ("req", "own") for n in range(PEOPLE))
    return f"""workspace: bench
people:
{people}
teams:
  general:
    lead: req0
    members: [{members}]
    channels: {{teams: "{CHANNEL}"}}
"""


# --- Microsoft's side ---------------------------------------------------------------------

def make_keys(work: Path) -> None:
    """The Bot Framework's signing key and the sign-in service's TLS certificate, as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    def pem(key: rsa.RSAPrivateKey) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (work / "signing.pem").write_bytes(pem(signing))
    tls = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(tls.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                  critical=True)
                   .sign(tls, hashes.SHA256()))
    (work / "tls.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (work / "tls-key.pem").write_bytes(pem(tls))


def signing_key(work: Path) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key((work / "signing.pem").read_bytes(), None)


def token(work: Path, service_url: str, *, foreign: bool = False) -> str:
    """A token as the Bot Framework signs the requests it sends a bot, valid for an hour;
    `foreign`: the same, signed by a key the OpenID metadata does not publish."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    now = int(time.time())
    claims = {"iss": ISSUER, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 60,
              "iat": now - 60, "exp": now + 3600}
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if foreign \
        else signing_key(work)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"})


async def serve_microsoft(port: int, login_port: int, work: Path) -> None:
    """The OpenID metadata and JWKS, the Bot Connector (HTTP) and the sign-in service (TLS)."""
    from jwt.algorithms import RSAAlgorithm

    base = f"http://127.0.0.1:{port}"
    login = f"https://127.0.0.1:{login_port}"
    jwk = {**json.loads(RSAAlgorithm.to_jwk(signing_key(work).public_key())), "kid": "bench",
           "use": "sig", "alg": "RS256", "endorsements": ["msteams"]}
    calls: dict[str, int] = {}
    ids = itertools.count(1)
    members = {who: {"id": mri(p), "name": f"{p.capitalize()} Bench", "aadObjectId": aad(p),
                     "email": f"{p}@bench.example", "userPrincipalName": f"{p}@bench.example",
                     "tenantId": TENANT, "userRole": "user"}
               for p in (*(f"req{n}" for n in range(PEOPLE)),
                         *(f"own{n}" for n in range(PEOPLE)))
               for who in (mri(p), aad(p))}

    def count(kind: str) -> None:
        calls[kind] = calls.get(kind, 0) + 1

    async def openid(_: web.Request) -> web.Response:
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{base}/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def keys(_: web.Request) -> web.Response:
        return web.json_response({"keys": [jwk]})

    async def posted(request: web.Request) -> web.Response:
        body = await request.json()
        kind = "reply" if "activity" in request.match_info else "send"
        text = str(body.get("text") or "")
        count(f"{kind} (Baton)" if "Created #" in text else
              f"{kind} (stock)" if text.startswith("Got it") else kind)
        return web.json_response({"id": f"17{next(ids):011d}"}, status=201)

    async def updated(request: web.Request) -> web.Response:
        count("update")
        return web.json_response({"id": unquote(request.match_info["activity"])})

    async def created(request: web.Request) -> web.Response:
        body = await request.json()
        count("create")
        member = (body.get("members") or [{}])[0].get("id", "x")
        return web.json_response({"id": f"a:bench-chat-with-{member}", "activityId": "",
                                  "serviceUrl": f"{base}/"}, status=201)

    async def member(request: web.Request) -> web.Response:
        count("member")
        found = members.get(unquote(request.match_info["member"]))
        if found is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}},
                                     status=404)
        return web.json_response(found)

    async def login_metadata(request: web.Request) -> web.Response:
        count("sign-in metadata")
        where = f"{login}/{request.match_info['tenant']}"
        return web.json_response({"issuer": f"{where}/v2.0",
                                  "authorization_endpoint": f"{where}/oauth2/v2.0/authorize",
                                  "token_endpoint": f"{where}/oauth2/v2.0/token"})

    async def sign_in(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != APP_ID or form.get("client_secret") != APP_PASSWORD:
            return web.json_response({"error": "invalid_client"}, status=401)
        count("sign-in")
        return web.json_response({"token_type": "Bearer", "expires_in": 3599,
                                  "ext_expires_in": 3599,
                                  "access_token": f"bench-bot-token-{next(ids)}"})

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(calls)

    app = web.Application()
    app.router.add_get("/openid", openid)
    app.router.add_get("/keys", keys)
    app.router.add_post("/v3/conversations", created)
    app.router.add_post("/v3/conversations/{conversation}/activities", posted)
    app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", posted)
    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", updated)
    app.router.add_get("/v3/conversations/{conversation}/members/{member}", member)
    app.router.add_get("/stats", stats)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(work / "tls.pem", work / "tls-key.pem")
    signing_in = web.Application()
    signing_in.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", login_metadata)
    signing_in.router.add_post("/{tenant}/oauth2/v2.0/token", sign_in)
    await _run(app, port)
    await _run(signing_in, login_port, tls)
    await asyncio.Event().wait()


# --- the stock bot ------------------------------------------------------------------------

async def serve_stock_bot(port: int, openid_url: str, login_url: str) -> None:
    """botbuilder's stock path: CloudAdapter.process, a handler that sends one reply."""
    from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )
    from botframework.connector.auth import (
        AuthenticationConstants,
        MicrosoftAppCredentials,
        PasswordServiceClientCredentialFactory,
    )

    class Settings:
        """The sample bots' DefaultConfig, with a sovereign cloud's endpoints (local ones)."""

        APP_ID = APP_ID
        APP_PASSWORD = APP_PASSWORD
        APP_TYPE = "MultiTenant"
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = openid_url
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = openid_url
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = ISSUER
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        TO_CHANNEL_FROM_BOT_LOGIN_URL = f"{login_url}/botframework.com"
        OAUTH_URL = AuthenticationConstants.OAUTH_URL
        CALLER_ID = "urn:botframework:azure"
        VALIDATE_AUTHORITY = True

    class Credentials(MicrosoftAppCredentials):  # type: ignore[misc]
        """MicrosoftAppCredentials as the stock factory makes them (one per activity, with an
        MSAL app of their own), signing in at the local service without instance discovery
        (which MSAL skips for Microsoft's own sign-in host too)."""

        def __init__(self, endpoint: str, scope: str) -> None:
            super().__init__(APP_ID, APP_PASSWORD, oauth_scope=scope)
            self.oauth_endpoint = endpoint
            self.msal: Any = None

        def get_access_token(self, force_refresh: bool = False) -> str:
            import msal

            if self.msal is None:
                self.msal = msal.ConfidentialClientApplication(
                    APP_ID, client_credential=APP_PASSWORD, authority=self.oauth_endpoint,
                    instance_discovery=False)
            scopes = [self.oauth_scope.removesuffix("/.default") + "/.default"]
            found = self.msal.acquire_token_silent(scopes, account=None) or \
                self.msal.acquire_token_for_client(scopes=scopes)
            return str(found["access_token"])

    class Factory(PasswordServiceClientCredentialFactory):  # type: ignore[misc]
        async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                     validate_authority: bool) -> Any:
            if not await self.is_valid_app_id(app_id):
                raise PermissionError("Invalid app_id")
            return Credentials(login_endpoint, oauth_scope)

    class Echo(ActivityHandler):  # type: ignore[misc]
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(MessageFactory.text(
                f"Got it: {turn_context.activity.text}"))

    # A refused token is an exception that aiohttp logs with its traceback (and answers 500).
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(
        Settings(), credentials_factory=Factory(APP_ID, APP_PASSWORD)))
    bot = Echo()

    async def messages(request: web.Request) -> web.Response:
        response: web.Response = await adapter.process(request, bot)
        return response

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    await _run(app, port)
    await asyncio.Event().wait()


async def _run(app: web.Application, port: int, tls: ssl.SSLContext | None = None) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls).start()


# --- the load -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu: float  # the server's CPU seconds over the round

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu / max(self.requests, 1) * 1000

    def percentile(self, p: float) -> float:
        return percentile_ms(self.latencies, p)


_ids = itertools.count(1)


def handoff(service_url: str) -> bytes:
    """A message in a requester's 1:1 chat with the bot, as Teams sends it."""
    n = next(_ids)
    requester, owner = f"req{n % PEOPLE}", f"own{(n // PEOPLE) % PEOPLE}"
    name = f"{owner.capitalize()} Bench"
    return json.dumps({
        "type": "message", "id": f"1{n:012d}", "channelId": "msteams",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(), "serviceUrl": service_url,
        "from": {"id": mri(requester), "name": f"{requester.capitalize()} Bench",
                 "aadObjectId": aad(requester)},
        "conversation": {"id": f"a:1bench-personal-{requester}", "conversationType": "personal",
                         "tenantId": TENANT},
        "recipient": {"id": BOT, "name": "Baton"},
        "text": f"handoff <at>{name}</at> Bench handoff {n} --p high",
        "textFormat": "plain", "locale": "en-US",
        "entities": [{"type": "mention", "text": f"<at>{name}</at>",
                      "mentioned": {"id": mri(owner), "name": name}},
                     {"type": "clientInfo", "locale": "en-US", "timezone": "Europe/London"}],
        "channelData": {"tenant": {"id": TENANT}},
    }).encode()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(url: str, *, bearer: str, service_url: str, concurrency: int, requests: int,
               seconds: float, pid: int) -> Result:
    """`requests` signed activities, `concurrency` at a time, for at most `seconds`."""
    latencies: list[float] = []
    errors = 0
    sent = itertools.count()
    deadline = time.perf_counter() + seconds
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal errors
            while next(sent) < requests and time.perf_counter() < deadline:
                body = handoff(service_url)
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                if response.status not in (200, 201):
                    errors += 1

        cpu = cpu_seconds(pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu
    return Result(len(latencies), errors, elapsed, latencies, cpu)


@dataclass(frozen=True)
class Servers:
    microsoft: str  # the connector, OpenID metadata and JWKS
    baton: str
    stock: str
    processes: tuple[subprocess.Popen[bytes], ...]


def launch(work: Path, profile: str = "") -> Servers:
    """The stand-in Microsoft (core 1), `baton serve` and the stock bot (core 0); with
    `profile`, Baton runs under cProfile and writes its statistics there when it stops."""
    make_keys(work)
    (work / "baton.yaml").write_text(config())
    microsoft_port, login_port, baton_port, stock_port = (free_port() for _ in range(4))
    microsoft = f"http://127.0.0.1:{microsoft_port}"
    login = f"https://127.0.0.1:{login_port}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BATON_")},
           "PYTHONPATH": str(ROOT), "REQUESTS_CA_BUNDLE": str(work / "tls.pem"),
           "BATON_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'baton.db'}",
           "BATON_CONFIG": str(work / "baton.yaml"), "BATON_TEAMS_APP_ID": APP_ID,
           "BATON_TEAMS_APP_PASSWORD": APP_PASSWORD,
           "BATON_TEAMS_OPENID_METADATA_URL": f"{microsoft}/openid",
           "BATON_TEAMS_LOGIN_URL": login, "BATON_HOST": "127.0.0.1",
           "BATON_PORT": str(baton_port), "BATON_LOG_LEVEL": "WARNING"}
    python, script = sys.executable, str(SCRIPT)
    processes = (
        subprocess.Popen(pinned(LOAD_CORE, python, script, "--mock-microsoft",
                                str(microsoft_port), str(login_port), str(work)), env=env),
        subprocess.Popen(pinned(SERVER_CORE, python, *(("-m", "cProfile", "-o", profile)
                                                       if profile else ()),
                                "-m", "baton.cli", "serve"), env=env, cwd=work,
                         stdout=subprocess.DEVNULL),
        subprocess.Popen(pinned(SERVER_CORE, python, script, "--stock-bot", str(stock_port),
                                f"{microsoft}/openid", login), env=env),
    )
    return Servers(microsoft, f"http://127.0.0.1:{baton_port}",
                   f"http://127.0.0.1:{stock_port}", processes)


async def measure(servers: Servers, work: Path, arguments: argparse.Namespace) -> None:
    levels = [int(c) for c in arguments.concurrency.split(",")]
    microsoft, baton, stock = servers.processes
    await wait_until_up(servers.microsoft + "/stats", microsoft)
    await wait_until_up(servers.baton + "/readyz", baton)
    await wait_until_up(servers.stock + "/api/messages", stock)
    service_url = servers.microsoft + "/"
    bearer = token(work, service_url)
    targets = {"baton": (servers.baton + "/api/messages", baton.pid),
               "stock": (servers.stock + "/api/messages", stock.pid)}
    async with aiohttp.ClientSession() as http:  # token validation is on in both: a token
        for name, (url, _) in targets.items():    # from a foreign key is refused (stock: 500)
            async with http.post(url, data=handoff(service_url), headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {token(work, service_url, foreign=True)}"}) as sent:
                if sent.status < 400:
                    raise RuntimeError(f"{name} took a token signed by a foreign key "
                                       f"({sent.status})")
    for name, (url, pid) in targets.items():  # warm up: keys, sign-in, member lookups, writes
        warm = await load(url, bearer=bearer, service_url=service_url, concurrency=4,
                          requests=200, seconds=30, pid=pid)
        if warm.errors:
            raise RuntimeError(f"{name}: {warm.errors} of {warm.requests} warm-up requests "
                               f"failed")
    print(f"{arguments.requests} signed Teams `handoff @owner …` activities per level, server "
          f"and round (at most {arguments.seconds:.0f} s); {arguments.rounds} rounds, the "
          f"servers taking turns; medians over the rounds; servers on core {SERVER_CORE}, "
          f"load and the stand-in Microsoft on core {LOAD_CORE}; Baton on SQLite")
    print(f"{'conc':>4} {'server':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} "
          f"{'errors':>6}   req/s (p99 ms) of each round")
    summary = []
    for level in levels:
        rounds: dict[str, list[Result]] = {name: [] for name in targets}
        for _ in range(arguments.rounds):
            for name, (url, pid) in targets.items():
                rounds[name].append(await load(url, bearer=bearer, service_url=service_url,
                                               concurrency=level, requests=arguments.requests,
                                               seconds=arguments.seconds, pid=pid))
        figures = {}
        for name, results in rounds.items():
            rate = median(r.rate for r in results)
            p50 = median(r.percentile(0.5) for r in results)
            p99 = median(r.percentile(0.99) for r in results)
            cpu = median(r.cpu_ms for r in results)
            figures[name] = (rate, p50, p99)
            each = " ".join(f"{r.rate:.0f} ({r.percentile(0.99):.0f})" for r in results)
            print(f"{level:>4} {name:>6} {rate:>8.0f} {p50:>8.2f} {p99:>8.2f} {cpu:>7.2f} "
                  f"{sum(r.errors for r in results):>6}   {each}")
        summary.append((level, figures))
    async with aiohttp.ClientSession() as http, \
            http.get(servers.microsoft + "/stats") as response:
        calls = await response.json()
    print("what the stand-in Microsoft received (Baton's outbox deliveries among them): "
          + ", ".join(f"{kind} {count}" for kind, count in sorted(calls.items())))
    print("Baton against the stock bot: throughput ratio; p50 and p99 ratios (lower is better)")
    for level, figures in summary:
        (rate, p50, p99), (s_rate, s_p50, s_p99) = figures["baton"], figures["stock"]
        verdict = ""
        if level == 16:
            met = rate / s_rate >= 5 and p99 < 100
            verdict = (f"  target (>=5.00x the stock bot, Baton's p99 < 100 ms): "
                       f"{'met' if met else 'MISSED'}")
        print(f"{level:>4}  {rate / s_rate:.2f}x;  {p50 / s_p50:.2f} / {p99 / s_p99:.2f}"
              f"{verdict}")


def main(arguments: argparse.Namespace) -> int:
    cores = os.sched_getaffinity(0)
    if not {SERVER_CORE, LOAD_CORE} <= cores:
        print(f"needs cores {SERVER_CORE} and {LOAD_CORE}; this process may use {cores}")
        return 2
    os.sched_setaffinity(0, {LOAD_CORE})
    work = Path(tempfile.mkdtemp(prefix="baton-teams-bench-"))
    profile = str(Path(arguments.profile).resolve()) if arguments.profile else ""
    servers = launch(work, profile)
    try:
        asyncio.run(measure(servers, work, arguments))
    finally:
        if profile:  # Ctrl-C: `baton serve` stops cleanly, and cProfile writes its file
            servers.processes[1].send_signal(signal.SIGINT)
            servers.processes[1].wait(timeout=30)
        for process in servers.processes:
            process.terminate()
        for process in servers.processes:
            process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    if profile:
        print(f"Baton's profile (cProfile, both levels and the warm-up): {profile}; the "
              f"functions where its CPU went:")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per level and server")
    parser.add_argument("--seconds", type=float, default=60.0, help="per level and server")
    parser.add_argument("--concurrency", default="16")
    parser.add_argument("--rounds", type=int, default=3, help="per level; medians are quoted")
    parser.add_argument("--profile", default="",
                        help="run Baton under cProfile, writing its statistics to this file")
    parser.add_argument("--mock-microsoft", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--stock-bot", nargs=3, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    args = _arguments()
    if args.mock_microsoft:
        asyncio.run(serve_microsoft(int(args.mock_microsoft[0]), int(args.mock_microsoft[1]),
                                    Path(args.mock_microsoft[2])))
    elif args.stock_bot:
        asyncio.run(serve_stock_bot(int(args.stock_bot[0]), *args.stock_bot[1:]))
    else:
        raise SystemExit(main(args))
