"""`baton serve`: one aiohttp application that platform adapters add their routes to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.http.metrics import Metrics

Readiness = Callable[[], Awaitable[tuple[bool, str]]]

#: The application's Metrics, for whatever adds routes or jobs to it (`app[METRICS]`).
METRICS = web.AppKey("metrics", Metrics)


def health_app(ready: Readiness, metrics: Metrics | None = None) -> web.Application:
    """The application with /healthz (process up), /readyz (database reachable, migrated) and
    /metrics (Prometheus text format); every request is counted by route and outcome."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ok, detail = await ready()
        return web.json_response({"status": "ready" if ok else "unavailable", "detail": detail},
                                 status=200 if ok else 503)

    metrics = metrics or Metrics()
    app = web.Application(middlewares=[metrics.count])
    app[METRICS] = metrics
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics.handle)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start listening; the caller keeps the runner and calls `cleanup()` to stop."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
