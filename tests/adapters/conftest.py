"""Fixtures every surface's tests share: the mock Slack Web API, with its users."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.adapters.slack.mock_slack import MockSlack


@pytest.fixture
async def mock() -> AsyncIterator[MockSlack]:
    slack = await MockSlack().start()
    slack.add_user("U0ALICE", "Alice Chen", email="alice@example.com", tz="America/New_York")
    slack.add_user("U0BOB", "Bob Okafor", email="bob@example.com", tz="Asia/Tokyo")
    slack.add_user("U0CAROL", "Carol Diaz", email="carol@example.com", tz="America/Chicago")
    slack.add_user("U0DAVE", "Dave Muller", email="dave@example.com", tz="Europe/Berlin")
    slack.add_user("U0ERIN", "Erin Walsh", email="erin@example.com", tz="Europe/Dublin")
    slack.add_user("W0STRANGER", "Stranger", email="nobody@example.org")
    try:
        yield slack
    finally:
        await slack.stop()
    assert slack.problems == [], "Baton sent Slack something it would refuse"
