"""What a surface's wiring gives `baton serve`: the surface running in this process, and the
shape of a wiring (baton/surfaces.py lists them)."""

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
