"""The surfaces `baton serve` runs side by side: each one's wiring, in one list. A new surface
is a folder in adapters/ and its line here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from adapters.http.metrics import Metrics
from baton.app import App
from bot.delivery import Transport


@dataclass
class Running:
    """A surface running in this process: what it says it is, and what delivers its
    messages (None for a surface that only takes requests)."""

    description: str
    transport: Transport | None
    close: Callable[[], Awaitable[None]]


#: Adds a surface's routes to the server when the settings configure it; None when they don't.
Wiring = Callable[[App, web.Application, Metrics], Awaitable[Running | None]]


def wirings() -> list[Wiring]:
    """Every surface Baton has, in the order they start (imported here, when serving: a
    platform's SDK is imported only by a process that serves it)."""
    from baton import wire_slack, wire_teams

    return [wire_slack.attach, wire_teams.attach, api]


async def api(app: App, web_app: web.Application, metrics: Metrics) -> Running:
    """/api/v1 and /mcp, always: pipelines and AI agents ask people through them, and get
    the answer back by long-poll or by the webhooks this surface delivers."""
    from baton.wire_api import attach_api, webhooks

    attach_api(web_app, app)
    transport = webhooks(app)  # its routes end with the server; its HTTP client here
    return Running("the API (/api/v1, webhooks) and MCP (/mcp)", transport, transport.close)
