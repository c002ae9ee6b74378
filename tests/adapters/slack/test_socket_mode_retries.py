"""Socket Mode while Slack cannot be reached: one log line per attempt, each wait longer than
the one before up to a ceiling, no traceback; and once Slack answers, the connection is made.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from pathlib import Path

import pytest

from adapters.slack import app as slack_app
from tests.adapters.slack.harness import start_server, stop_server
from tests.adapters.slack.mock_slack import Fail, MockSlack

APP_TOKEN = "xapp-1-A0BATON-socket-token"
WAIT = re.compile(r"asking again in ([\d.]+) s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_app, "RETRY_FIRST_SECONDS", 0.05)
    monkeypatch.setattr(slack_app, "RETRY_LONGEST_SECONDS", 0.4)


async def test_an_unreachable_slack_is_asked_again_with_backoff_one_line_each(
        tmp_path: Path, mock: MockSlack, caplog: pytest.LogCaptureFixture, quick: None) -> None:
    caplog.set_level(logging.DEBUG)
    unreachable = f"http://127.0.0.1:{_free_port()}/api/"  # nothing listens there
    server = await asyncio.wait_for(start_server(
        tmp_path, mock, slack_app_token=APP_TOKEN, slack_signing_secret=None,
        slack_api_url=unreachable), 30)
    caplog.clear()  # what start-up said (migrations) is not what this test is about
    try:
        await asyncio.sleep(2.5)
    finally:
        await asyncio.wait_for(stop_server(server), 30)

    lines = [r.getMessage() for r in caplog.records if WAIT.search(r.getMessage())]
    waits = [float(WAIT.search(line)[1]) for line in lines]  # type: ignore[index]
    assert len(waits) >= 4, lines
    assert all("(ClientConnectorError)" in line for line in lines), lines
    growing = waits[:3]
    assert growing[0] < growing[1] < growing[2], waits  # doubling, give or take a fifth
    assert max(waits) <= 0.4 * 1.2 + 0.05, waits  # and no longer than the ceiling
    for record in caplog.records:  # nothing anywhere with a traceback or a second line
        assert record.exc_info is None and "\n" not in record.getMessage(), \
            (record.name, record.getMessage())


async def test_once_slack_answers_the_connection_is_made(
        tmp_path: Path, mock: MockSlack, caplog: pytest.LogCaptureFixture, quick: None) -> None:
    caplog.set_level(logging.INFO)
    mock.fail("apps.connections.open", Fail(status=503), Fail(status=503), Fail(status=503),
              Fail(status=503), Fail(status=503), Fail(status=503))
    server = await start_server(tmp_path, mock, slack_app_token=APP_TOKEN,
                                slack_signing_secret=None)
    try:
        for _ in range(100):
            if "Slack: connected over Socket Mode" in caplog.text:
                break
            await asyncio.sleep(0.1)
        assert "Slack: connected over Socket Mode" in caplog.text
        assert any(WAIT.search(r.getMessage()) for r in caplog.records)
    finally:
        await stop_server(server)
    for record in caplog.records:
        assert record.exc_info is None, (record.name, record.getMessage())
