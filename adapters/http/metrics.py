"""Prometheus metrics for /metrics, in a registry of Baton's own (none of the library's
process-wide defaults), so two servers in one process never share a counter."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

Refresh = Callable[[], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Command latency buckets, in seconds: Slack wants its answer within 3 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """What /metrics shows. Surfaces time commands with `observe_command`; the outbox worker
    sets `outbox_depth` and counts `outbox_failures`, or registers an `on_scrape` refresh
    that reads them from the database just before each scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "baton_http_requests", "HTTP requests served, by route and outcome.",
            ["route", "outcome"], registry=self.registry)
        self.command_seconds = Histogram(
            "baton_command_seconds", "Time the core took to handle a command, by surface and "
            "command.", ["surface", "command"], buckets=LATENCY_BUCKETS,
            registry=self.registry)
        self.outbox_depth = Gauge(
            "baton_outbox_depth", "Outbox messages by state (pending, parked).", ["state"],
            registry=self.registry)
        self.outbox_failures = Counter(
            "baton_outbox_failures", "Failed outbox deliveries, by surface and kind (retry, "
            "permanent).", ["surface", "kind"], registry=self.registry)
        self._refreshes: list[Refresh] = []

    def on_scrape(self, refresh: Refresh) -> None:
        """Run `refresh` before each scrape (e.g. to set gauges from a database count)."""
        self._refreshes.append(refresh)

    def observe_command(self, surface: str, command: str, seconds: float) -> None:
        self.command_seconds.labels(surface, command).observe(seconds)

    async def render(self) -> bytes:
        for refresh in self._refreshes:
            try:
                await refresh()
            except Exception:  # a failing gauge must not take /metrics down with it
                log.exception("a metrics refresh failed")
        return generate_latest(self.registry)

    async def handle(self, _: web.Request) -> web.Response:
        body = await self.render()
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    @web.middleware
    async def count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count every request by its route (not its URL: no unbounded labels) and outcome."""
        # A mounted ASGI application (the MCP server) matches by resource, with no route.
        route = getattr(request.match_info, "route", None)
        resource = route.resource if route is not None else None
        name = resource.canonical if resource is not None else (
            "asgi" if route is None else "unmatched")
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            self.requests.labels(name, _outcome(status)).inc()
            log.debug("%s %s %s in %.1f ms", request.method, name, status,
                      (time.perf_counter() - started) * 1000)


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    return "client_error" if status < 500 else "server_error"
