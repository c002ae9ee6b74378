"""Baton's real server on 127.0.0.1 with a SQLite file, and a Teams that signs its requests the
way the Bot Framework does (tokens from a local key, published at a local OpenID endpoint).
Activities start from the captures in tests/data/platform-samples/teams."""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from adapters.http.metrics import Metrics
from adapters.http.server import health_app, serve
from adapters.teams.transport import TeamsTransport
from baton.app import App, build
from baton.running import Running
from baton.settings import Settings
from baton.wire_teams import attach
from bot.delivery import DeliveryFailed, NotHere, Transport
from bot.messages import Outgoing
from bot.ports import Clock
from tests.adapters.teams.adaptive import SAMPLES, invoke_problems
from tests.adapters.teams.mock_teams import TENANT, MockTeams

APP_ID = "0b6fe6d1-fece-44f7-9a48-56465e2d5ab8"
APP_PASSWORD = "teams-app-secret-5f1c2d"
BOT = f"28:{APP_ID}"
CHANNEL = "19:6848757105754c8981c67612732d9aa7@thread.tacv2"  # the platform team's channel
TEAM_ID = "19:66P469zibfbsGI-_a0aN_toLTZpyzS6u7CT3TsXdgPw1@thread.tacv2"
GROUP = "19:meeting_group_chat_0001@thread.v2"

#: People on Teams: AAD object id, MRI, name, e-mail.
USERS = {
    "alice": ("a11ce000-0000-4000-8000-000000000001", "29:1alice-mri", "Alice Chen",
              "alice@example.com"),
    "bob": ("b0b00000-0000-4000-8000-000000000002", "29:1bob-mri", "Bob Okafor",
            "bob@example.com"),
    "carol": ("ca201000-0000-4000-8000-000000000003", "29:1carol-mri", "Carol Diaz",
              "carol@example.com"),
    "dave": ("da7e0000-0000-4000-8000-000000000004", "29:1dave-mri", "Dave Muller",
             "dave@example.com"),
    "mallory": ("6a110000-0000-4000-8000-000000000005", "29:1mallory-mri", "Mallory Stone",
                "mallory@elsewhere.example"),
}

def shown(block: dict[str, Any]) -> str:
    """What a card's text element says: a TextBlock's (markdown) text, or a RichTextBlock's
    TextRuns joined."""
    if block.get("type") == "RichTextBlock":
        return "".join(run["text"] if isinstance(run, dict) else run
                       for run in block.get("inlines") or [])
    return str(block.get("text", ""))


CONFIG = f"""
workspace: acme
admins: [alice]
people:
  alice: {{name: Alice Chen, teams: {USERS['alice'][0]}, time_zone: Europe/London}}
  bob: {{name: Bob Okafor, teams: {USERS['bob'][0]}}}
  carol: {{name: Carol Diaz, email: carol@example.com}}
  dave: {{name: Dave Muller, teams: {USERS['dave'][0]}}}
teams:
  platform:
    lead: alice
    members: [alice, bob, carol]
    channels: {{teams: "{CHANNEL}"}}
  legal:
    lead: dave
    members: [dave]
"""


def activity(name: str) -> dict[str, Any]:
    """A capture of what Teams sends, from tests/data/platform-samples/teams/activities."""
    return copy.deepcopy(json.loads((SAMPLES / "teams" / "activities" / name).read_text()))


_ids = itertools.count(1)


def unique(prefix: str = "") -> str:
    return f"{prefix}{next(_ids):06d}"


def personal_chat(person: str) -> str:
    return f"a:1personal-chat-with-{person}"


@dataclass
class Answer:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def card(self) -> dict[str, Any]:
        body = self.json()
        assert body["type"] == "application/vnd.microsoft.card.adaptive", body
        return dict(body["value"])

    def shown(self) -> str:
        return self.text


