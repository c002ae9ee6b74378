"""/metrics in Prometheus text format: requests by route and outcome, and the outbox gauges
the delivery worker keeps current through `on_scrape`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.http.metrics import Metrics
from adapters.http.server import METRICS, health_app, serve


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def ready() -> tuple[bool, str]:
    return True, "ok"


@pytest.fixture
async def bare() -> AsyncIterator[tuple[str, Metrics]]:
    app = health_app(ready)
    runner = await serve(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", app[METRICS]
    finally:
        await runner.cleanup()


async def test_requests_are_counted_by_route_and_outcome(bare: tuple[str, Metrics]) -> None:
    url, _ = bare
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/healthz", "/readyz", "/nowhere"):
            async with http.get(url + path):
                pass
        async with http.get(url + "/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=")
            found = samples(await response.text())
    assert found[("baton_http_requests_total", (("outcome", "ok"), ("route", "/healthz")))] == 2
    assert found[("baton_http_requests_total", (("outcome", "ok"), ("route", "/readyz")))] == 1
    assert found[("baton_http_requests_total", (("outcome", "client_error"),
                                                ("route", "unmatched")))] == 1


async def test_the_worker_refreshes_outbox_gauges_on_each_scrape(
        bare: tuple[str, Metrics]) -> None:
    url, metrics = bare
    depth = iter([3, 7])

    async def refresh() -> None:
        metrics.outbox_depth.labels("pending").set(next(depth))

    async def broken() -> None:
        raise RuntimeError("database away")

    metrics.on_scrape(refresh)
    metrics.on_scrape(broken)  # one failing refresh does not take /metrics down
    metrics.outbox_failures.labels("slack", "permanent").inc()
    async with aiohttp.ClientSession() as http:
        readings = []
        for _ in range(2):
            async with http.get(url + "/metrics") as response:
                assert response.status == 200
                readings.append(samples(await response.text()))
    assert [r[("baton_outbox_depth", (("state", "pending"),))] for r in readings] == [3, 7]
    assert readings[0][("baton_outbox_failures_total", (("kind", "permanent"),
                                                        ("surface", "slack")))] == 1


def test_two_servers_in_one_process_keep_their_own_counts() -> None:
    first, second = health_app(ready), health_app(ready)
    first[METRICS].requests.labels("/healthz", "ok").inc()
    assert first[METRICS].registry is not second[METRICS].registry
    labels = {"route": "/healthz", "outcome": "ok"}
    assert first[METRICS].registry.get_sample_value("baton_http_requests_total", labels) == 1
    assert second[METRICS].registry.get_sample_value("baton_http_requests_total", labels) \
        is None
