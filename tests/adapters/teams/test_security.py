"""The token checks on /api/messages, over real HTTP with tokens signed by a local key that a
local OpenID endpoint publishes: every way a token can be wrong is a 401 that changes nothing
(no command run, no conversation kept, nothing sent to Teams), never a 500."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.adapters.teams.harness import APP_ID, Server, start_server, stop_server
from tests.adapters.teams.mock_teams import ISSUER, TENANT, Keys, MockTeams


def unsigned(mock: MockTeams) -> str:
    claims = {"iss": ISSUER, "aud": APP_ID, "serviceurl": mock.service_url,
              "nbf": int(time.time()) - 60, "exp": int(time.time()) + 3600}
    head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT",
                                                "kid": mock.keys.kid}).encode())
    body = base64.urlsafe_b64encode(json.dumps(claims).encode())
    return f"{head.decode().rstrip('=')}.{body.decode().rstrip('=')}."


def hs256(mock: MockTeams) -> str:
    """Signed with a shared secret instead of the Bot Framework's key."""
    claims = {"iss": ISSUER, "aud": APP_ID, "serviceurl": mock.service_url,
              "exp": int(time.time()) + 3600}
    return jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": mock.keys.kid})


BAD_TOKENS: dict[str, Callable[[MockTeams], str]] = {
    "expired": lambda m: m.token(issued=time.time() - 7200, lifetime=60),
    "not yet valid": lambda m: m.token(issued=time.time() + 3600),
    "another audience": lambda m: m.token(audience="11111111-2222-3333-4444-555555555555"),
    "another issuer": lambda m: m.token(issuer="https://api.botframework.example"),
    "unsigned": unsigned,
    "a shared secret": hs256,
    "a foreign key": lambda m: Keys().token(audience=APP_ID, service_url=m.service_url),
    "a foreign key under our key id": lambda m: Keys(kid=m.keys.kid).token(
        audience=APP_ID, service_url=m.service_url),
    "another service URL": lambda m: m.token(service_url="https://smba.example.net/amer/"),
    "no service URL": lambda m: m.keys.token(audience=APP_ID, service_url="") ,
    "not a token": lambda m: "not.a.jwt",
}


async def nothing_changed(server: Server) -> None:
    assert server.mock.calls == []
    for table in ("items", "events", "outbox", "conversations", "accounts"):
        assert await server.count(table) == 0, table


@pytest.mark.parametrize("why", sorted(BAD_TOKENS))
async def test_a_bad_token_is_refused_and_changes_nothing(server: Server, why: str) -> None:
    message = server.message("handoff @bob Do the thing")
    answer = await server.post(message, token=BAD_TOKENS[why](server.mock))
    assert answer.status == 401, answer.text
    assert json.loads(answer.text) == {"error": "unauthorized"}
    await nothing_changed(server)


async def test_no_header_or_another_scheme_is_refused(server: Server) -> None:
    message = server.message("mine")
    assert (await server.post(message, token=None)).status == 401
    for header in ("Basic YWxpY2U6cHc=", "Bearer", "", server.mock.token()):
        answer = await server.post(message, token=None, headers={"Authorization": header})
        assert answer.status == 401, header  # the last: a token without its scheme
    await nothing_changed(server)


async def test_a_click_with_a_bad_token_is_refused_too(server: Server) -> None:
    body = server.invoke({"type": "Action.Execute", "verb": "baton.accept",
                          "data": {"baton": "card", "item": 1, "verb": "accept", "sig": "x"}},
                         user="bob")
    for token in (BAD_TOKENS["expired"](server.mock), BAD_TOKENS["a foreign key"](server.mock)):
        assert (await server.post(body, token=token)).status == 401
    await nothing_changed(server)


async def test_the_same_request_with_a_good_token_is_taken(server: Server) -> None:
    answer = await server.post(server.message("mine"))
    assert answer.status == 200
    assert len(server.mock.of("reply")) == 1


async def test_what_is_not_an_activity_is_refused_before_anything_runs(server: Server) -> None:
    token = server.mock.token()
    cases: list[tuple[Any, str, int]] = [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (json.dumps({"text": "no type"}).encode(), "application/json", 400),
        (b"type=message", "application/x-www-form-urlencoded", 415),
        (b"{" + b" " * (600 * 1024) + b"}", "application/json", 413),
    ]
    for body, content_type, status in cases:
        answer = await server.post(body, token=token, content_type=content_type)
        assert answer.status == status, (body[:20], answer.text)
    # Unreadable and unsigned: refused as unsigned.
    assert (await server.post(b"{not json", token=None)).status == 401
    await nothing_changed(server)


