"""Baton's real server on 127.0.0.1 with a SQLite file, and a Slack that signs its requests
the way Slack does. Request bodies start from the captures in tests/data/platform-samples."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from adapters.http.metrics import Metrics
from adapters.http.server import health_app, serve
from baton.app import App, build
from baton.settings import Settings
from baton.wire_slack import SlackWiring, start_slack
from bot.delivery import DeliveryFailed, NotHere
from bot.messages import Outgoing
from tests.adapters.slack.blockkit import SAMPLES, message_problems, view_problems
from tests.adapters.slack.mock_slack import MockSlack

SECRET = "signing-secret-8f2a9c41d7e0b6"
BOT_TOKEN = "xoxb-test-bot-token-5a7d1e9f"
TEAM = "T0ACME"

CONFIG = """
workspace: acme
admins: [alice]
people:
  alice: {name: Alice Chen, slack: U0ALICE, time_zone: Europe/London}
  bob: {name: Bob Okafor, slack: U0BOB}
  carol: {name: Carol Diaz, email: carol@example.com}
  dave: {name: Dave Muller, slack: U0DAVE}
  erin: {name: Erin Walsh, slack: U0ERIN}
teams:
  platform:
    lead: alice
    members: [alice, bob, carol, erin]
    channels: {slack: C0PLATFORM}
  legal:
    lead: dave
    members: [dave]
    channels: {slack: C0LEGAL}
