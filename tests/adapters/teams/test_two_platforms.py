"""One item, two platforms: Slack and Teams configured in one `baton serve` (the real wiring,
the real outbox worker) over one database. Alice is on Slack, Bob on Teams only, Carol on Slack
only; the platform team has a channel on each. Every Teams message is checked against the
Adaptive Card 1.5 and Bot Framework schemas by the mock connector, every Slack one against
Block Kit by the mock Web API."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from adapters.http.metrics import Metrics
from baton.app import App, build
from baton.server import run_server
from baton.settings import Settings
from bot.items import State
from tests.adapters.slack.harness import BOT_TOKEN, SECRET, sign, unique
from tests.adapters.slack.mock_slack import MockSlack
from tests.adapters.teams.harness import APP_ID, APP_PASSWORD, CHANNEL, TEAM_ID, USERS, Server
from tests.adapters.teams.mock_teams import TENANT, MockTeams
from tests.adapters.teams.test_proactive import installed

CONFIG = f"""
workspace: acme
admins: [alice]
people:
  alice: {{name: Alice Chen, slack: U0ALICE, time_zone: Europe/London}}
  bob: {{name: Bob Okafor, teams: {USERS['bob'][0]}}}
  carol: {{name: Carol Diaz, slack: U0CAROL}}
  erin: {{name: Erin Walsh}}
teams:
  platform:
    lead: alice
    members: [alice, bob, carol, erin]
    channels: {{slack: C0PLATFORM, teams: "{CHANNEL}"}}
