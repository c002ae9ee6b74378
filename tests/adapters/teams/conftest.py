"""Fixtures: Microsoft's side of Teams on 127.0.0.1, and Baton's server talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.teams.harness import (
    APP_ID,
    APP_PASSWORD,
    USERS,
    Server,
    start_server,
    stop_server,
)
from tests.adapters.teams.mock_teams import MockTeams


@pytest.fixture
async def mock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MockTeams]:
    teams = await MockTeams(APP_ID, APP_PASSWORD).start(tmp_path)
    # MSAL signs in over HTTPS with `requests`, which trusts what REQUESTS_CA_BUNDLE names:
    # here the test's own sign-in service's certificate.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(teams.ca_file))
    for aad, mri, name, email in USERS.values():
        teams.add_member(mri, aad, name, email=email)
    try:
        yield teams
    finally:
        await teams.stop()
    assert teams.problems == [], "Baton sent Teams something it would refuse"


@pytest.fixture
async def server(tmp_path: Path, mock: MockTeams) -> AsyncIterator[Server]:
    running = await start_server(tmp_path, mock)
    try:
        yield running
    finally:
        await stop_server(running)
