"""`baton serve`: the HTTP server with every surface and job this deployment configures."""

from __future__ import annotations

import asyncio
import gc

from adapters.http.server import METRICS, health_app, serve
from baton import wire_jobs
from baton.app import App
from baton.wire_slack import attach_slack


async def run_server(app: App) -> int:
    """Serve until cancelled: health endpoints, then each configured surface's routes."""
    web_app = health_app(app.ready)
    # Surfaces add their routes to `web_app` here (Slack: baton/wire_slack.py).
    slack = await attach_slack(web_app, app)  # its .transport delivers Slack's messages
    from baton.wire_api import attach_api  # imported here: `baton --help` stays quick

    attach_api(web_app, app)  # /api/v1 and /mcp: pipelines and AI agents
    # Jobs: the follow-up sweep and digests on every replica, the outbox worker where there
    # is a platform to deliver to (baton/wire_jobs.py).
    jobs = wire_jobs.start(app, slack.transport if slack else None, web_app[METRICS])
    if slack is not None and jobs.worker is not None:
        slack.surface.after_commands(jobs.worker.wake)  # new cards go out at once
    # Everything built so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise walked ~200,000 objects in 60-90 ms pauses under load.
    gc.collect()
    gc.freeze()
    runner = await serve(web_app, app.settings.host, app.settings.port)
    print(f"Baton listening on http://{app.settings.host}:{app.settings.port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await jobs.close()
        await runner.cleanup()
    return 0
