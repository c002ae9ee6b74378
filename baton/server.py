"""`baton serve`: one HTTP server with every surface this deployment configures, side by side,
and the jobs and outbox worker that deliver to all of them."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Sequence

from adapters.http.metrics import Metrics
from adapters.http.server import health_app, serve
from baton import wire_jobs
from baton.app import App
from baton.running import Running, Wiring
from baton.surfaces import wirings

log = logging.getLogger(__name__)


async def run_server(app: App, metrics: Metrics,
                     surfaces: Sequence[Wiring] | None = None) -> int:
    """Serve until cancelled: health endpoints, then each configured surface's routes (Baton's
    own, or `surfaces`)."""
    web_app = health_app(app.ready, metrics)
    running: list[Running] = []
    try:
        for wiring in wirings() if surfaces is None else surfaces:
            surface = await wiring(app, web_app, metrics)
            if surface is not None:
                running.append(surface)
        transports = [s.transport for s in running if s.transport is not None]
        jobs = wire_jobs.start(app, transports, metrics)
        # Everything built so far lives as long as the process: keep it out of the collector's
        # full passes, which otherwise walked ~200,000 objects in 60-90 ms pauses under load.
        gc.collect()
        gc.freeze()
        runner = await serve(web_app, app.settings.host, app.settings.port)
        on = "; ".join(s.description for s in running) or \
            "no chat surface (messages wait for `baton chat`)"
        print(f"Baton listening on http://{app.settings.host}:{app.settings.port} — {on}",
              flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await jobs.close()
            await runner.cleanup()
    finally:
        for surface in reversed(running):
            try:
                await surface.close()
            except Exception:  # one surface failing to close must not keep the rest open
                log.exception("closing %s failed", surface.description)
    return 0
