"""Baton's real server on 127.0.0.1 with a SQLite file (or the database given), /api/v1
mounted as `baton serve` mounts it, and tokens made as `baton token create` makes them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from adapters.http.server import health_app, serve
from baton import wire_api, wire_mcp
from baton.app import App, build
from baton.settings import Settings
from bot.context import Request
from bot.ports import Clock

CONFIG = """
workspace: acme
admins: [root]
people:
  root: {name: Root}
  alice: {name: Alice, email: alice@example.com}
  bob: {name: Bob, email: bob@example.com}
  carol: {name: Carol, email: carol@example.com}
  dave: {name: Dave, email: dave@example.com}
teams:
  release:
    lead: alice
    members: [bob, carol]
  ml:
    lead: dave
    members: [carol]
"""


@dataclass
class Api:
    app: App
    url: str
    runner: web.AppRunner
    http: aiohttp.ClientSession
    surface: wire_api.ApiSurface

    async def token(self, name: str = "release-pipeline", team: str = "release",
                    scopes: tuple[str, ...] = ("items:write",), owner: str | None = None) -> str:
        token, _ = await wire_api.create_token(self.app, name, team, list(scopes), owner)
        return token

    async def call(self, method: str, path: str, token: str | None = None,
                   json: Any = None, headers: dict[str, str] | None = None,
                   **kwargs: Any) -> tuple[int, Any, aiohttp.ClientResponse]:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, self.url + path, json=json, headers=sent,
                                     **kwargs) as response:
            text = await response.text()
            body = None
            if text and response.content_type.endswith("json"):
                body = await response.json(content_type=None)
            return response.status, body if body is not None else text, response

    async def person(self, who: str, text: str) -> str:
        """A person typing in the console."""
        reply = await self.app.baton.run(Request(self.app.workspace, who, "console"), text)
        assert reply.ok, reply.text
        return str(reply.text)


async def start_api(tmp: Path, *, config: str = CONFIG, port: int = 0,
                    clock: Clock | None = None, **settings: Any) -> Api:
    (tmp / "baton.yaml").write_text(config)
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp / 'baton.db'}",
        "config": tmp / "baton.yaml", "host": "127.0.0.1", "redis_url": None,
        "data_dir": tmp / "var",
        "slack_bot_token": None, "slack_app_token": None, "slack_client_id": None,
        "slack_client_secret": None, "slack_signing_secret": None,
    }
    values.update(settings)
    app = await build(Settings(**values), clock)
    web_app = health_app(app.ready)
    surface = wire_api.attach_api(web_app, app)
    wire_mcp.attach_mcp(web_app, app, surface.service)
    runner = await serve(web_app, "127.0.0.1", port)
    port = runner.addresses[0][1]
    return Api(app, f"http://127.0.0.1:{port}", runner, aiohttp.ClientSession(), surface)


async def stop_api(api: Api) -> None:
    await api.http.close()
    await api.runner.cleanup()
    await api.app.close()
