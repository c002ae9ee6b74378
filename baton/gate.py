"""`baton request-approval`: file an approval through the API, wait for people to decide, and
exit 0 approved, 1 rejected, 2 timed out or cancelled (3: it could not be asked at all).

It survives the server going away: the request is filed with an Idempotency-Key, so a retry
after a lost answer files nothing twice, and the long-poll reconnects until the timeout."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
import uuid
from typing import Any

APPROVED, REJECTED, UNDECIDED, FAILED = 0, 1, 2, 3
_POLL = 60.0  # seconds a single long-poll waits
_BACKOFF_MAX = 5.0


class _Refused(Exception):
    """The server answered no (a 4xx): retrying cannot help."""


async def request_approval(args: argparse.Namespace) -> int:
    import aiohttp

    from bot.due import DueError, parse_duration

    base = (args.url or os.environ.get("BATON_URL") or "http://127.0.0.1:3000").rstrip("/")
    token = args.token or os.environ.get("BATON_TOKEN")
    if not token:
        print("request-approval needs a token: --token or BATON_TOKEN "
              "(`baton token create` makes one).", file=sys.stderr)
        return FAILED
    try:
        text = args.timeout.strip().lower()
        timeout = float(text[:-1]) if re.fullmatch(r"\d{1,6}s", text) else \
            parse_duration(text).total_seconds()
    except DueError as exc:
        print(f"--timeout: {exc}", file=sys.stderr)
        return FAILED
    body: dict[str, Any] = {"kind": "approval", "title": args.title, "details": args.details,
                            "approvers": args.approvers, "policy": args.policy,
                            "links": [{"url": url} for url in args.link]}
    if args.team:
        body["team"] = args.team
    if args.priority:
        body["priority"] = args.priority
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base, headers=headers) as http:
        try:
            item = await _retrying(deadline, lambda: _send(
                http, "POST", "/api/v1/items", json=body,
                headers={"Idempotency-Key": f"request-approval-{uuid.uuid4()}"}))
            if item is None:
                print(f"Timed out after {args.timeout} before Baton answered at {base}.",
                      file=sys.stderr)
                return UNDECIDED
            number = item["id"]
            print(f"Asked for approval: #{number} {item['title']} "
                  f"(waiting on {', '.join('@' + a for a in item['pending_approvers'])})",
                  flush=True)
            while not item["final"]:
                left = deadline - time.monotonic()
                if left <= 0:
                    await _give_up(http, number, args.timeout)
                    print(f"#{number}: no decision within {args.timeout}; the request was "
                          f"cancelled.")
                    return UNDECIDED
                wait = min(_POLL, max(left, 0.1))
                path = f"/api/v1/items/{number}?wait={wait:.1f}&version={item['version']}"
                found = await _retrying(deadline, lambda p=path: _send(http, "GET", p))
                if found is not None:
                    item = found
        except _Refused as exc:
            print(exc, file=sys.stderr)
            return FAILED
    return _report(item)


async def _retrying(deadline: float, call: Any) -> dict[str, Any] | None:
    """The call's answer, retried through connection errors and 5xx until `deadline`."""
    import aiohttp

    delay = 0.5
    while True:
        try:
            result: dict[str, Any] = await call()
            return result
        except (aiohttp.ClientError, TimeoutError, _Unavailable) as exc:
            if time.monotonic() + delay >= deadline:
                return None
            print(f"Baton unreachable ({type(exc).__name__}); retrying in {delay:.0f} s",
                  file=sys.stderr, flush=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)


class _Unavailable(Exception):
    pass


async def _send(http: Any, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    async with http.request(method, path, **kwargs) as response:
        if response.status >= 500 or response.status in (409, 429):
            raise _Unavailable(str(response.status))
        body = await response.json(content_type=None)
        if response.status >= 400:
            detail = body.get("detail", "") if isinstance(body, dict) else str(body)
            errors = body.get("errors") if isinstance(body, dict) else None
            fields = "; ".join(f"{e['field']}: {e['message']}" for e in errors or [])
            raise _Refused(f"Baton refused ({response.status}): {detail} {fields}".strip())
        result: dict[str, Any] = body
        return result


async def _give_up(http: Any, number: int, waited: str) -> None:
    try:
        await _send(http, "POST", f"/api/v1/items/{number}/cancel",
                    json={"reason": f"no decision within {waited} (request-approval)"})
    except Exception as exc:  # the timeout stands either way
        print(f"Could not cancel #{number}: {exc}", file=sys.stderr)


def _report(item: dict[str, Any]) -> int:
    number, outcome = item["id"], item["outcome"] or item["state"]
    print(f"#{number} {outcome}: {item['title']}")
    for decision in item["decisions"]:
        by = f" (by @{decision['by']})" if decision["by"] != decision["approver"] else ""
        verdict = "approved" if decision["verdict"] == "approve" else "rejected"
        comment = f": {decision['comment']}" if decision["comment"] else ""
        print(f"  @{decision['approver']} {verdict}{by}{comment}")
    return {"approved": APPROVED, "rejected": REJECTED}.get(outcome, UNDECIDED)