"""


def payload(name: str) -> dict[str, Any]:
    """A capture of what Slack sends, from tests/data/platform-samples/slack/payloads."""
    return copy.deepcopy(json.loads((SAMPLES / "payloads" / name).read_text()))


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The X-Slack-Signature headers: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


_ids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids):06d}"


@dataclass
class Sent:
    status: int
    text: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def reply(self) -> str:
        """The text of an ephemeral answer, blocks included."""
        body = self.json()
        return body.get("text", "") + "\n" + json.dumps(body.get("blocks", []))


@dataclass
class Server:
    app: App
    slack: SlackWiring
    url: str
    mock: MockSlack
    http: aiohttp.ClientSession
    runner: web.AppRunner
    failures: list[tuple[Outgoing, DeliveryFailed]] = field(default_factory=list)
    skipped: list[tuple[Outgoing, NotHere]] = field(default_factory=list)

    # --- sending what Slack sends --------------------------------------------------------

    async def post(self, body: str, *, content_type: str = "application/x-www-form-urlencoded",
                   headers: dict[str, str] | None = None, signed: bool = True,
                   timestamp: int | None = None) -> Sent:
        sent_headers = {"Content-Type": content_type}
        if signed:
            sent_headers.update(sign(body, timestamp=timestamp))
        sent_headers.update(headers or {})
        async with self.http.post(f"{self.url}/slack/events", data=body.encode(),
                                  headers=sent_headers) as response:
            sent = Sent(response.status, await response.text(), dict(response.headers))
        self.check(sent)
        return sent

    def check(self, sent: Sent) -> None:
        """Block Kit in an acknowledgement is checked like everything Baton sends."""
        if not sent.text.startswith("{"):
            return
        body = sent.json()
        if isinstance(body.get("blocks"), list):
            self.mock.problems += [f"ack: {p}" for p in message_problems(body["blocks"])]
        if isinstance(body.get("view"), dict):
            self.mock.problems += [f"ack: {p}" for p in view_problems(body["view"])]

    def slash_body(self, text: str, *, user: str = "U0ALICE", channel: str = "C0PLATFORM",
                   channel_name: str = "platform", team: str = TEAM) -> str:
        body = payload("slash_command.parsed.json")
        for key in ("enterprise_id", "enterprise_name"):
            body.pop(key)
        body.update(team_id=team, user_id=user, user_name=user.lower(), channel_id=channel,
                    channel_name=channel_name, command="/baton", text=text,
                    trigger_id=unique("trigger."),
                    response_url=self.mock.hook_url(unique("commands/")))
        return urlencode(body)

    async def slash(self, text: str, **kwargs: Any) -> Sent:
        return await self.post(self.slash_body(text, **kwargs))

    async def interact(self, body: dict[str, Any], **kwargs: Any) -> Sent:
        return await self.post(urlencode({"payload": json.dumps(body)}), **kwargs)

    def click_body(self, verb: str, number: int, *, user: str = "U0ALICE",
                   channel: str = "C0PLATFORM", message_ts: str = "1700000000.000001",
                   value: str | None = None, in_home: bool = False,
                   team: str = TEAM) -> dict[str, Any]:
        body = payload("interactive.block_actions.button.json")
        body["team"] = {"id": team, "domain": "acme"}
        body["user"] = {"id": user, "username": user.lower(), "name": user.lower(),
                        "team_id": team}
        body["trigger_id"] = unique("trigger.")
        action = body["actions"][0]
        action.update(action_id=f"baton.{verb}", block_id=f"baton.card.{number}.0",
                      value=value if value is not None else json.dumps(
                          {"verb": verb, "number": number}),
                      action_ts=f"{time.time():.6f}{next(_ids)}")
        if in_home:
            body["container"] = {"type": "view", "view_id": "VHOME"}
            body.pop("channel")
            body.pop("response_url")
        else:
            body["container"] = {"type": "message", "message_ts": message_ts,
                                 "channel_id": channel, "is_ephemeral": False}
            body["channel"] = {"id": channel, "name": "platform"}
            body["response_url"] = self.mock.hook_url(unique("actions/"))
        return body

    async def click(self, verb: str, number: int, **kwargs: Any) -> Sent:
        return await self.interact(self.click_body(verb, number, **kwargs))

    def submission_body(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *,
                        user: str = "U0ALICE") -> dict[str, Any]:
        """A view_submission of `view` (as Baton opened it), with `values` per block."""
        body = payload("interactive.view_submission.json")
        body["team"] = {"id": TEAM, "domain": "acme"}
        body["user"] = {"id": user, "username": user.lower(), "name": user.lower(),
                        "team_id": TEAM}
        body["view"].update(id=unique("V"), callback_id=view["callback_id"],
                            private_metadata=view.get("private_metadata", ""),
                            blocks=view["blocks"], title=view["title"],
                            hash=f"{time.time():.0f}.{unique('h')}",
                            state={"values": {block: {block: value}
                                              for block, value in values.items()}})
        return body

    async def submit(self, view: dict[str, Any], values: dict[str, dict[str, Any]],
                     **kwargs: Any) -> Sent:
        return await self.interact(self.submission_body(view, values, **kwargs))

    async def event(self, event: dict[str, Any], *, sample: str, headers: dict[str, str]
                    | None = None, event_id: str | None = None) -> Sent:
        body = payload(sample)
        body.pop("enterprise_id", None)
        body.pop("authorizations", None)
        body.update(team_id=TEAM, event_id=event_id or unique("Ev"), event=event)
        return await self.post(json.dumps(body), content_type="application/json",
                               headers=headers)

    # --- what Baton did ------------------------------------------------------------------

    async def deliver(self) -> list[Outgoing]:
        """Deliver what the outbox holds for Slack through its transport, as the worker would
        (another surface's rows, the API's webhooks, are set aside as skipped)."""
        delivered: list[Outgoing] = []
        transport = self.slack.transport
        while True:
            now = self.app.clock.now()
            async with self.app.database.unit_of_work() as uow:
                claimed = await uow.outbox.claim(100, now)
                await uow.commit()
            if not claimed:
                return delivered
            for queued in claimed:
                failure: DeliveryFailed | None = None
                absent: NotHere | None = None
                try:
                    if queued.surface != transport.surface:  # the API's webhooks, here
                        raise NotHere(f"a row for {queued.surface}, not {transport.surface}")
                    await transport.deliver(queued.message)
                except DeliveryFailed as exc:
                    failure = exc
                    self.failures.append((queued.message, exc))
                except NotHere as exc:
                    absent = exc
                    self.skipped.append((queued.message, exc))
                async with self.app.database.unit_of_work() as uow:
                    if absent is not None:
                        await uow.outbox.skipped(queued.id, str(absent), now)
                    elif failure is None:
                        await uow.outbox.sent(queued.id, now)
                        delivered.append(queued.message)
                    else:
                        await uow.outbox.failed(queued.id, str(failure), None)
                    await uow.commit()

    async def settle(self, quiet: float = 0.1) -> None:
        """Let the work that follows an acknowledgement finish (lazy listeners, Home tabs):
        wait until Baton has started nothing and called Slack for nothing for `quiet` s."""
        surface = self.slack.surface
        while True:
            await surface.background.idle()
            seen = len(self.mock.calls) + len(self.mock.hooks)
            await asyncio.sleep(quiet)
            if not surface.home._due and seen == len(self.mock.calls) + len(self.mock.hooks):
                return

    async def install(self) -> aiohttp.ClientResponse:
        """Slack's OAuth dance as a browser does it: /slack/install redirects to Slack with a
        state (and sets it in a cookie); Slack sends the browser back with a code."""
        install = await self.http.get(f"{self.url}/slack/install", allow_redirects=False)
        assert install.status == 302, await install.text()
        location = install.headers["Location"]
        state = location.split("state=")[1].split("&")[0]
        cookie = install.headers["Set-Cookie"].split(";")[0]
        return await self.http.get(f"{self.url}/slack/oauth_redirect",
                                   params={"code": "code-from-slack", "state": state},
                                   headers={"Cookie": cookie})

    async def count(self, table: str) -> int:
        async with self.app.database.engine.connect() as conn:
            result = await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")
            return int(result.scalar_one())


async def start_server(tmp: Path, mock: MockSlack, *, config: str = CONFIG,
                       **settings: Any) -> Server:
    (tmp / "baton.yaml").write_text(config)
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp / 'baton.db'}",
        "config": tmp / "baton.yaml", "data_dir": tmp / "data", "slack_signing_secret": SECRET,
        "slack_bot_token": BOT_TOKEN, "slack_api_url": mock.api, "host": "127.0.0.1",
        "redis_url": None, "slack_app_token": None, "slack_client_id": None,
        "slack_client_secret": None, "slack_reaction_emoji": "rotating_light",
    }
    values.update(settings)
    metrics = Metrics()
    app = await build(Settings(**values), observe=metrics.observe_command)
    web_app = health_app(app.ready, metrics)
    wiring = await start_slack(app, web_app)
    assert wiring is not None
    runner = await serve(web_app, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    http = aiohttp.ClientSession()
    return Server(app, wiring, f"http://127.0.0.1:{port}", mock, http, runner)


async def stop_server(server: Server) -> None:
    await server.http.close()
    await server.runner.cleanup()
    await server.slack.close()
    await server.app.close()


LONG_AGO = timedelta(minutes=6)