"""

BOB_DM = f"a:chat-with-{USERS['bob'][0]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Both:
    app: App
    url: str
    slack: MockSlack
    teams: Server  # the Teams harness's request helpers, pointed at this server

    async def slash(self, user: str, line: str) -> dict[str, Any]:
        body = urlencode({"token": "x", "team_id": "T0ACME", "team_domain": "acme",
                          "channel_id": "C0PLATFORM", "channel_name": "platform",
                          "user_id": user, "user_name": user.lower(), "command": "/baton",
                          "text": line, "trigger_id": unique("trigger."),
                          "response_url": self.slack.hook_url(unique("commands/")),
                          "api_app_id": "A0BATON"})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        async with self.teams.http.post(f"{self.url}/slack/events", data=body.encode(),
                                        headers=headers) as response:
            assert response.status == 200
            answer: dict[str, Any] = await response.json()
            return answer

    async def until(self, ready: Callable[[], bool], within: float = 10.0) -> None:
        for _ in range(int(within / 0.02)):  # what the outbox worker delivers meanwhile
            if ready():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("not delivered in time")


@pytest.fixture
async def slack() -> AsyncIterator[MockSlack]:
    mock = await MockSlack().start()
    mock.add_user("U0ALICE", "Alice Chen", email="alice@example.com", tz="Europe/London")
    mock.add_user("U0CAROL", "Carol Diaz", email="carol@example.com", tz="America/Chicago")
    try:
        yield mock
    finally:
        await mock.stop()
    assert mock.problems == [], "Baton sent Slack something it would refuse"


@pytest.fixture
async def both(tmp_path: Path, mock: MockTeams, slack: MockSlack) -> AsyncIterator[Both]:
    (tmp_path / "baton.yaml").write_text(CONFIG)
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'baton.db'}", config=tmp_path / "baton.yaml",
        data_dir=tmp_path / "var", host="127.0.0.1", port=port, redis_url=None,
        slack_signing_secret=SECRET, slack_bot_token=BOT_TOKEN, slack_api_url=slack.api,
        teams_app_id=APP_ID, teams_app_password=APP_PASSWORD,
        teams_openid_metadata_url=mock.openid_url, teams_login_url=mock.login_url)
    assert settings.chat_surfaces() == ("slack", "teams")
    metrics = Metrics()
    app = await build(settings, observe=metrics.observe_command)
    serving = asyncio.create_task(run_server(app, metrics))  # Baton's own list of surfaces
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(500):
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)
        teams = Server(app, None, url, mock, http, None)  # type: ignore[arg-type]
        try:
            yield Both(app, url, slack, teams)
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            await app.close()


async def item(both: Both, number: int):  # type: ignore[no-untyped-def]
    async with both.app.database.unit_of_work() as uow:
        return await uow.items.get("acme", number)


async def test_a_handoff_typed_in_slack_is_accepted_in_teams(both: Both) -> None:
    teams, slack = both.teams, both.slack
    assert (await teams.post(installed(teams))).status == 200

    created = await both.slash("U0ALICE", "handoff @bob Review the release notes")
    assert created["text"] == "Created #1."
    # Slack's channel gets its card; Teams' channel its own; Bob a Teams DM with his buttons.
    [slack_card] = await slack.wait_for("chat.postMessage", 1)
    assert slack_card.args["channel"] == "C0PLATFORM"
    await both.until(lambda: bool(teams.mock.of("send", BOB_DM)))
    await both.until(lambda: bool(teams.mock.of("send", CHANNEL)))
    [dm] = teams.mock.of("send", BOB_DM)
    assert "<at>Alice Chen</at>" not in dm.text  # Alice is on no Teams: named, not mentioned
    assert "Alice Chen" in dm.shown() and "#1" in dm.text

    answer = await teams.post(teams.click(dm.cards[0], "Accept", user="bob"))
    assert answer.status == 200
    facts = {f["title"]: f["value"] for b in answer.card["body"] if b["type"] == "FactSet"
             for f in b["facts"]}
    assert facts["State"] == "active"
    assert (await item(both, 1)).state is State.ACTIVE

    # Slack's copy of the card updated; its thread told, saying it happened in Teams.
    updates = await slack.wait_for("chat.update", 1)
    assert "active" in json.dumps(updates[-1].args.get("blocks"))
    await both.until(lambda: any(c.args.get("thread_ts") for c in slack.to("chat.postMessage")))
    [told] = [c for c in slack.to("chat.postMessage") if c.args.get("thread_ts")]
    assert told.args["channel"] == "C0PLATFORM"
    assert told.args["thread_ts"]  # under the card
    assert told.args["text"] == "@Bob Okafor accepted #1 (in Teams)."
    # Alice, who asked, hears it where she is, the same way.
    await both.until(lambda: any(c.args["channel"] == "U0ALICE" for c in
                                 slack.to("chat.postMessage")))
    [to_alice] = [c for c in slack.to("chat.postMessage") if c.args["channel"] == "U0ALICE"]
    assert to_alice.args["text"] == "@Bob Okafor accepted #1 (in Teams)."
    # Teams' own copies are current too.
    await both.until(lambda: len(teams.mock.of("update")) >= 1)
    shown = await both.slash("U0ALICE", "show #1")
    assert "accept" in json.dumps(shown) and "teams" in json.dumps(shown)


async def test_an_approval_with_an_approver_on_each_platform_collects_both(
        both: Both) -> None:
    teams, slack = both.teams, both.slack
    await teams.post(installed(teams))
    created = await both.slash("U0ALICE", "approval Ship 2.0 --approvers @bob @carol "
                                          "--policy all")
    assert created["text"] == "Created #1."
    await both.until(lambda: bool(teams.mock.of("send", BOB_DM)))
    [dm] = teams.mock.of("send", BOB_DM)

    approved = await both.slash("U0CAROL", "approve #1 fine by me")
    assert "approve" in json.dumps(approved).lower()
    assert (await item(both, 1)).state is not State.DONE  # waits on Bob

    answer = await teams.post(teams.click(dm.cards[0], "Approve", user="bob"))
    assert answer.status == 200
    found = await item(both, 1)
    assert (found.state, found.outcome) == (State.DONE, "approved")
    async with both.app.database.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(
            "SELECT actor, surface FROM events WHERE action='approve' ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("carol", "slack"), ("bob", "teams")]
    # Slack's card shows the outcome too.
    await both.until(lambda: any("approved" in json.dumps(c.args.get("blocks"))
                                 for c in slack.to("chat.update")))


async def test_a_team_split_across_both_gets_its_digest_on_both(both: Both) -> None:
    teams, slack = both.teams, both.slack
    await teams.post(installed(teams))
    await both.slash("U0ALICE", "handoff @bob Review the release notes")
    await both.slash("U0ALICE", "handoff @carol Renew the certificates")
    await both.until(lambda: len(slack.to("chat.postMessage")) >= 2)
    await both.until(lambda: len(teams.mock.of("send", CHANNEL)) >= 2)
    # Each blocked from their own platform.
    assert (await teams.say("block #1 Waiting on legal", user="bob")).status == 200
    await both.slash("U0CAROL", "block #2 The vendor is late")
    assert (await item(both, 1)).state is (await item(both, 2)).state is State.BLOCKED

    await both.slash("U0ALICE", "digest --team platform")
    def digest_on_slack() -> list[Any]:
        return [c for c in slack.to("chat.postMessage") if "digest" in c.args["text"]]

    def digest_on_teams() -> list[Any]:
        return [c for c in teams.mock.of("send", CHANNEL) if "digest" in c.shown()]

    await both.until(lambda: bool(digest_on_slack() and digest_on_teams()))
    [on_slack], [on_teams] = digest_on_slack(), digest_on_teams()
    for shown in (json.dumps(on_slack.args, ensure_ascii=False), on_teams.shown()):
        assert "Review the release notes" in shown and "Renew the certificates" in shown
        assert "Waiting on legal" in shown and "The vendor is late" in shown
    assert on_slack.args["channel"] == "C0PLATFORM"
    assert TEAM_ID and TENANT  # the Teams channel is the one installed in the platform team


async def test_a_person_on_neither_platform_is_said_on_both(both: Both) -> None:
    """Erin is on no chat platform: her DM is skipped on each, and both platforms' copies
    of the card are told so under them, with each platform's reason, once."""
    teams, slack = both.teams, both.slack
    await teams.post(installed(teams))
    await both.slash("U0ALICE", "handoff @erin Update the runbook")

    def said_on_slack() -> list[Any]:
        return [c for c in slack.to("chat.postMessage") if c.args.get("thread_ts")
                and "could not reach" in c.args["text"]]

    def said_on_teams() -> list[Any]:
        return [c for c in teams.mock.of("reply", CHANNEL) if "could not reach" in c.text]

    await both.until(lambda: bool(said_on_slack() and said_on_teams()))
    [on_slack], [on_teams] = said_on_slack(), said_on_teams()
    for shown in (on_slack.args["text"], on_teams.text):
        assert "Erin Walsh" in shown and "slack:" in shown and "teams:" in shown
    # Alice, who asked, hears it where she is (Slack), with her card.
    await both.until(lambda: any(c.args["channel"] == "U0ALICE" and
                                 "could not reach" in c.args["text"]
                                 for c in slack.to("chat.postMessage")))
    async with both.app.database.engine.connect() as conn:
        count = (await conn.exec_driver_sql(
            "SELECT count(*) FROM events WHERE action='unreachable'")).scalar_one()
    assert count == 1
