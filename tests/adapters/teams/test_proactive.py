"""Proactive Teams messages over real HTTP: conversations kept when Baton is installed or first
spoken to, and through the outbox (botbuilder's connector, built once): new items' cards in the
team's channel, DMs in 1:1 chats Baton opens, every Teams copy of a card updated in place with
the change told in its thread, reminders and escalations by an injected clock, digests (the
weekly chart in the card), retries that honour Retry-After, and Teams' pace."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.teams.transport import TeamsTransport
from baton.wire_jobs import outbox_worker
from bot.context import Request
from bot.delivery import DeliveryFailed
from bot.items import State
from bot.messages import Audience, Outgoing
from bot.rich import text
from jobs.pacing import Pacer
from tests.adapters.teams.harness import (
    BOT,
    CHANNEL,
    GROUP,
    TEAM_ID,
    USERS,
    Server,
    activity,
    shown,
    start_server,
    stop_server,
)
from tests.adapters.teams.mock_teams import TENANT, Fail, MockTeams
from tests.fakes import FakeClock

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # a Friday


def installed(server: Server, where: str = "team", action: str = "add") -> dict[str, Any]:
    """The installationUpdate Teams sends when the app is added to the platform team (in its
    channel) or a group chat, from the capture."""
    body = activity("installationUpdate.add.team.msteams-docs.json")
    body.update(serviceUrl=server.mock.service_url, action=action,
                recipient={"id": BOT, "name": "Baton"},
                id=f"f:install-{where}-{action}")
    body["from"] = server.user("alice")
    if where == "team":
        body["conversation"] = {"isGroup": True, "id": CHANNEL, "conversationType": "channel",
                                "tenantId": TENANT}
        body["channelData"] = {"channel": {"id": CHANNEL}, "team": {"id": TEAM_ID},
                               "tenant": {"id": TENANT}, "settings": {
                                   "selectedChannel": {"id": CHANNEL}}}
    else:
        body["conversation"] = {"isGroup": True, "id": GROUP, "conversationType": "groupChat",
                                "tenantId": TENANT}
        body["channelData"] = {"tenant": {"id": TENANT}}
    return body


def added(server: Server, *, removed: bool = False) -> dict[str, Any]:
    """conversationUpdate: Baton added to (or removed from) the group chat."""
    body = activity("conversationUpdate.bot_added_to_team.msteams-docs.json")
    body.pop("membersAdded", None)
    body.update(serviceUrl=server.mock.service_url, recipient={"id": BOT, "name": "Baton"},
                id=f"f:update-{removed}",
                conversation={"isGroup": True, "id": GROUP, "conversationType": "groupChat",
                              "tenantId": TENANT},
                channelData={"tenant": {"id": TENANT}})
    body["membersRemoved" if removed else "membersAdded"] = [{"id": BOT}]
    body["from"] = server.user("alice")
    return body


async def kept(server: Server) -> dict[str, tuple[str, str, str]]:
    async with server.app.database.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(
            "SELECT id, kind, team, tenant, reference FROM conversations")).all()
    out = {}
    for row in rows:
        reference = json.loads(row[4]) if isinstance(row[4], str) else row[4]
        out[row[0]] = (row[1], row[2], reference["serviceUrl"])
        assert row[3] == TENANT
    return out


async def as_console(server: Server, person: str, line: str) -> None:
    """A change made on another surface (the console), as the core sees it."""
    reply = await server.app.baton.run(Request("acme", person, "console"), line)
    assert reply.ok, reply.text


async def item(server: Server, number: int):  # type: ignore[no-untyped-def]
    async with server.app.database.unit_of_work() as uow:
        return await uow.items.get("acme", number)


async def outbox(server: Server) -> list[tuple[str, str, str, str]]:
    async with server.app.database.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(
            "SELECT delivery, \"to\", state, last_error FROM outbox WHERE surface='teams' "
            "ORDER BY id")).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def dm_of(person: str) -> str:
    return f"a:chat-with-{USERS[person][0]}"


# --- where Baton is ------------------------------------------------------------------------

async def test_installation_and_removal_keep_and_forget_conversations(server: Server) -> None:
    assert (await server.post(installed(server))).status == 200
    assert (await server.post(added(server))).status == 200
    found = await kept(server)
    assert found == {CHANNEL: ("channel", TEAM_ID, server.mock.service_url),
                     GROUP: ("groupChat", "", server.mock.service_url)}
    assert server.mock.calls == []  # nothing said, nothing asked of Teams

    # A first message in a 1:1 chat keeps that chat too (Baton may DM there later).
    await server.say("mine", user="bob")
    assert (await kept(server))["a:1personal-chat-with-bob"][0] == "personal"

    assert (await server.post(added(server, removed=True))).status == 200
    assert (await server.post(installed(server, action="remove"))).status == 200
    assert set(await kept(server)) == {"a:1personal-chat-with-bob"}


async def test_a_new_item_from_another_surface_reaches_teams(server: Server) -> None:
    await server.post(installed(server))
    await as_console(server, "alice", "handoff @bob Renew the certificates")
    await server.deliver()

    [channel] = server.mock.of("send", CHANNEL)
    card = channel.cards[0]
    assert shown(card["body"][0]) == "Handoff #1: Renew the certificates"
    assert "actions" not in card and card["refresh"]["userIds"]
    # Bob had no chat with Baton: one is opened in the tenant, his card has his buttons.
    [created] = server.mock.of("create")
    assert created.body["members"] == [{"id": USERS["bob"][0]}]
    assert created.body["channelData"] == {"tenant": {"id": TENANT}}
    [dm] = server.mock.of("send", dm_of("bob"))
    assert [a["title"] for a in dm.cards[0]["actions"]][:2] == ["Accept", "Decline…"]
    # The chat Baton opened is kept: the next DM goes straight there.
    await as_console(server, "alice", "handoff @bob Renew the other certificates")
    await server.deliver()
    assert len(server.mock.of("create")) == 1
    assert len(server.mock.of("send", dm_of("bob"))) == 2


async def test_nothing_reaches_teams_before_it_is_installed(server: Server) -> None:
    await as_console(server, "alice", "handoff @bob Renew the certificates")
    await server.deliver()
    assert server.mock.calls == []
    reasons = {why for _, _, state, why in await outbox(server) if state == "skipped"}
    assert any("not been added to Teams" in why for why in reasons), reasons


async def test_a_person_teams_will_not_reach_is_said_not_lost(
        timed: tuple[Server, FakeClock]) -> None:
    """Teams will not open a chat with Bob (the app is not installed for him) and he is on
    no other surface: the item's trail, its card's thread and Alice (who asked, with her
    card) are told, once."""
    server, clock = timed
    await server.post(installed(server))
    server.mock.unreachable.add(USERS["bob"][0])
    await as_console(server, "alice", "handoff @bob Renew the certificates")
    worker = outbox_worker(server.app, [server.transport])
    await worker.drain()
    assert server.mock.of("send", dm_of("bob")) == []
    person = [row for row in await outbox(server) if row[:2] == ("person", "bob")]
    assert [row[2] for row in person] == ["skipped"]
    assert "would not open a chat" in person[0][3] and "installed" in person[0][3]

    async with server.app.database.engine.connect() as conn:
        trail = (await conn.exec_driver_sql(
            "SELECT actor, action, surface FROM events ORDER BY id")).all()
    assert [tuple(r) for r in trail] == [("alice", "created", "console"),
                                         ("baton", "unreachable", "outbox")]
    [channel] = server.mock.of("send", CHANNEL)
    [told] = server.mock.of("reply", CHANNEL)
    assert told.activity_id == channel.id
    assert "could not reach" in told.text and "Bob Okafor" in told.text
    assert "would not open a chat" in told.text
    [alices] = server.mock.of("send", dm_of("alice"))
    assert "could not reach" in alices.text and shown(alices.cards[0]["body"][0]) == \
        "Handoff #1: Renew the certificates"

    # A reminder to Bob later: reached nowhere again, but said only once.
    clock.advance(timedelta(hours=3, minutes=5))  # 75 % of the 4 h to acknowledge
    await server.app.baton.tick("acme", clock.now())
    await worker.drain()
    assert [row[2] for row in await outbox(server) if row[:2] == ("person", "bob")] == \
        ["skipped", "skipped"]
    async with server.app.database.engine.connect() as conn:
        count = (await conn.exec_driver_sql(
            "SELECT count(*) FROM events WHERE action='unreachable'")).scalar_one()
    assert count == 1


async def test_a_change_anywhere_updates_every_teams_copy_and_tells_the_thread(
        server: Server) -> None:
    await server.post(installed(server))
    await as_console(server, "alice", "handoff @bob Renew the certificates")
    await server.deliver()
    [channel] = server.mock.of("send", CHANNEL)
    [dm] = server.mock.of("send", dm_of("bob"))
    server.mock.calls.clear()

    await as_console(server, "bob", "accept #1")
    await server.deliver()
    updates = {u.conversation: u for u in server.mock.of("update")}
    assert set(updates) == {CHANNEL, dm_of("bob")}
    assert updates[CHANNEL].activity_id == channel.id
    assert updates[dm_of("bob")].activity_id == dm.id
    for update in updates.values():
        shown = json.dumps(update.cards[0])
        assert '"value": "active"' in shown
    assert "Accept" not in json.dumps(updates[dm_of("bob")].cards[0].get("actions"))
    # The change told under the channel's card, in its thread.
    [told] = server.mock.of("reply", CHANNEL)
    assert told.activity_id == channel.id and "accepted" in told.text and "#1" in told.text

    # A copy deleted in Teams does not stop the others.
    server.mock.calls.clear()
    server.mock.fail("update", Fail(404, code="ActivityNotFoundInConversation"))
    posts = await server.transport.views.posts("acme", 1)
    await as_console(server, "bob", "done #1")
    await server.deliver()
    # Every copy (the channel's, Bob's DM, and the one in Alice's DM that told her Bob
    # accepted) tried, the first one gone: the others still updated, nothing failed.
    assert [(u.conversation, u.activity_id) for u in server.mock.of("update")] == \
        [(p.channel, p.ref) for p in posts] and len(posts) == 3
    assert server.failures == []
    assert (await item(server, 1)).state is State.DONE


# --- timers ----------------------------------------------------------------------------------

@pytest.fixture
async def timed(tmp_path: Path, mock: MockTeams) -> AsyncIterator[tuple[Server, FakeClock]]:
    clock = FakeClock(START)
    running = await start_server(tmp_path, mock, clock=clock)
    try:
        yield running, clock
    finally:
        await stop_server(running)


async def test_reminders_and_escalations_arrive_by_the_clock(
        timed: tuple[Server, FakeClock]) -> None:
    server, clock = timed
    await server.post(installed(server))
    await server.say("handoff <at>Bob Okafor</at> Rotate the keys",
                     mentions=[("Bob Okafor", USERS["bob"][1], "Bob Okafor")])
    await server.deliver()
    server.mock.calls.clear()

    clock.advance(timedelta(hours=3, minutes=5))  # 75 % of the 4 h to acknowledge
    await server.app.baton.tick("acme", clock.now())
    await server.deliver()
    [reminder] = server.mock.of("send", dm_of("bob"))
    assert "#1" in reminder.text and "remind" in reminder.shown().lower()

    server.mock.calls.clear()
    clock.advance(timedelta(hours=6))  # past the breach, the lead's step and the channel's
    await server.app.baton.tick("acme", clock.now())
    await server.deliver()
    posted = server.mock.posted()
    assert posted, "no escalation delivered"
    where = {c.conversation for c in posted}
    assert dm_of("bob") in where  # the owner, at breach
    assert CHANNEL in where  # the team's channel, four hours on
    # Alice (the lead) is reached in the 1:1 chat she had spoken to Baton in.
    assert "a:1personal-chat-with-alice" in where


async def test_digests_on_demand_and_the_weekly_chart_as_an_image(server: Server) -> None:
    await server.post(installed(server))
    await server.say("handoff <at>Bob Okafor</at> Rotate the keys",
                     mentions=[("Bob Okafor", USERS["bob"][1], "Bob Okafor")])
    await server.say("block #1 Waiting on the vendor", user="bob")
    worker = outbox_worker(server.app, [server.transport])
    await worker.drain()
    server.mock.calls.clear()

    await server.say("digest --team platform")
    await server.say("digest --team platform --weekly")
    await worker.drain()
    daily, weekly = server.mock.of("send", CHANNEL)
    assert "Rotate the keys" in daily.shown() and "Waiting on the vendor" in daily.shown()
    [card] = weekly.cards
    [image] = [b for b in card["body"] if b["type"] == "Image"]
    assert image["url"].startswith("data:image/png;base64,")
    assert weekly.body.get("summary")


# --- the connector, its pace and its failures ----------------------------------------------

def dm(text_: str, to: str = "alice") -> Outgoing:
    return Outgoing("acme", Audience.PERSON, to, text(text_), key=f"test:{text_}")


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_teams_asking_to_wait_is_retried_after_retry_after(server: Server,
                                                                 status: int) -> None:
    await server.say("mine")  # Alice's chat is kept
    server.mock.calls.clear()
    server.mock.fail("send", Fail(status, retry_after=7))
    with pytest.raises(DeliveryFailed) as failed:
        await server.transport.deliver(dm("hello"))
    assert (failed.value.permanent, failed.value.retry_after) == (False, 7.0)
    await server.transport.deliver(dm("hello"))
    assert len(server.mock.of("send")) == 2


async def test_what_retrying_cannot_mend_is_parked_not_retried(server: Server) -> None:
    await server.say("mine")
    server.mock.fail("send", Fail(400, code="BadArgument"))
    with pytest.raises(DeliveryFailed) as failed:
        await server.transport.deliver(dm("hello"))
    assert failed.value.permanent


async def test_the_worker_waits_as_long_as_teams_asks(
        timed: tuple[Server, FakeClock]) -> None:
    server, clock = timed
    await server.say("mine")
    await server.post(installed(server))
    server.mock.calls.clear()
    server.mock.fail("send", Fail(429, retry_after=30))
    await server.say("digest --team platform")
    worker = outbox_worker(server.app, [server.transport])
    await worker.drain()
    assert len(server.mock.of("send", CHANNEL)) == 1  # refused once
    clock.advance(timedelta(seconds=20))
    await worker.drain()
    assert len(server.mock.of("send", CHANNEL)) == 1  # not before Retry-After
    clock.advance(timedelta(seconds=15))
    await worker.drain()
    assert len(server.mock.of("send", CHANNEL)) == 2  # then once
    assert [r[2] for r in await outbox(server) if r[0] == "team"] == ["sent"]


async def test_one_sign_in_one_client_one_connection(server: Server) -> None:
    await server.post(installed(server))
    for n in range(5):
        await as_console(server, "alice", f"handoff @bob Task {n}")
    await server.deliver()
    assert server.mock.sign_ins == 1
    peers = {c.peer for c in server.mock.calls}
    assert len(server.mock.calls) >= 10 and len(peers) == 1, peers
    transport: TeamsTransport = server.transport
    client = transport.connectors.client(server.mock.service_url)
    assert transport.connectors.client(server.mock.service_url) is client


def test_the_pace_keeps_under_teams_limits() -> None:
    """7 a second, 8 in two seconds and 60 in thirty, per conversation: the slots the worker's
    pacer books for 200 messages queued at once."""
    pacer = Pacer(TeamsTransport.pacing)
    now = START
    slots = [pacer.reserve("conversation", now) for _ in range(200)]
    seconds = [(s - START).total_seconds() for s in slots]

    def most_within(window: float) -> int:
        return max(sum(1 for t in seconds if start <= t < start + window)
                   for start in seconds)

    assert most_within(1) <= 7 and most_within(2) <= 8 and most_within(30) <= 60
    assert most_within(30) >= 50  # and not much slower than Teams allows


async def test_one_tenant_waits_for_room_in_its_window(server: Server) -> None:
    """Teams' limit per tenant (50 requests a second), here 2 a second: the third request in
    a second waits for the first to leave the window (a moving one), none is refused."""
    await server.say("mine")  # Alice's chat is kept
    server.mock.calls.clear()
    base = server.transport
    transport = TeamsTransport(base.connectors, base.kept, base.people, base.composer,
                               base.views, tenant_rate="2/second")
    started = time.monotonic()
    for n in range(3):
        await transport.deliver(dm(f"hello {n}"))
    assert time.monotonic() - started >= 0.9
    assert [c.text for c in server.mock.of("send")] == ["hello 0", "hello 1", "hello 2"]


async def test_a_refused_token_is_renewed_and_the_message_retried(server: Server) -> None:
    await server.say("mine")
    assert server.mock.sign_ins == 1
    server.mock.fail("send", Fail(401, code="Unauthorized"))
    with pytest.raises(DeliveryFailed) as failed:
        await server.transport.deliver(dm("hello"))
    assert not failed.value.permanent and "token was refused" in str(failed.value)
    await server.transport.deliver(dm("hello"))
    assert server.mock.sign_ins == 2
    assert server.mock.of("send")[-1].token == server.mock.issued[-1]


async def test_items_changing_at_once_share_their_channels_pace(server: Server) -> None:
    """Two items' updates and thread lines count in their channel's pace (Teams counts per
    conversation), once the channel is known from their cards."""
    await server.post(installed(server))
    for title in ("One", "Two"):
        await as_console(server, "alice", f"handoff @bob {title}")
    await server.deliver()
    channel = f"acme/teams-conversation/{CHANNEL}"
    for number in (1, 2):
        for audience in (Audience.CARD_UPDATE, Audience.THREAD):
            message = Outgoing("acme", audience, str(number), text("x"),
                               key=f"k{number}{audience}", item=number)
            places = server.transport.places(message)
            assert places == (f"acme/item/{number}", channel), places
    # A DM is paced in its own conversation only.
    assert server.transport.places(dm("hi")) == ("acme/person/alice",)