@dataclass
class Server:
    app: App
    teams: Running
    url: str
    mock: MockTeams
    http: aiohttp.ClientSession
    runner: web.AppRunner
    transports: list[Transport] = field(default_factory=list)
    failures: list[tuple[Outgoing, DeliveryFailed]] = field(default_factory=list)
    skipped: list[tuple[Outgoing, NotHere]] = field(default_factory=list)

    @property
    def transport(self) -> TeamsTransport:
        assert isinstance(self.teams.transport, TeamsTransport)
        return self.teams.transport

    # --- sending what Teams sends --------------------------------------------------------

    async def post(self, body: dict[str, Any] | str | bytes, *, token: str | None = "",
                   headers: dict[str, str] | None = None,
                   content_type: str = "application/json") -> Answer:
        """POST to /api/messages; `token` "" signs with a valid token, None sends none."""
        sent = {"Content-Type": content_type, **(headers or {})}
        if token is not None:
            service = body.get("serviceUrl", self.mock.service_url) \
                if isinstance(body, dict) else self.mock.service_url
            sent["Authorization"] = f"Bearer {token or self.mock.token(service_url=service)}"
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        async with self.http.post(f"{self.url}/api/messages", data=data,
                                  headers=sent) as response:
            answer = Answer(response.status, await response.text())
        if answer.status == 200 and isinstance(body, dict) and body.get("type") == "invoke" \
                and answer.text:
            self.mock.problems += invoke_problems(answer.json())
        return answer

    def user(self, person: str) -> dict[str, Any]:
        aad, mri, name, _ = USERS[person]
        return {"id": mri, "name": name, "aadObjectId": aad}

    def message(self, text: str, *, user: str = "alice", where: str = "personal",
                mentions: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
                thread: str | None = None) -> dict[str, Any]:
        """A message as Teams sends it: in Alice's 1:1 chat with Baton (`personal`), in the
        platform team's channel (`channel`, `<at>Baton</at>` first) or a group chat (`group`).
        `mentions`: (the text's `<at>` name, the MRI or id mentioned, the name shown)."""
        body = activity("message.channel_thread_reply_with_mention.teams-net-capture.json")
        entities = [e for e in body["entities"] if e["type"] == "clientInfo"]
        body.update(id=unique("1759944"), serviceUrl=self.mock.service_url,
                    recipient={"id": BOT, "name": "Baton"}, text=text,
                    timestamp="2026-12-04T09:00:00.000Z")
        body["from"] = self.user(user)
        body.pop("attachments", None)
        if where == "personal":
            body["conversation"] = {"id": personal_chat(user), "conversationType": "personal",
                                    "tenantId": TENANT}
            body["channelData"] = {"tenant": {"id": TENANT}}
        elif where == "group":
            body["conversation"] = {"id": GROUP, "isGroup": True,
                                    "conversationType": "groupChat", "tenantId": TENANT}
            body["channelData"] = {"tenant": {"id": TENANT}}
        else:
            conversation = f"{CHANNEL};messageid={thread}" if thread else CHANNEL
            body["conversation"] = {"id": conversation, "isGroup": True,
                                    "conversationType": "channel", "tenantId": TENANT}
            body["channelData"] = {"teamsChannelId": CHANNEL, "teamsTeamId": TEAM_ID,
                                   "channel": {"id": CHANNEL}, "team": {"id": TEAM_ID},
                                   "tenant": {"id": TENANT}}
        if where != "personal":
            body["text"] = f"<at>Baton</at> {text}"
            entities.append({"mentioned": {"id": BOT, "name": "Baton"},
                             "text": "<at>Baton</at>", "type": "mention"})
        for tag, mentioned, name in mentions:
            entities.append({"mentioned": {"id": mentioned, "name": name},
                             "text": f"<at>{tag}</at>", "type": "mention"})
        body["entities"] = entities
        return body

    async def say(self, text: str, **kwargs: Any) -> Answer:
        return await self.post(self.message(text, **kwargs))

    def click(self, card: dict[str, Any], label: str, *, user: str = "alice",
              where: str = "personal", reason: str | None = None,
              data: dict[str, Any] | None = None, reply_to: str = "") -> dict[str, Any]:
        """The adaptiveCard/action invoke Teams sends when `user` presses the button
        labelled `label` on `card` (typing `reason` into its box first)."""
        action = _find_action(card, label)
        payload = dict(data if data is not None else action["data"])
        if reason is not None:
            payload["reason"] = reason
        return self.invoke({"type": "Action.Execute", "title": action.get("title", label),
                            "verb": action["verb"], "data": payload},
                           user=user, where=where, reply_to=reply_to)

    def refresh(self, card: dict[str, Any], *, user: str, where: str = "channel",
                reply_to: str = "") -> dict[str, Any]:
        """Teams asking for `user`'s own view of a shared card (its refresh action)."""
        action = card["refresh"]["action"]
        return self.invoke({"type": "Action.Execute", "verb": action["verb"],
                            "data": action["data"]}, user=user, where=where,
                           trigger="automatic", reply_to=reply_to)

    def invoke(self, action: dict[str, Any], *, user: str, where: str = "personal",
               trigger: str = "manual", reply_to: str = "") -> dict[str, Any]:
        body = activity("invoke.adaptiveCard_action.personal.teams-net-capture.json")
        base = self.message("", user=user, where=where)
        body.update(id=f"f:{unique()}", serviceUrl=self.mock.service_url,
                    recipient={"id": BOT, "name": "Baton"}, conversation=base["conversation"],
                    channelData=base["channelData"], replyToId=reply_to or unique("1767"))
        body["from"] = self.user(user)
        body["value"] = {"action": action, "trigger": trigger}
        return body

    # --- what Baton did ------------------------------------------------------------------

    async def deliver(self) -> list[Outgoing]:
        """Deliver what the outbox holds, through each surface's transport, as the worker
        would (without its pacing); rows of a surface the test has no transport for (the
        API's webhooks) are set aside as skipped."""
        delivered: list[Outgoing] = []
        by_surface = {t.surface: t for t in [self.transport, *self.transports]}
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
                transport = by_surface.get(queued.surface)
                if transport is None:  # the API's webhooks: no receiver here, set aside
                    async with self.app.database.unit_of_work() as uow:
                        await uow.outbox.skipped(queued.id, "no transport in this test", now)
                        await uow.commit()
                    continue
                try:
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

    async def count(self, table: str) -> int:
        async with self.app.database.engine.connect() as conn:
            result = await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")
            return int(result.scalar_one())


