"""Slack and a second surface (the stand-in, defined in this folder) in one `baton serve` over
one database: one person on each, one item worked from both, every copy of its card kept
current, and a person reached only where they are."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.http.metrics import Metrics
from baton import wire_slack
from baton.app import App, build
from baton.server import run_server
from baton.settings import Settings
from store.outbox import SKIPPED
from tests.adapters.slack.harness import BOT_TOKEN, CONFIG, SECRET, sign, unique
from tests.adapters.slack.mock_slack import MockSlack
from tests.adapters.standin.surface import Inbox, attach_with


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Both:
    app: App
    url: str
    inbox: Inbox
    mock: MockSlack
    http: aiohttp.ClientSession

    async def standin(self, user: str, text: str, **who: str) -> dict[str, Any]:
        async with self.http.post(f"{self.url}/standin/say",
                                  json={"user": user, "text": text, **who}) as response:
            assert response.status == 200
            answer: dict[str, Any] = await response.json()
            return answer

    async def slash(self, user: str, text: str) -> dict[str, Any]:
        from urllib.parse import urlencode
        body = urlencode({"token": "x", "team_id": "T0ACME", "team_domain": "acme",
                          "channel_id": "C0PLATFORM", "channel_name": "platform",
                          "user_id": user, "user_name": user.lower(), "command": "/baton",
                          "text": text, "trigger_id": unique("trigger."),
                          "response_url": self.mock.hook_url(unique("commands/")),
                          "api_app_id": "A0BATON"})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        async with self.http.post(f"{self.url}/slack/events", data=body.encode(),
                                  headers=headers) as response:
            assert response.status == 200
            answer: dict[str, Any] = await response.json()
            return answer

    async def until(self, ready: Callable[[], bool], within: float = 5.0) -> None:
        for _ in range(int(within / 0.02)):
            if ready():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("not delivered in time")


@pytest.fixture
async def both(tmp_path: Path, mock: MockSlack) -> AsyncIterator[Both]:
    (tmp_path / "baton.yaml").write_text(CONFIG)
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'baton.db'}", config=tmp_path / "baton.yaml",
        data_dir=tmp_path / "var", slack_signing_secret=SECRET, slack_bot_token=BOT_TOKEN,
        slack_api_url=mock.api, host="127.0.0.1", port=port, redis_url=None)
    metrics = Metrics()
    app = await build(settings, observe=metrics.observe_command,
                      surfaces=("slack", "standin"))
    inbox = Inbox()
    serving = asyncio.create_task(run_server(app, metrics, [wire_slack.attach,
                                                            attach_with(inbox)]))
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{port}"
        for _ in range(250):
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)
        try:
            yield Both(app, url, inbox, mock, http)
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            await app.close()


async def test_one_item_worked_from_slack_and_the_standin(both: Both) -> None:
    # Carol uses the stand-in only; baton.yaml knows her by e-mail.
    met = await both.standin("sc-carol", "mine", name="Carol D", email="carol@example.com")
    assert met["ok"] and met["text"] == "Nothing open for you. 🎉"

    created = await both.slash("U0ALICE", "handoff @carol Review the release notes")
    assert created["text"] == "Created #1."
    # The card goes to the team's Slack channel; the DM to carol where she is.
    await both.mock.wait_for("chat.postMessage", 1)
    await both.until(lambda: bool(both.inbox.to("dm:sc-carol")))
    assert both.inbox.to("dm:sc-carol")[0].text == "@alice handed you #1: Review the release notes"
    assert [c.args["channel"] for c in both.mock.to("chat.postMessage")] == ["C0PLATFORM"]

    accepted = await both.standin("sc-carol", "accept #1")
    assert accepted["ok"] and accepted["cards"][0]["fields"]["State"] == "active"
    # Slack's copy of the card is updated and its thread says who accepted.
    updates = await both.mock.wait_for("chat.update", 1)
    assert "active" in str(updates[-1].args["blocks"])
    posts = await both.mock.wait_for("chat.postMessage", 3)
    assert sorted((c.args["channel"], bool(c.args.get("thread_ts")), c.args["text"])
                  for c in posts[1:]) == [
        ("C0PLATFORM", True, "@Carol Diaz accepted #1."),  # the card's thread
        ("U0ALICE", False, "@Carol Diaz accepted #1.")]  # the requester, where she is
    # The stand-in's copy (her DM's card) is updated too.
    await both.until(lambda: any(p.kind == "update" for p in both.inbox.posts))

    shown = await both.standin("sc-carol", "show #1")
    assert "@carol accepted [state open→active] · standin" in shown["text"]
    assert "@alice raised it · slack" in shown["text"]

    # Carol is on no Slack: her DM there was skipped, said so, not lost or retried.
    async def outbox() -> list[tuple[str, str, str]]:
        async def read(uow: Any) -> list[Any]:
            return list(await uow.outbox.rows(None, 100))
        rows = await both.app.database.read(read)
        return [(r.surface, r.delivery, r.state) for r in rows if r.to == "carol"]

    assert ("slack", "person", SKIPPED) in await outbox()
    assert ("standin", "person", "sent") in await outbox()
