"""The OpenAPI document exercised by schemathesis: property-based requests to every operation,
valid and invalid, with a token allowed everything; none may produce a 5xx."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.adapters.api.harness import start_api, stop_api

ROOT = Path(__file__).resolve().parents[3]


async def test_no_request_makes_a_server_error(tmp_path: Path) -> None:
    api = await start_api(tmp_path, api_rate_limit="100000/minute")
    try:
        token = await api.token("fuzzer", owner="@alice", scopes=(
            "items:write", "items:decide", "webhooks:write"))
        await api.person("carol", "approval Fuzz me --approvers @alice @bob")
        await api.call("POST", "/api/v1/items", token, json={
            "kind": "exception", "title": "A first item"})
        run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "schemathesis.cli", "run", f"{api.url}/api/v1/openapi.json",
            "--url", api.url, "--header", f"Authorization: Bearer {token}",
            "--checks", "not_a_server_error", "--max-examples", "40", "--seed", "7",
            "--generation-database", "none",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.adapters.api.st_hooks",
                 "PYTHONPATH": str(ROOT)})
        out, _ = await asyncio.wait_for(run.communicate(), 540)
        report = out.decode()
        assert run.returncode == 0, report[-6000:]
        assert "10 passed" in report or "passed" in report, report[-3000:]
    finally:
        await stop_api(api)