def _find_action(card: dict[str, Any], label: str) -> dict[str, Any]:
    for action in card.get("actions") or []:
        if action.get("title") == label and action["type"] == "Action.Execute":
            return dict(action)
        if action["type"] == "Action.ShowCard" and action["title"].rstrip("…") == label:
            inner = action["card"]["actions"][0]
            return dict(inner)
    raise AssertionError(f"no button {label!r} on the card: "
                         f"{[a.get('title') for a in card.get('actions') or []]}")


def settings(tmp: Path, mock: MockTeams, *, config: str = CONFIG, **values: Any) -> Settings:
    (tmp / "baton.yaml").write_text(config)
    base: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp / 'baton.db'}",
        "config": tmp / "baton.yaml", "data_dir": tmp / "data", "host": "127.0.0.1",
        "redis_url": None, "slack_bot_token": None, "slack_app_token": None,
        "slack_client_id": None, "slack_client_secret": None, "slack_signing_secret": None,
        "teams_app_id": APP_ID, "teams_app_password": APP_PASSWORD,
        "teams_openid_metadata_url": mock.openid_url, "teams_login_url": mock.login_url,
        "teams_tenant_id": None, "teams_local": False,
    }
    base.update(values)
    return Settings(**base)


async def start_server(tmp: Path, mock: MockTeams, *, clock: Clock | None = None,
                       **values: Any) -> Server:
    metrics = Metrics()
    app = await build(settings(tmp, mock, **values), clock, observe=metrics.observe_command)
    web_app = health_app(app.ready, metrics)
    running = await attach(app, web_app, metrics)
    assert running is not None
    runner = await serve(web_app, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    return Server(app, running, f"http://127.0.0.1:{port}", mock, aiohttp.ClientSession(),
                  runner)


async def stop_server(server: Server) -> None:
    await server.http.close()
    await server.runner.cleanup()
    await server.teams.close()
    await server.app.close()
