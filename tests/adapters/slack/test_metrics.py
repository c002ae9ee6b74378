"""Slack's requests and the core's command latency in /metrics."""

from __future__ import annotations

from tests.adapters.http.test_metrics import samples
from tests.adapters.slack.harness import Server


async def test_slack_requests_and_command_latency_show_in_metrics(server: Server) -> None:
    await server.slash("exception Measured")
    await server.slash("accept #1")
    await server.post("text=forged", signed=False)
    async with server.http.get(f"{server.url}/metrics") as response:
        found = samples(await response.text())
    assert found[("baton_http_requests_total", (("outcome", "ok"),
                                                ("route", "/slack/events")))] == 2
    assert found[("baton_http_requests_total", (("outcome", "client_error"),
                                                ("route", "/slack/events")))] == 1
    assert found[("baton_command_seconds_count", (("command", "create"),
                                                  ("surface", "slack")))] == 1
    assert found[("baton_command_seconds_count", (("command", "accept"),
                                                  ("surface", "slack")))] == 1
