"""The MCP server driven by the `mcp` SDK's own client: over stdio (`baton mcp` as a
subprocess) and over streamable HTTP at /mcp on Baton's server, with a person deciding in the
console meanwhile."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.adapters.api.harness import Api, start_api, stop_api


async def _approve_when_asked(api: Api, who: str, text: str) -> None:
    """A person in the console approves the first approval once it exists."""
    for _ in range(200):
        shown = await api.app.baton.run(_req(api, who), "show #1")
        if shown.ok:
            await api.person(who, text)
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the agent's request never arrived")


def _req(api: Api, who: str) -> Any:
    from bot.context import Request

    return Request(api.app.workspace, who, "console")


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


async def _exercise(client: Client, api: Api) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"request_approval", "raise_exception", "hand_off", "get_item",
                          "list_items", "comment"}
    assert "WAIT" in (tools["request_approval"].description or "")
    assert "approvers" in tools["request_approval"].input_schema["properties"]
    person = asyncio.create_task(_approve_when_asked(api, "bob", "approve #1 within budget"))
    result = _structured(await client.call_tool("request_approval", {
        "title": "Refund 900 EUR to order 5521", "approvers": ["@bob"],
        "details": "Above the agent's 500 EUR limit.", "timeout_seconds": 60}))
    await person
    assert result["outcome"] == "approved" and result["state"] == "done", result
    assert result["decisions"][0]["comment"] == "within budget"
    assert result["requester"] == "alice" and result["via"] == "support-agent"
    shown = await api.person("bob", "show #1")
    assert "support-agent, on behalf of @alice raised it" in shown
    raised = _structured(await client.call_tool("raise_exception", {
        "title": "Customer 88 charged twice"}))
    assert raised["kind"] == "exception" and raised["team"] == "release"
    handed = _structured(await client.call_tool("hand_off", {"to": "@carol", "title": "Call "
                                                             "customer 88 back"}))
    assert handed["owner"] == "carol"
    said = _structured(await client.call_tool("comment", {"id": raised["id"],
                                                          "text": "refund issued"}))
    assert said["version"] == raised["version"] + 1
    got = _structured(await client.call_tool("get_item", {"id": raised["id"]}))
    assert [e["action"] for e in got["trail"]] == ["created", "comment"]
    listed = _structured(await client.call_tool("list_items", {"state": "open"}))
    assert [i["id"] for i in listed["items"]] == [raised["id"], handed["id"]]
    refused = await client.call_tool("hand_off", {"to": "@nobody", "title": "x"})
    assert refused.is_error and "nobody" in str(refused.content)


async def test_mcp_over_stdio(tmp_path: Path) -> None:
    api = await start_api(tmp_path)
    try:
        token = await api.token("support-agent", owner="@alice")
        env = {**os.environ, "BATON_TOKEN": token, "BATON_CONFIG": str(tmp_path / "baton.yaml"),
               "BATON_DATABASE_URL": api.app.settings.database_url}
        params = StdioServerParameters(command=sys.executable, args=["-m", "baton.cli", "mcp"],
                                       env=env, cwd=str(tmp_path))
        async with Client(params, read_timeout_seconds=60) as client:
            await _exercise(client, api)
    finally:
        await stop_api(api)


async def test_mcp_over_http(api: Api) -> None:
    token = await api.token("support-agent", owner="@alice")
    async with httpx2.AsyncClient(timeout=60) as anonymous:
        refused = await anonymous.post(f"{api.url}/mcp", json={})
        assert refused.status_code == 401
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http, \
            Client(streamable_http_client(f"{api.url}/mcp", http_client=http),
                   read_timeout_seconds=60) as client:
        await _exercise(client, api)
