"""Many workspaces by OAuth install: /slack/install sends the browser to Slack with a state,
/slack/oauth_redirect trades the code (oauth.v2.access) and stores the installation in
Baton's database, and that workspace's requests and deliveries then use its own token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import text

from tests.adapters.slack.harness import Server, start_server, stop_server
from tests.adapters.slack.mock_slack import MockSlack

INSTALLED = "xoxb-installed-team-token"


@pytest.fixture
async def oauth(tmp_path: Path, mock: MockSlack) -> AsyncIterator[Server]:
    server = await start_server(tmp_path, mock, slack_bot_token=None,
                                slack_client_id="1234.5678", slack_client_secret="shh-3c9e71a0")
    try:
        yield server
    finally:
        await stop_server(server)


async def test_install_redirects_to_slack_with_a_state(oauth: Server) -> None:
    install = await oauth.http.get(f"{oauth.url}/slack/install", allow_redirects=False)
    assert install.status == 302
    location = urlparse(install.headers["Location"])
    query = parse_qs(location.query)
    # Beside the configured Web API (here the stand-in), as GovSlack's is beside its API.
    assert f"{location.scheme}://{location.netloc}/api/" == oauth.mock.api
    assert location.path == "/oauth/v2/authorize"
    assert query["client_id"] == ["1234.5678"]
    assert "chat:write" in query["scope"][0].split(",")
    assert query["state"][0] in install.headers["Set-Cookie"]
    assert await oauth.count("slack_oauth_states") == 1


async def test_the_redirect_stores_the_installation_and_its_token_is_used(
        oauth: Server) -> None:
    done = await oauth.install()

    assert done.status == 200
    access = oauth.mock.to("oauth.v2.access")[0]
    assert access.args["code"] == "code-from-slack"
    async with oauth.app.database.engine.connect() as conn:
        row = (await conn.execute(text(
            "SELECT team_id, bot_token, bot_user_id FROM slack_bots"))).one()
    assert tuple(row) == ("T0INSTALLED", INSTALLED, "UBATONBOT")
    assert await oauth.count("slack_oauth_states") == 0  # the state is used up

    sent = await oauth.slash("exception Installed and working", team="T0INSTALLED",
                             user="U0ALICE")
    assert sent.json()["text"] == "Created #1."
    assert {c.token for c in oauth.mock.calls if c.method != "oauth.v2.access"} == {INSTALLED}

    await oauth.deliver()
    card = oauth.mock.to("chat.postMessage")[0]
    assert (card.token, card.args["channel"]) == (INSTALLED, "C0PLATFORM")
    async with oauth.app.database.unit_of_work() as uow:
        assert (await uow.items.get("T0INSTALLED", 1)) is not None  # the team's workspace


async def test_a_redirect_without_a_valid_state_installs_nothing(oauth: Server) -> None:
    forged = await oauth.http.get(f"{oauth.url}/slack/oauth_redirect",
                                  params={"code": "c", "state": "made-up"})
    assert forged.status == 400
    assert oauth.mock.to("oauth.v2.access") == []
    assert await oauth.count("slack_bots") == 0


async def test_a_workspace_that_never_installed_is_refused(oauth: Server) -> None:
    sent = await oauth.slash("mine", team="T0ELSEWHERE")
    assert sent.status == 200
    assert "Created" not in sent.text
    assert await oauth.count("items") == 0