@pytest.fixture
async def single_tenant(tmp_path: Path, mock: MockTeams) -> AsyncIterator[Server]:
    running = await start_server(tmp_path, mock, teams_tenant_id=TENANT)
    try:
        yield running
    finally:
        await stop_server(running)


async def test_a_single_tenant_bot_takes_its_tenant_only(single_tenant: Server) -> None:
    server = single_tenant
    stranger = server.message("mine")
    stranger["conversation"]["tenantId"] = "99999999-0000-0000-0000-000000000000"
    stranger["channelData"]["tenant"]["id"] = "99999999-0000-0000-0000-000000000000"
    assert (await server.post(stranger)).status == 401
    await nothing_changed(server)
    assert (await server.post(server.message("mine"))).status == 200
    # It signs in through its own tenant, not the Bot Framework's.
    assert server.mock.sign_ins == 1


async def test_the_bot_signs_in_once_and_reuses_its_token(server: Server) -> None:
    for _ in range(3):
        await server.post(server.message("mine"))
    replies = server.mock.of("reply")
    assert len(replies) == 3 and server.mock.sign_ins == 1
    assert {r.token for r in replies} == {server.mock.issued[0]}


def _serve(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env |= {"BATON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}",
            "BATON_PORT": "1", **variables}  # the port is never reached: serve stops first
    return subprocess.run([sys.executable, "-m", "baton.cli", "serve"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("app_id", ["", None])
def test_an_empty_app_id_never_turns_the_checks_off(tmp_path: Path, app_id: str | None) -> None:
    given = {"BATON_TEAMS_APP_PASSWORD": "secret", "BATON_TEAMS_TENANT_ID": TENANT}
    if app_id is not None:
        given["BATON_TEAMS_APP_ID"] = app_id
    done = _serve(tmp_path, **given)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("BATON_TEAMS_APP_ID: expected the Teams bot's app id"), line
    assert "BATON_TEAMS_LOCAL=1" in line and "secret" not in line
    assert not (tmp_path / "baton.db").exists()


def test_serving_teams_without_its_secret_is_refused_in_one_line(tmp_path: Path) -> None:
    done = _serve(tmp_path, BATON_TEAMS_APP_ID="0b6fe6d1-fece-44f7-9a48-56465e2d5ab8")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("BATON_TEAMS_APP_PASSWORD: expected the bot's client secret"), line
    assert not (tmp_path / "baton.db").exists()


async def test_local_mode_checks_nothing_and_says_so_loudly(
        tmp_path: Path, mock: MockTeams, caplog: pytest.LogCaptureFixture) -> None:
    """BATON_TEAMS_LOCAL=1 with no app id: the Bot Framework Emulator's way, no token."""
    with caplog.at_level("WARNING"):
        server = await start_server(tmp_path, mock, teams_local=True, teams_app_id=None,
                                    teams_app_password=None, teams_openid_metadata_url=None,
                                    teams_login_url=None)
    try:
        assert any("WITHOUT token checks" in r.getMessage() for r in caplog.records)
        assert "WITHOUT TOKEN CHECKS" in server.teams.description
        answer = await server.post(server.message("mine"), token=None)
        assert answer.status == 200
        [reply] = server.mock.of("reply")
        assert reply.token == ""  # no app: nothing to sign in with, replies go unsigned
        assert mock.sign_ins == 0
        assert all("without the bot's token" in p for p in mock.problems)
        mock.problems.clear()
    finally:
        await stop_server(server)


@pytest.mark.parametrize(("change", "says"), [
    ("no conversation", "an activity without its conversation"),
    ("an empty conversation id", "an activity without its conversation"),
    ("no sender", "a message without its sender"),
    ("an invoke without its name", "an invoke without its name"),
])
async def test_a_signed_activity_missing_what_baton_needs_is_a_400(
        server: Server, change: str, says: str, caplog: pytest.LogCaptureFixture) -> None:
    body = server.message("handoff @bob Do the thing")
    if change == "no conversation":
        body.pop("conversation")
    elif change == "an empty conversation id":
        body["conversation"]["id"] = ""
    elif change == "no sender":
        body.pop("from")
    else:
        body = server.invoke({"type": "Action.Execute", "verb": "baton.accept", "data": {}},
                             user="bob")
        body.pop("name")
    with caplog.at_level("INFO"):
        answer = await server.post(body)
    assert (answer.status, answer.json()) == (400, {"error": says})
    assert not [r for r in caplog.records if r.exc_info or r.levelname == "ERROR"]
    await nothing_changed(server)
