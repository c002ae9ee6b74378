"""Socket Mode (BATON_SLACK_APP_TOKEN): Baton dials out to Slack's WebSocket, so it runs
behind a firewall; the same listeners answer, and the HTTP server keeps health and metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qsl

from tests.adapters.slack.blockkit import message_problems
from tests.adapters.slack.harness import start_server, stop_server
from tests.adapters.slack.mock_slack import MockSlack


async def test_a_slash_command_over_socket_mode(tmp_path: Path, mock: MockSlack) -> None:
    server = await start_server(tmp_path, mock, slack_app_token="xapp-1-A0BATON-socket-token",
                                slack_signing_secret=None)
    try:
        opened = mock.to("apps.connections.open")
        assert [c.token for c in opened] == ["xapp-1-A0BATON-socket-token"]
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
