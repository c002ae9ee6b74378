"""Socket Mode (BATON_SLACK_APP_TOKEN): Baton dials out to Slack's WebSocket, so it runs
behind a firewall; the same listeners answer, and the HTTP server keeps health and metrics."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from baton.settings import SettingsError
from tests.adapters.slack.blockkit import message_problems
from tests.adapters.slack.harness import CONFIG, start_server, stop_server
from tests.adapters.slack.mock_slack import Fail, MockSlack

APP_TOKEN = "xapp-1-A0BATON-socket-token"
ROOT = Path(__file__).resolve().parents[3]


async def test_a_slash_command_over_socket_mode(tmp_path: Path, mock: MockSlack) -> None:
    server = await start_server(tmp_path, mock, slack_app_token="xapp-1-A0BATON-socket-token",
                                slack_signing_secret=None)
    try:
        # The token checked, then the connection's own URL: both with the app token.
        opened = await mock.wait_for("apps.connections.open", count=2)
        assert {c.token for c in opened} == {"xapp-1-A0BATON-socket-token"}
        command = dict(parse_qsl(server.slash_body("exception Over the socket")))
        await mock.socket_inbox.put({"envelope_id": "env-1", "type": "slash_commands",
                                     "accepts_response_payload": True, "payload": command})

        answer = await asyncio.wait_for(mock.socket_outbox.get(), 5)

        assert answer["envelope_id"] == "env-1"
        assert answer["payload"]["response_type"] == "ephemeral"
        assert answer["payload"]["text"] == "Created #1."
        assert message_problems(answer["payload"]["blocks"]) == []
        async with server.http.post(f"{server.url}/slack/events", data=b"{}") as events:
            assert events.status == 404  # no HTTP events endpoint in Socket Mode
        async with server.http.get(f"{server.url}/healthz") as health:
            assert health.status == 200
    finally:
        await stop_server(server)


async def test_an_app_token_slack_refuses_stops_start_up_naming_it(
        tmp_path: Path, mock: MockSlack) -> None:
    mock.fail("apps.connections.open", Fail(error="invalid_auth"))
    with pytest.raises(SettingsError, match=r"BATON_SLACK_APP_TOKEN.*invalid_auth"):
        await start_server(tmp_path, mock, slack_app_token=APP_TOKEN,
                           slack_signing_secret=None)
    assert len(mock.to("apps.connections.open")) == 1  # no retrying a token Slack refused


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_baton_serve_with_a_refused_app_token_exits_with_one_line(
        tmp_path: Path, mock: MockSlack) -> None:
    mock.fail("apps.connections.open", Fail(error="not_allowed_token_type"))
    (tmp_path / "baton.yaml").write_text(CONFIG)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")} | {
        "PYTHONPATH": str(ROOT),
        "BATON_DATABASE_URL": f"sqlite:///{tmp_path / 'baton.db'}",
        "BATON_CONFIG": str(tmp_path / "baton.yaml"), "BATON_SLACK_BOT_TOKEN": "xoxb-1-token",
        "BATON_SLACK_APP_TOKEN": APP_TOKEN, "BATON_SLACK_API_URL": mock.api,
        "BATON_PORT": str(_free_port())}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton.cli", "serve", cwd=tmp_path, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2
    assert "BATON_SLACK_APP_TOKEN: Slack refused the app token (not_allowed_token_type)" \
        in err.decode()
    assert "Traceback" not in err.decode() and APP_TOKEN not in err.decode()


async def test_health_answers_while_slack_cannot_be_reached(tmp_path: Path,
                                                            mock: MockSlack) -> None:
    unreachable = f"http://127.0.0.1:{_free_port()}/api/"  # nothing listens there
    server = await asyncio.wait_for(start_server(
        tmp_path, mock, slack_app_token=APP_TOKEN, slack_signing_secret=None,
        slack_api_url=unreachable), 30)
    try:
        async with server.http.get(f"{server.url}/healthz") as health:
            assert health.status == 200
        async with server.http.get(f"{server.url}/readyz") as ready:
            assert ready.status == 200
    finally:
        await asyncio.wait_for(stop_server(server), 30)  # the reconnecting stops too
