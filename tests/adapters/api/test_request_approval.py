"""`baton request-approval` as a shell would run it, against a running server: approved from
another connection (exit 0, across a server restart), rejected (exit 1), timed out (exit 2)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.adapters.api.harness import Api, start_api, stop_api


async def _gate(api: Api, token: str, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton.cli", "request-approval", "--title", "Deploy v3.3 to prod",
        "--approvers", "@bob", "@carol", "--url", api.url, "--token", token, *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "BATON_TOKEN": ""})


async def _filed(api: Api, token: str) -> None:
    for _ in range(300):
        status, _, _ = await api.call("GET", "/api/v1/items/1", token)
        if status == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("request-approval filed nothing")


async def test_approved_across_a_server_restart_exits_0(tmp_path: Path) -> None:
    api = await start_api(tmp_path)
    port = int(api.url.rsplit(":", 1)[1])
    token = await api.token()
    bob = await api.token("bobs-phone", owner="@bob", scopes=("items:read", "items:decide"))
    gate = await _gate(api, token, "--timeout", "2m")
    await _filed(api, token)
    await stop_api(api)  # the server goes away while the gate waits
    await asyncio.sleep(1.5)
    api = await start_api(tmp_path, port=port)
    try:
        status, body, _ = await api.call("POST", "/api/v1/items/1/approve", bob,
                                         json={"comment": "green across the board"})
        assert status == 200, body
        out, err = await asyncio.wait_for(gate.communicate(), 60)
        assert gate.returncode == 0, (out, err)
        text = out.decode()
        assert "#1 approved" in text and "@bob approved: green across the board" in text
        assert "retrying" in err.decode()  # it noticed the restart and reconnected
        listed = (await api.call("GET", "/api/v1/items", token))[1]["items"]
        assert [i["id"] for i in listed] == [1]  # filed once
    finally:
        await stop_api(api)


async def test_rejected_exits_1(api: Api) -> None:
    token = await api.token()
    gate = await _gate(api, token, "--timeout", "2m")
    await _filed(api, token)
    await api.person("carol", "reject #1 error budget is spent")
    out, err = await asyncio.wait_for(gate.communicate(), 60)
    assert gate.returncode == 1, (out, err)
    assert "@carol rejected: error budget is spent" in out.decode()


async def test_timed_out_exits_2_and_withdraws_the_request(api: Api) -> None:
    token = await api.token()
    gate = await _gate(api, token, "--timeout", "2s")
    out, err = await asyncio.wait_for(gate.communicate(), 60)
    assert gate.returncode == 2, (out, err)
    item = (await api.call("GET", "/api/v1/items/1", token))[1]
    assert item["state"] == "cancelled"


async def test_refused_request_exits_3(api: Api) -> None:
    token = await api.token("reader", scopes=("items:read",))
    gate = await _gate(api, token)
    out, err = await asyncio.wait_for(gate.communicate(), 60)
    assert gate.returncode == 3 and "items:write" in err.decode(), (out, err)
