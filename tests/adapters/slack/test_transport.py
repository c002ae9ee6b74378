"""The Slack transport the outbox worker calls: Web API retries (429 with Retry-After, 5xx),
what a final failure means (try later, and when; or give up), posting a card once, keeping
every copy current, and finding a post whose outcome was lost."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from baton import wire_jobs
from bot import rich
from bot.delivery import DeliveryFailed, NotHere
from bot.messages import Audience, Outgoing
from tests.adapters.slack.harness import Server, start_server, stop_server
from tests.adapters.slack.mock_slack import Fail, MockSlack


def channel_message(text: str = "Digest: all clear.", key: str = "k1") -> Outgoing:
    return Outgoing("acme", Audience.TEAM, "platform", rich.text(text), key)


async def failure(server: Server, message: Outgoing) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as raised:
        await server.slack.transport.deliver(message)
    return raised.value


async def test_429_then_500_then_200_is_delivered_once_honouring_retry_after(
        server: Server) -> None:
    server.mock.fail("chat.postMessage", Fail(429, retry_after=1), Fail(500))
    started = time.monotonic()

    await server.slack.transport.deliver(channel_message())

    assert time.monotonic() - started >= 1.0  # waited out Retry-After
    assert len(server.mock.to("chat.postMessage")) == 3
    assert len(server.mock.posted["C0PLATFORM"]) == 1


async def test_a_long_retry_after_goes_back_to_the_outbox_with_it(server: Server) -> None:
    server.mock.fail("chat.postMessage", Fail(429, retry_after=30))
    started = time.monotonic()
    failed = await failure(server, channel_message())
    assert time.monotonic() - started < 2  # not waited out in place
    assert (failed.retry_after, failed.permanent) == (30.0, False)
    assert "rate limited" in str(failed)


async def test_server_errors_that_persist_are_tried_again_later(server: Server) -> None:
    server.mock.fail("chat.postMessage", Fail(500), Fail(503), Fail(500))
    failed = await failure(server, channel_message())
    assert (failed.permanent, failed.retry_after) == (False, None)
    assert len(server.mock.to("chat.postMessage")) == 3


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_auth",
                                   "account_inactive"])
async def test_errors_retrying_cannot_fix_are_permanent(server: Server, error: str) -> None:
    server.mock.fail("chat.postMessage", Fail(error=error))
    failed = await failure(server, channel_message())
    assert failed.permanent
    assert str(failed) == f"chat.postMessage: {error}"


async def test_an_unreachable_slack_is_tried_again_later(tmp_path: Path,
                                                         mock: MockSlack) -> None:
    server = await start_server(tmp_path, mock, slack_api_url="http://127.0.0.1:9/api/")
    try:
        failed = await failure(server, channel_message())
    finally:
        await stop_server(server)
    assert not failed.permanent
    assert str(failed).startswith("chat.postMessage: ")


async def test_a_card_delivered_again_updates_the_copy_it_posted(server: Server) -> None:
    await server.slash("exception Card once")
    async with server.app.database.unit_of_work() as uow:
        card = next(q.message for q in await uow.outbox.claim(10, server.app.clock.now())
                    if q.message.audience is Audience.CARD)
    await server.slack.transport.deliver(card)
    await server.slack.transport.deliver(card)
    assert len(server.mock.to("chat.postMessage")) == 1
    assert len(server.mock.to("chat.update")) == 1


async def test_a_deleted_copy_does_not_stop_the_others_being_updated(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Two copies", user="U0ERIN")
    await server.deliver()
    server.mock.fail("chat.update", Fail(error="message_not_found"))
    await server.click("accept", 1, user="U0BOB")
    await server.deliver()
    assert len(server.mock.to("chat.update")) == 2
    assert server.failures == []


async def test_a_card_shows_the_item_as_it_is_when_delivered(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Late card", user="U0ERIN")
    await server.click("accept", 1, user="U0BOB")  # before the card went out
    await server.deliver()
    posted = server.mock.to("chat.postMessage")[0].args
    assert posted["channel"] == "C0PLATFORM"
    assert "*State*\\nactive" in json.dumps(posted["blocks"])


async def test_a_dm_needs_a_slack_user(server: Server) -> None:
    message = Outgoing("acme", Audience.PERSON, "carol", rich.text("Hello Carol"), "dm-carol")
    with pytest.raises(NotHere, match="carol has no Slack user"):  # not on Slack: skipped
        await server.slack.transport.deliver(message)

    await server.slash("mine", user="U0CAROL")  # users.info: carol@example.com is carol
    await server.slack.transport.deliver(message)
    assert server.mock.to("chat.postMessage")[-1].args["channel"] == "U0CAROL"


async def test_a_long_message_is_shortened_with_a_notice_never_cut_silently(
        server: Server) -> None:
    lines = "\n".join(f"- item {i}: " + "x" * 150 for i in range(1200))
    await server.slack.transport.deliver(channel_message(lines))
    blocks = server.mock.to("chat.postMessage")[0].args["blocks"]
    shown = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(blocks) <= 50 and sum(map(len, shown)) <= 40_000
    assert shown[0].startswith("- item 0: ")
    assert "too long for one Slack message" in blocks[-1]["elements"][0]["text"]


async def test_a_post_whose_outcome_was_lost_is_found_not_posted_again(
        server: Server) -> None:
    await server.slash("handoff <@U0BOB> Lost outcome", user="U0ERIN")
    async with server.app.database.unit_of_work() as uow:
        queued = await uow.outbox.claim(10, server.app.clock.now())
    card, dm = (q.message for q in queued if q.surface == "slack")
    transport = server.slack.transport
    assert not await transport.delivered_already(card)
    assert not await transport.delivered_already(dm)
    await transport.deliver(card)
    await transport.deliver(dm)
    async with server.app.database.engine.begin() as conn:
        await conn.exec_driver_sql("DELETE FROM card_posts")  # as if the worker died there

    assert await transport.delivered_already(card)
    assert await transport.delivered_already(dm)
    async with server.app.database.unit_of_work() as uow:
        posts = await uow.posts.of_item("acme", 1, "slack")
    assert sorted(p.channel for p in posts) == ["C0PLATFORM", "D0BOB"]  # recorded again
    other = Outgoing("acme", Audience.TEAM, "C0PLATFORM", rich.text("never sent"), "other-key")
    assert not await transport.delivered_already(other)


async def test_a_workspace_baton_is_not_installed_in_is_permanent(server: Server) -> None:
    message = Outgoing("elsewhere", Audience.TEAM, "C0X", rich.text("hi"), "k")
    failed = await failure(server, message)
    assert failed.permanent and "not installed" in str(failed)


async def test_a_digest_chart_is_uploaded_under_the_digest(server: Server,
                                                          tmp_path: Path) -> None:
    chart = tmp_path / "weekly-acme-platform.png"
    chart.write_bytes(b"\x89PNG chart bytes")
    digest = Outgoing("acme", Audience.TEAM, "platform", rich.text("Weekly digest"),
                      "weekly-1", attachment=str(chart))
    await server.slack.transport.deliver(digest)
    complete = server.mock.to("files.completeUploadExternal")[0].args
    assert complete["channel_id"] == "C0PLATFORM"
    assert list(server.mock.uploads.values()) == [b"\x89PNG chart bytes"]

    server.mock.fail("files.getUploadURLExternal", Fail(error="missing_scope"))
    await server.slack.transport.deliver(digest)  # the text went; the chart is logged lost
    assert len(server.mock.posted["C0PLATFORM"]) == 2


async def test_the_outbox_worker_delivers_through_the_transport_at_once(
        server: Server) -> None:
    running = wire_jobs.start(server.app, [server.slack.transport])
    assert running.worker is not None  # the core wakes it after each command
    try:
        await server.slash("handoff <@U0BOB> Delivered by the worker", user="U0ERIN")
        started = time.monotonic()
        posts = await server.mock.wait_for("chat.postMessage", 2)
        assert time.monotonic() - started < 0.9  # woken, not left to its 1 s poll
        by_channel = {p.args["channel"]: p.args for p in posts}
        assert set(by_channel) == {"C0PLATFORM", "U0BOB"}
        assert by_channel["C0PLATFORM"]["metadata"] == {
            "event_type": "baton_outbox_message",
            "event_payload": {"key": "acme:1:card:platform"}}

        await server.click("accept", 1, user="U0BOB")  # the thread line follows the channel
        thread = (await server.mock.wait_for("chat.postMessage", 4))
        replies = [p.args for p in thread if p.args.get("thread_ts")]
        assert [(r["channel"], r["text"]) for r in replies] == [
            ("C0PLATFORM", "<@U0BOB> accepted #1.")]
    finally:
        await running.close()
