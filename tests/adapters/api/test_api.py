"""/api/v1 over real HTTP on 127.0.0.1: every endpoint, auth, scopes, teams, idempotent
retries, bad input, body size, rate limits and the long-poll."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from tests.adapters.api.harness import Api, start_api, stop_api

APPROVAL = {"kind": "approval", "title": "Ship v3 to the canary ring",
            "approvers": ["@bob", "carol@example.com"], "metadata": {"run": 42, "sha": "9f3c"},
            "links": [{"url": "https://ci.example.com/runs/42", "title": "run 42"}]}


def problem(body: Any, status: int) -> None:
    assert isinstance(body, dict), body
    assert body["status"] == status and body["title"] and body["detail"], body
    assert body["type"].startswith("https://"), body
    assert "Traceback" not in str(body)


async def test_create_get_list_comment_cancel(api: Api) -> None:
    token = await api.token()
    status, item, response = await api.call("POST", "/api/v1/items", token, json=APPROVAL)
    assert status == 201, item
    assert response.headers["Location"] == "/api/v1/items/1"
    assert item["id"] == 1 and item["kind"] == "approval" and item["state"] == "open"
    assert item["requester"] == "release-pipeline" and item["via"] == "release-pipeline"
    assert item["approvers"] == ["bob", "carol"] and item["pending_approvers"] == ["bob", "carol"]
    assert item["metadata"] == {"run": 42, "sha": "9f3c"}  # back unchanged
    assert item["links"] == [{"url": "https://ci.example.com/runs/42", "title": "run 42"}]
    assert item["team"] == "release"

    status, handoff, _ = await api.call("POST", "/api/v1/items", token, json={
        "kind": "handoff", "to": "@dave", "title": "Re-run the eval", "priority": "high",
        "due": "2030-01-01T17:00:00Z"})
    assert status == 201, handoff
    assert handoff["owner"] == "dave" and handoff["team"] == "ml"
    assert handoff["due_at"].startswith("2030-01-01T17:00:00")
    status, exception, _ = await api.call("POST", "/api/v1/items", token, json={
        "kind": "exception", "title": "Nightly export has bad rows", "owner": "@carol",
        "due": "4h"})
    assert status == 201 and exception["owner"] == "carol", exception

    status, got, _ = await api.call("GET", "/api/v1/items/1", token)
    assert status == 200 and got["trail"][0]["action"] == "created"
    assert got["trail"][0]["via"] == "release-pipeline" and got["trail"][0]["surface"] == "api"

    status, comment, _ = await api.call("POST", "/api/v1/items/1/comments", token,
                                        json={"text": "canary metrics attached"})
    assert status == 200 and comment["version"] == got["version"] + 1, comment
    status, cancelled, _ = await api.call("POST", "/api/v1/items/3/cancel", token,
                                          json={"reason": "rows fixed upstream"})
    assert status == 200 and cancelled["state"] == "cancelled", cancelled

    status, page, _ = await api.call("GET", "/api/v1/items?limit=2", token)
    assert status == 200 and [i["id"] for i in page["items"]] == [1, 2]
    status, rest, _ = await api.call("GET", f"/api/v1/items?cursor={page['next_cursor']}",
                                     token)
    assert [i["id"] for i in rest["items"]] == [3] and rest["next_cursor"] is None
    status, open_only, _ = await api.call("GET", "/api/v1/items?state=open&kind=approval",
                                          token)
    assert [i["id"] for i in open_only["items"]] == [1]
    status, later, _ = await api.call("GET", "/api/v1/items", token,
                                      params={"updated_since": cancelled["updated_at"]})
    assert [i["id"] for i in later["items"]] == [3]

    # People see the client on the trail and the card, and act in chat as usual.
    shown = await api.person("bob", "show #1")
    assert "release-pipeline raised it · api" in shown
    assert "release-pipeline commented: canary metrics attached · api" in shown
    await api.person("bob", "approve #1 looks good")
    status, decided, _ = await api.call("GET", "/api/v1/items/1", token)
    assert decided["state"] == "done" and decided["outcome"] == "approved"
    assert decided["decisions"][0]["approver"] == "bob"
    assert decided["decisions"][0]["comment"] == "looks good"


async def test_agent_on_behalf_of_its_owner(api: Api) -> None:
    token = await api.token("triage-agent", owner="@alice",
                            scopes=("items:write", "items:decide"))
    status, item, _ = await api.call("POST", "/api/v1/items", token, json={
        "kind": "approval", "title": "Refund 900 EUR", "approvers": ["@bob"]})
    assert status == 201 and item["requester"] == "alice" and item["via"] == "triage-agent"
    shown = await api.person("bob", "show #1")
    assert "triage-agent, on behalf of @alice raised it" in shown
    card = (await api.app.baton.run(_req(api, "bob"), "show #1")).cards[0]
    assert ("Requester", "triage-agent, on behalf of @alice") in [
        (label, str(value)) for label, value in card.fields]


def _req(api: Api, who: str) -> Any:
    from bot.context import Request

    return Request(api.app.workspace, who, "console")


async def test_decisions_need_the_scope_and_the_right(api: Api) -> None:
    await api.person("carol", "approval Publish the model card --approvers @alice @bob "
                              "--policy all")
    plain = await api.token("bot-a", owner="@alice")  # items:write only
    status, body, _ = await api.call("POST", "/api/v1/items/1/approve", plain, json={})
    assert status == 403 and "items:decide" in body["detail"], body
    deciding = await api.token("bot-b", owner="@alice", scopes=("items:read", "items:decide"))
    status, body, _ = await api.call("POST", "/api/v1/items/1/reject", deciding,
                                     json={"comment": ""})
    assert status == 422 and body["errors"][0]["field"] == "comment", body
    status, body, _ = await api.call("POST", "/api/v1/items/1/approve", deciding,
                                     json={"comment": "fine by me"})
    assert status == 200 and body["decisions"][0]["approver"] == "alice", body
    assert "bot-b, on behalf of @alice approved" in await api.person("bob", "show #1")
    status, body, _ = await api.call("POST", "/api/v1/items/1/approve", deciding, json={})
    assert status == 409 and "already decided" in body["detail"], body  # the core's rule
    other = await api.token("bot-c", owner="@dave", scopes=("items:decide",), team="ml")
    status, body, _ = await api.call("POST", "/api/v1/items/1/approve", other, json={})
    assert status == 404, body  # another team's item: not visible


async def test_auth_failures_are_problems(api: Api) -> None:
    status, body, response = await api.call("GET", "/api/v1/items")
    assert status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.content_type == "application/problem+json"
    problem(body, 401)
    status, body, _ = await api.call("GET", "/api/v1/items", "baton_not-a-real-token")
    problem(body, 401)
    status, body, _ = await api.call("GET", "/api/v1/items", headers={"Authorization": "Basic x"})
    problem(body, 401)
    token = await api.token()
    assert (await api.call("GET", "/api/v1/items", token))[0] == 200
    from baton import wire_api

    await wire_api.revoke_tokens(api.app, "release-pipeline")
    api.surface.service._tokens.clear()  # this replica's 5-second cache; others expire it
    status, body, _ = await api.call("GET", "/api/v1/items", token)
    problem(body, 401)


async def test_scopes_and_teams(api: Api) -> None:
    reader = await api.token("dashboard", scopes=("items:read",))
    status, body, _ = await api.call("POST", "/api/v1/items", reader, json=APPROVAL)
    problem(body, 403)
    assert "items:write" in body["detail"]
    writer = await api.token()
    status, body, _ = await api.call("POST", "/api/v1/items", writer,
                                     json={**APPROVAL, "team": "ml"})
    problem(body, 403)
    assert (await api.call("GET", "/api/v1/items?team=ml", writer))[0] == 403
    status, body, _ = await api.call("GET", "/api/v1/webhooks", writer)
    assert status == 403 and "webhooks:write" in body["detail"]
    await api.person("dave", "exception GPU node down --team ml")  # #1, team ml
    status, body, _ = await api.call("GET", "/api/v1/items/1", writer)
    problem(body, 404)
    status, body, _ = await api.call("POST", "/api/v1/items/1/comments", writer,
                                     json={"text": "hi"})
    problem(body, 404)
    assert (await api.call("GET", "/api/v1/items", reader))[1]["items"] == []
    ml = await api.token("ml-bot", team="ml", scopes=("items:read",))
    assert [i["id"] for i in (await api.call("GET", "/api/v1/items", ml))[1]["items"]] == [1]


async def test_idempotent_retries(api: Api) -> None:
    token = await api.token()
    key = {"Idempotency-Key": "deploy-42"}
    first = await api.call("POST", "/api/v1/items", token, json=APPROVAL, headers=key)
    assert first[0] == 201
    reordered = dict(reversed(list(APPROVAL.items())))  # the same body, keys in another order
    again = await api.call("POST", "/api/v1/items", token, json=reordered, headers=key)
    assert again[0] == 200 and again[2].headers["Idempotent-Replayed"] == "true"
    assert again[1]["id"] == first[1]["id"] == 1
    status, body, _ = await api.call("POST", "/api/v1/items", token,
                                     json={**APPROVAL, "title": "Something else"}, headers=key)
    assert status == 422 and body["errors"][0]["field"] == "Idempotency-Key", body
    # concurrent retries of one key raise one item
    results = await asyncio.gather(*(api.call("POST", "/api/v1/items", token, json=APPROVAL,
                                              headers={"Idempotency-Key": "deploy-43"})
                                     for _ in range(5)))
    ids = {r[1]["id"] for r in results if r[0] in (200, 201)}
    assert ids == {2}, results
    assert all(r[0] in (200, 201, 409) for r in results)
    # another client's same key is its own
    other = await api.token("other-pipeline")
    assert (await api.call("POST", "/api/v1/items", other, json=APPROVAL,
                           headers=key))[1]["id"] == 3
    status, page, _ = await api.call("GET", "/api/v1/items", token)
    assert [i["id"] for i in page["items"]] == [1, 2, 3]


async def test_bad_bodies_name_each_field(api: Api) -> None:
    token = await api.token()
    status, body, _ = await api.call("POST", "/api/v1/items", token, json={
        "kind": "approval", "title": "", "approvers": [], "policy": "most",
        "callback_url": "ftp://x", "colour": "red"})
    assert status == 422, body
    fields = {e["field"] for e in body["errors"]}
    assert {"title", "approvers", "policy", "callback_url", "colour"} <= fields, body
    status, body, _ = await api.call("POST", "/api/v1/items", token, json={"kind": "memo"})
    assert status == 422 and body["errors"][0]["field"] == "kind", body
    status, body, _ = await api.call("POST", "/api/v1/items", token, data=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert status == 422 and "not JSON" in body["errors"][0]["message"], body
    status, body, _ = await api.call("POST", "/api/v1/items", token, json={
        "kind": "handoff", "to": "@nobody", "title": "x"})
    assert status == 422 and "nobody" in body["detail"], body  # the core's own words
    status, body, _ = await api.call("POST", "/api/v1/items", token, json={
        **APPROVAL, "callback_url": "https://user:secret@hooks.example.com/x"})
    assert status == 422 and "credentials" in str(body["errors"]), body
    status, body, _ = await api.call("POST", "/api/v1/items", token, json={
        **APPROVAL, "due": "next blue moon"})
    assert status == 422 and body["errors"][0]["field"] == "due", body
    status, body, _ = await api.call("GET", "/api/v1/items/abc", token)
    assert status == 422 and body["errors"][0]["field"] == "id", body
    status, body, _ = await api.call("GET", "/api/v1/items?limit=1000", token)
    assert status == 422 and body["errors"][0]["field"] == "limit", body
    status, body, _ = await api.call("DELETE", "/api/v1/items/1", token)
    problem(body, 405)
    status, body, _ = await api.call("POST", "/api/v1/items", token,
                                     data=b'{"kind": "' + b"x" * 70_000 + b'"}',
                                     headers={"Content-Type": "application/json"})
    problem(body, 413)
    assert (await api.call("GET", "/api/v1/items", token))[1]["items"] == []  # nothing written


async def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    api = await start_api(tmp_path, api_rate_limit="3/minute")
    try:
        token, other = await api.token(), await api.token("other")
        answers = [(await api.call("GET", "/api/v1/items", token))[0] for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        _, body, response = await api.call("GET", "/api/v1/items", token)
        problem(body, 429)
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert (await api.call("GET", "/api/v1/items", other))[0] == 200  # per token
    finally:
        await stop_api(api)


async def test_long_poll_wakes_when_a_person_decides(api: Api) -> None:
    token = await api.token()
    created = (await api.call("POST", "/api/v1/items", token, json=APPROVAL))[1]

    async def approve_soon() -> None:
        await asyncio.sleep(0.3)
        await api.person("bob", "approve #1 ship it")

    started = time.monotonic()
    waiting = asyncio.create_task(api.call("GET", "/api/v1/items/1?wait=30", token))
    await approve_soon()
    status, item, _ = await waiting
    took = time.monotonic() - started
    assert status == 200 and item["outcome"] == "approved", item
    assert took < 5, took  # woken by the change, not the 30 s timeout
    # a version the client already saw past answers at once
    status, item, _ = await api.call("GET", f"/api/v1/items/1?wait=30&version="
                                            f"{created['version']}", token)
    assert item["state"] == "done"


async def test_long_poll_times_out_with_the_item_unchanged(api: Api) -> None:
    token = await api.token()
    await api.call("POST", "/api/v1/items", token, json=APPROVAL)
    started = time.monotonic()
    status, item, _ = await api.call("GET", "/api/v1/items/1?wait=0.5", token)
    assert status == 200 and item["state"] == "open"
    assert time.monotonic() - started >= 0.5


async def test_webhook_registration(api: Api) -> None:
    token = await api.token(scopes=("items:write", "webhooks:write"))
    status, hook, _ = await api.call("POST", "/api/v1/webhooks", token,
                                     json={"url": "https://hooks.example.com/baton"})
    assert status == 201 and hook["item"] is None, hook
    for bad in ("file:///etc/passwd", "https://u:p@hooks.example.com/", "hooks.example.com"):
        status, body, _ = await api.call("POST", "/api/v1/webhooks", token, json={"url": bad})
        assert status == 422 and body["errors"][0]["field"] == "url", (bad, body)
    status, body, _ = await api.call("POST", "/api/v1/webhooks", token,
                                     json={"url": "https://h.example.com/", "item": 9})
    problem(body, 404)
    status, listed, _ = await api.call("GET", "/api/v1/webhooks", token)
    assert [w["id"] for w in listed["webhooks"]] == [hook["id"]]
    status, _, _ = await api.call("DELETE", f"/api/v1/webhooks/{hook['id']}", token)
    assert status == 204
    status, body, _ = await api.call("DELETE", f"/api/v1/webhooks/{hook['id']}", token)
    problem(body, 404)


async def test_openapi_and_reference(api: Api) -> None:
    status, doc, _ = await api.call("GET", "/api/v1/openapi.json")
    assert status == 200 and doc["openapi"] == "3.1.0"
    create = doc["paths"]["/api/v1/items"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewItem"}
    assert set(doc["components"]["schemas"]["NewItem"]["discriminator"]["mapping"]) == {
        "handoff", "exception", "approval"}
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    status, page, response = await api.call("GET", "/api/v1/reference")
    assert status == 200 and response.content_type == "text/html"
    assert "/api/v1/items/{id}/approve" in page and "NewApproval" in page
