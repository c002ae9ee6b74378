"""The surfaces `baton serve` runs side by side: each one's wiring, in one list. A new surface
is a folder in adapters/ and its line here."""

from __future__ import annotations

from aiohttp import web

from adapters.http.metrics import Metrics
from baton.app import App
from baton.running import Running, Wiring


def wirings() -> list[Wiring]:
    """Every surface Baton has, in the order they start (imported here, when serving: a
    platform's SDK is imported only by a process that serves it)."""
    from baton import wire_slack, wire_teams

    return [wire_slack.attach, wire_teams.attach, api]


async def api(app: App, web_app: web.Application, metrics: Metrics) -> Running:
    """/api/v1 and /mcp, always: pipelines and AI agents ask people through them, and get
    the answer back by long-poll or by the webhooks this surface delivers."""
    from baton.wire_api import attach_api, webhooks
    from baton.wire_mcp import attach_mcp

    attach_mcp(web_app, app, attach_api(web_app, app).service)
    transport = webhooks(app)  # its routes end with the server; its HTTP client here
    return Running("the API (/api/v1, webhooks) and MCP (/mcp)", transport, transport.close)
