"""Fixtures: Baton's server talking to the mock Slack Web API (tests/adapters/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.slack.harness import Server, start_server, stop_server
from tests.adapters.slack.mock_slack import MockSlack


@pytest.fixture
async def server(tmp_path: Path, mock: MockSlack) -> AsyncIterator[Server]:
    running = await start_server(tmp_path, mock)
    try:
        yield running
    finally:
        await stop_server(running)
