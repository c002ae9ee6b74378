"""The Bot Connector client Baton builds once per service URL sends on Baton's one aiohttp
session (keep-alive, on the event loop), signed with the bot's token: msrest's default
pipeline, which sends with `requests` on a worker thread, is never used."""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from adapters.teams.connector import Connectors, Tokens
from tests.adapters.teams.harness import APP_ID, APP_PASSWORD
from tests.adapters.teams.mock_teams import MockTeams


async def test_replies_and_sends_go_out_on_batons_own_session(mock: MockTeams) -> None:
    seen: list[str] = []

    async def started(_: aiohttp.ClientSession, __: SimpleNamespace,
                      params: aiohttp.TraceRequestStartParams) -> None:
        seen.append(f"{params.method} {params.url.path}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(started)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        connectors = Connectors(Tokens(APP_ID, APP_PASSWORD, login_url=mock.login_url), session)
        client = connectors.client(mock.service_url)
        for n in range(2):
            await client.conversations.send_to_conversation("a:1on1", Activity(
                type="message", channel_id="msteams", text=f"hello {n}",
                from_property=ChannelAccount(id=f"28:{APP_ID}", name="Baton"),
                conversation=ConversationAccount(id="a:1on1")))
        assert connectors.client(mock.service_url) is client

    assert [call.kind for call in mock.calls] == ["send", "send"]
    assert all(call.token for call in mock.calls)  # signed
    assert seen == ["POST /v3/conversations/a:1on1/activities"] * 2
