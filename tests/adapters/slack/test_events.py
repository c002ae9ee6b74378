"""Events over real HTTP: the reaction trigger, the App Home tab (and its republishing when a
person's items change), @Baton mentions, URL verification, and Slack's retries acting once."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.adapters.slack.harness import Server


async def item(server: Server, number: int) -> Any:
    async with server.app.database.unit_of_work() as uow:
        return await uow.items.get("acme", number)


def reaction(emoji: str, *, user: str = "U0ERIN", channel: str = "C0PLATFORM",
             ts: str = "1700000200.000100") -> dict[str, Any]:
    return {"type": "reaction_added", "user": user, "reaction": emoji, "item_user": "U0BOB",
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": f"{time.time():.6f}"}


def home_opened(user: str) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
            "event_ts": f"{time.time():.6f}"}


async def test_the_configured_reaction_raises_an_exception_from_the_message(
        server: Server) -> None:
    server.mock.messages[("C0PLATFORM", "1700000200.000100")] = \
        "Payments are timing out for EU customers &amp; retries pile up\nsee graph"

    sent = await server.event(reaction("rotating_light"), sample="events.reaction_added.json")

    assert sent.status == 200
    note = (await server.mock.wait_for("chat.postEphemeral"))[0].args
    assert (note["channel"], note["user"], note["text"]) == ("C0PLATFORM", "U0ERIN",
                                                              "Created #1.")
    raised = await item(server, 1)
    assert raised.kind.value == "exception"
    assert raised.title == "Payments are timing out for EU customers & retries pile up"
    assert raised.details.endswith("see graph")
    assert raised.requester == "erin"
    assert raised.source.permalink.endswith("/C0PLATFORM/p1700000200000100")
    await server.settle()

    # Another person reacting the same way to the same message raises nothing more.
    await server.event(reaction("rotating_light", user="U0BOB"),
                       sample="events.reaction_added.json")
    other = await server.event(reaction("thumbsup", ts="1700000200.000999"),
                               sample="events.reaction_added.json")
    assert other.status == 200
    await server.settle()
    assert await server.count("items") == 1


async def test_a_message_in_a_thread_is_found_among_the_replies(server: Server) -> None:
    server.mock.messages[("C0PLATFORM", "1700000300.000500")] = "Reply in a thread"
    original_history = server.mock._conversations_history
    server.mock._conversations_history = (  # type: ignore[method-assign]
        lambda args, token: {**original_history({"channel": "none"}, token)})
    await server.event(reaction("rotating_light", ts="1700000300.000500"),
                       sample="events.reaction_added.json")
    await server.mock.wait_for("chat.postEphemeral")
    assert (await item(server, 1)).title == "Reply in a thread"
    assert server.mock.to("conversations.replies")[0].args["ts"] == "1700000300.000500"


async def test_the_home_tab_shows_my_items_and_my_teams_board(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Rotate the signing keys", user="U0ERIN")
    await server.slash("approval Buy licences --approvers <@U0BOB>", user="U0ERIN")

    sent = await server.event(home_opened("U0BOB"), sample="events.app_home_opened.org_app.json")

    assert sent.status == 200
    published = (await server.mock.wait_for("views.publish"))[0].args
    assert published["user_id"] == "U0BOB"
    view = json.dumps(published["view"])
    assert published["view"]["type"] == "home"
    assert "Rotate the signing keys" in view  # mine
    assert "Waiting on your decision (1)" in view and "Buy licences" in view
    assert "Team board: #platform" in view
    assert "baton.new.handoff" in view


async def test_the_home_tab_is_republished_when_the_persons_items_change(
        server: Server) -> None:
    await server.event(home_opened("U0BOB"), sample="events.app_home_opened.org_app.json")
    await server.mock.wait_for("views.publish")
    await server.settle()

    await server.slash("handoff <@U0BOB> Fresh work", user="U0ERIN")
    await server.deliver()
    await server.settle()

    published = server.mock.to("views.publish")
    assert len(published) == 2  # a burst of messages (card, DM) republishes once
    assert "Fresh work" in json.dumps(published[-1].args["view"])
    assert all(p.args["user_id"] == "U0BOB" for p in published)  # erin never opened it


async def test_a_mention_is_a_command_answered_to_its_sender(server: Server) -> None:
    mention = {"type": "app_mention", "user": "U0BOB", "channel": "C0PLATFORM",
               "text": "<@UBATONBOT> exception Lost the staging database",
               "ts": "1700000400.000100", "event_ts": "1700000400.000100"}
    sent = await server.event(mention, sample="events.app_mention.json")
    assert sent.status == 200
    note = (await server.mock.wait_for("chat.postEphemeral"))[0].args
    assert (note["user"], note["text"]) == ("U0BOB", "Created #1.")
    assert (await item(server, 1)).source.channel == "C0PLATFORM"


async def test_an_event_retried_by_slack_acts_once(server: Server) -> None:
    server.mock.messages[("C0PLATFORM", "1700000200.000100")] = "Disk full"
    event = reaction("rotating_light")
    first = await server.event(event, sample="events.reaction_added.json", event_id="Ev0RETRY")
    retry = await server.event(event, sample="events.reaction_added.json", event_id="Ev0RETRY",
                               headers={"X-Slack-Retry-Num": "1",
                                        "X-Slack-Retry-Reason": "http_timeout"})
    assert (first.status, retry.status) == (200, 200)
    await server.mock.wait_for("chat.postEphemeral")
    await server.settle()
    assert len(server.mock.to("conversations.history")) == 1
    assert await server.count("items") == 1


async def test_url_verification_answers_the_challenge(server: Server) -> None:
    from tests.adapters.slack.harness import payload
    body = json.dumps(payload("events.url_verification.json"))
    sent = await server.post(body, content_type="application/json")
    assert sent.status == 200
    assert sent.json() == {"challenge": payload("events.url_verification.json")["challenge"]}
