"""What an unauthenticated or malformed request costs, over real HTTP: an answer in the 4xx
range (or 200 for a signed event Baton ignores), one short log line without the body, no
traceback, nothing written, and /metrics counting it as what it was."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest

from adapters.slack.app import LOG_LINE_LIMIT, MAX_BODY_BYTES
from tests.adapters.slack.harness import SECRET, TEAM, Server, sign

MARKER = "secret-looking-body-content"


def signed_bytes(body: bytes, stamp: str | None = None) -> dict[str, str]:
    """Slack's v0 signature over the body's bytes, whatever their encoding."""
    stamp = str(int(time.time())) if stamp is None else stamp
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


async def post_bytes(server: Server, body: bytes | io.BytesIO | AsyncIterator[bytes],
                     headers: dict[str, str],
                     content_type: str = "application/x-www-form-urlencoded") -> int:
    async with server.http.post(f"{server.url}/slack/events", data=body,
                                headers={"Content-Type": content_type, **headers}) as response:
        await response.read()
        return response.status


async def nothing_written(server: Server) -> None:
    for table in ("items", "events", "outbox", "seen_keys"):
        assert await server.count(table) == 0, table
    assert server.mock.calls == []


async def outcomes(server: Server) -> dict[str, float]:
    """/metrics: /slack/events requests by outcome."""
    async with server.http.get(f"{server.url}/metrics") as response:
        text = await response.text()
    counted: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("baton_http_requests_total{") and '"/slack/events"' in line:
            outcome = line.split('outcome="')[1].split('"')[0]
            counted[outcome] = float(line.rsplit(" ", 1)[1])
    return counted


def no_tracebacks_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert record.levelno < logging.ERROR, record.getMessage()


async def test_a_body_that_is_not_utf8_or_names_an_unknown_charset_gets_400_if_signed(
        server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    latin1 = "command=/baton&text=exception Café".encode("latin-1")
    assert await post_bytes(server, latin1, signed_bytes(latin1)) == 400
    assert await post_bytes(server, latin1, {}) == 401  # unsigned garbage

    body = server.slash_body("exception Never made").encode()
    assert await post_bytes(server, body, signed_bytes(body),
                            "application/x-www-form-urlencoded; charset=klingon") == 400
    assert await post_bytes(server, body, signed_bytes(body),
                            "application/x-www-form-urlencoded; charset=latin-1") == 400
    assert await post_bytes(server, body, {},
                            "application/x-www-form-urlencoded; charset=klingon") == 401
    # UTF-8 named in any of its spellings is read.
    said = await post_bytes(server, body, signed_bytes(body),
                            "application/x-www-form-urlencoded; charset=UTF8")
    assert said == 200

    assert await server.count("items") == 1  # only the last one
    assert await outcomes(server) == {"client_error": 5.0, "ok": 1.0}
    no_tracebacks_or_errors(caplog)


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


# The current time, written as int() would still read it, or not a number at all.
@pytest.mark.parametrize("odd", [lambda now: "abc", lambda now: "", lambda now: now + ".5",
                                 lambda now: now.translate(FULLWIDTH),
                                 lambda now: f"{now[:4]}_{now[4:]}", lambda now: "-" + now,
                                 lambda now: "1" * 40],
                         ids=["letters", "empty", "fraction", "fullwidth", "underscore",
                              "negative", "40 digits"])
async def test_a_timestamp_that_is_not_a_whole_number_gets_401(
        server: Server, caplog: pytest.LogCaptureFixture, odd: Callable[[str], str]) -> None:
    caplog.set_level(logging.DEBUG)
    body = server.slash_body("exception Never made")
    stamp = odd(str(int(time.time())))
    headers = signed_bytes(body.encode(), stamp)  # signed with the odd stamp as it is
    sent = await server.post(body, signed=False, headers=headers)
    assert sent.status == 401
    assert await outcomes(server) == {"client_error": 1.0}
    await nothing_written(server)
    no_tracebacks_or_errors(caplog)


async def test_a_refused_request_is_logged_in_one_short_line_without_its_body(
        server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    big = (MARKER + "x" * 1000) * 900  # just under the cap: read, checked, refused
    assert len(big) < MAX_BODY_BYTES
    unsigned = await server.post(big, signed=False)
    forged = await server.post(big, signed=False, headers=sign(big, secret="not-the-secret"))
    stale = await server.post(big, timestamp=int(time.time()) - 600)
    assert [r.status for r in (unsigned, forged, stale)] == [401, 401, 401]

    for record in caplog.records:  # at DEBUG too: no body, no second line
        line = record.getMessage()
        assert "\n" not in line and len(line) < 120 and MARKER not in line
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(lines) == 3, lines
    assert "not signed" in lines[0] and "signature does not match" in lines[1]
    assert "five-minute window" in lines[2]
    no_tracebacks_or_errors(caplog)
    await nothing_written(server)


async def test_a_body_over_the_cap_is_refused_before_it_is_read(
        server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    huge = b"text=" + b"x" * (MAX_BODY_BYTES + 10)
    assert await post_bytes(server, io.BytesIO(huge), signed_bytes(huge)) == 413

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: cut off while reading
        for _ in range(40):
            yield b"y" * 64 * 1024

    assert await post_bytes(server, chunked(), {}) == 413
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(lines) == 2 and all("body over" in line for line in lines), lines
    no_tracebacks_or_errors(caplog)
    await nothing_written(server)


@pytest.mark.parametrize("event", ["app_mention", ["app_mention"], 5, True])
async def test_a_signed_event_that_is_not_an_object_gets_200_and_one_line(
        server: Server, caplog: pytest.LogCaptureFixture, event: object) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"token": "t", "team_id": TEAM, "api_app_id": "A0BATON",
                       "type": "event_callback", "event_id": "Ev0ODD", "event_time": 1,
                       "event": event})
    sent = await server.post(body, content_type="application/json")
    assert (sent.status, sent.text) == (200, "")
    mine = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(mine) == 1 and "event is not an object" in mine[0].getMessage()
    no_tracebacks_or_errors(caplog)
    await server.settle()
    await nothing_written(server)


async def test_bolt_logs_a_signed_request_it_does_not_handle_in_one_short_line(
        server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "U0BOB"},
                       "actions": [{"action_id": "someone.else", "block_id": "b",
                                    "value": MARKER * 100}],
                       "note": MARKER * 1000})
    sent = await server.post(f"payload={body}")
    assert sent.status == 404  # Bolt: no listener for this action
    bolt = [r for r in caplog.records if r.name.startswith(("slack_bolt", "baton.bolt"))]
    assert bolt, "Bolt said nothing about a request it did not handle"
    for record in bolt:
        line = record.getMessage()
        assert "\n" not in line and len(line) <= LOG_LINE_LIMIT, line
    assert await server.count("items") == 0
