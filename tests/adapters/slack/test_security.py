"""Requests Slack did not sign, signed with the wrong secret, too old, replayed or unreadable:
refused (401) or answered without acting, nothing written; never a 500. Secrets never logged."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest

from tests.adapters.slack.harness import BOT_TOKEN, SECRET, Server, sign, start_server, stop_server
from tests.adapters.slack.mock_slack import MockSlack


async def nothing_written(server: Server) -> None:
    for table in ("items", "events", "outbox", "seen_keys"):
        assert await server.count(table) == 0, table
    assert server.mock.calls == []


async def test_unsigned_forged_and_stale_requests_get_401_and_change_nothing(
        server: Server) -> None:
    body = server.slash_body("exception Should never exist")

    unsigned = await server.post(body, signed=False)
    forged = await server.post(body, signed=False, headers=sign(body, secret="not-the-secret"))
    stale = await server.post(body, timestamp=int(time.time()) - 6 * 60)
    tampered_headers = sign(server.slash_body("exception Other"))
    tampered = await server.post(body, signed=False, headers=tampered_headers)

    assert [r.status for r in (unsigned, forged, stale, tampered)] == [401, 401, 401, 401]
    await nothing_written(server)


async def test_a_replayed_request_acts_once(server: Server) -> None:
    body = server.slash_body("exception Replay me")
    headers = sign(body)
    first = await server.post(body, signed=False, headers=headers)
    replay = await server.post(body, signed=False, headers=headers)
    assert first.json()["text"] == "Created #1."
    assert (replay.status, replay.text) == (200, "")
    assert await server.count("items") == 1


async def test_unreadable_requests_get_4xx_never_500(server: Server) -> None:
    garbage = "{not json"
    signed = await server.post(garbage, content_type="application/json")
    unsigned = await server.post(garbage, content_type="application/json", signed=False)
    assert (signed.status, unsigned.status) == (400, 401)

    odd_payload = "payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A5%7D"
    odd = await server.post(odd_payload)
    assert odd.status < 500
    empty = await server.post(json.dumps({}), content_type="application/json")
    assert empty.status == 404
    no_user = await server.post("command=%2Fbaton&text=mine&team_id=T0ACME&trigger_id=t.1")
    assert no_user.status == 200
    assert no_user.json() == {"response_type": "ephemeral", "text":
                              "Baton could not read that request from Slack; nothing was "
                              "changed."}
    await server.settle()
    assert await server.count("items") == 0


async def test_the_acknowledgement_comes_well_inside_three_seconds(server: Server) -> None:
    await server.slash("mine")  # the first request looks people up
    started = time.perf_counter()
    sent = await server.slash("handoff <@U0BOB> Measure me")
    assert sent.status == 200
    assert time.perf_counter() - started < 0.5


async def test_no_token_or_secret_reaches_the_logs(tmp_path: Path, mock: MockSlack,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = await start_server(tmp_path, mock, slack_client_id="1234.5678",
                                slack_client_secret="client-secret-3c9e71")
    try:
        assert (await server.install()).status == 200
        await server.slash("handoff <@U0BOB> Logged flow", team="T0INSTALLED")
        await server.click("accept", 1, user="U0BOB", team="T0INSTALLED")
        await server.deliver()
        await server.settle()
        # The flow ran: every copy of the card (channel, and the DMs to Bob and to Alice)
        # updated once the card was posted.
        assert {c.args.get("channel") for c in mock.to("chat.update")} == \
            {"C0PLATFORM", "D0BOB", "D0ALICE"}
    finally:
        await stop_server(server)
    logged = caplog.text
    assert "chat.postMessage" in logged or "Sending a request" in logged  # logs were on
    for secret in (SECRET, BOT_TOKEN, "client-secret-3c9e71", "xoxb-installed-team-token"):
        assert secret not in logged


REDIS = os.environ.get("BATON_TEST_REDIS_URL", "")


@pytest.mark.skipif(not REDIS, reason="BATON_TEST_REDIS_URL names no Redis (.ci/with-services)")
async def test_with_redis_configured_retries_are_remembered_there(tmp_path: Path,
                                                                   mock: MockSlack) -> None:
    server = await start_server(tmp_path, mock, redis_url=REDIS)
    try:
        mention = {"type": "app_mention", "user": "U0BOB", "channel": "C0PLATFORM",
                   "text": "<@UBATONBOT> exception Once, through Redis",
                   "ts": "1700000400.000100", "event_ts": "1700000400.000100"}
        first = await server.event(mention, sample="events.app_mention.json",
                                   event_id="Ev0REDIS")
        retry = await server.event(mention, sample="events.app_mention.json",
                                   event_id="Ev0REDIS", headers={
                                       "X-Slack-Retry-Num": "1",
                                       "X-Slack-Retry-Reason": "http_timeout"})
        assert (first.status, retry.status) == (200, 200)
        await server.mock.wait_for("chat.postEphemeral")
        await server.settle()
        assert await server.count("items") == 1
        assert await server.count("seen_keys") == 0  # the event id is remembered in Redis

        # A slash command's key is kept with what the command did, in its own transaction.
        body = server.slash_body("exception Once, with its key")
        headers = sign(body)
        first_command = await server.post(body, signed=False, headers=headers)
        again = await server.post(body, signed=False, headers=headers)
        assert (first_command.json()["text"], again.text) == ("Created #2.", "")
        assert await server.count("items") == 2
        assert await server.count("seen_keys") == 1
    finally:
        await stop_server(server)
