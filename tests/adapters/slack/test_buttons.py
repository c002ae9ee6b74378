"""Card buttons over real HTTP: each acts as the person who clicked, refusals are told to
that person alone, reasons are asked in a modal, and every copy of the card is kept current."""

from __future__ import annotations

import json
from typing import Any

from tests.adapters.slack.harness import Server


async def item(server: Server, number: int) -> Any:
    async with server.app.database.unit_of_work() as uow:
        return await uow.items.get("acme", number)


def text_input(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


async def test_a_click_acts_as_the_clicker_and_every_copy_of_the_card_follows(
        server: Server) -> None:
    await server.slash("handoff <@U0BOB> Rotate the signing keys", user="U0ERIN")
    await server.deliver()
    channel_card, dm_card = server.mock.to("chat.postMessage")
    server.mock.calls.clear()

    clicked = await server.click("accept", 1, user="U0BOB")

    assert clicked.status == 200 and clicked.text == ""
    assert (await item(server, 1)).state.value == "active"
    await server.deliver()
    updates = server.mock.to("chat.update")
    assert sorted(u.args["channel"] for u in updates) == ["C0PLATFORM", "D0BOB"]
    assert all("active" in json.dumps(u.args["blocks"]) for u in updates)
    assert all("baton.accept" not in json.dumps(u.args["blocks"]) for u in updates)
    assert all("baton.done" in json.dumps(u.args["blocks"]) for u in updates)
    async with server.app.database.unit_of_work() as uow:
        first_post = (await uow.posts.of_item("acme", 1, "slack"))[0]
    assert (first_post.channel, channel_card.args["channel"]) == ("C0PLATFORM", "C0PLATFORM")
    thread = [c for c in server.mock.to("chat.postMessage") if "thread_ts" in c.args]
    assert [(t.args["channel"], t.args["thread_ts"], t.args["text"]) for t in thread] == [
        ("C0PLATFORM", first_post.ref, "<@U0BOB> accepted #1.")]
    assert dm_card.args["channel"] == "U0BOB"
    told = [c for c in server.mock.to("chat.postMessage") if c.args["channel"] == "U0ERIN"]
    assert told and told[0].args["text"] == "<@U0BOB> accepted #1."  # the requester's DM


async def test_every_button_without_a_reason(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Write the runbook", user="U0ERIN")
    assert (await server.click("accept", 1, user="U0BOB")).status == 200
    assert (await server.click("done", 1, user="U0BOB")).status == 200
    assert (await item(server, 1)).outcome.value == "done"

    await server.slash("exception Disk full on build-7", user="U0BOB")
    assert (await server.click("take", 2, user="U0ERIN")).status == 200
    assert (await item(server, 2)).owner == "erin"
    assert (await server.click("ack", 2, user="U0ERIN")).status == 200
    assert (await item(server, 2)).state.value == "active"

    await server.slash("approval Launch --approvers <@U0BOB> <@U0DAVE>", user="U0ERIN")
    assert (await server.click("approve", 3, user="U0DAVE")).status == 200
    assert (await item(server, 3)).outcome.value == "approved"

    await server.slash("handoff <@U0BOB> Blocked thing", user="U0ERIN")
    await server.slash("block #4 waiting on vendor", user="U0ERIN")
    assert (await server.click("unblock", 4, user="U0ERIN")).status == 200
    assert (await item(server, 4)).state.value == "open"
    assert (await server.click("cancel", 4, user="U0ERIN")).status == 200
    assert (await item(server, 4)).state.value == "cancelled"
    assert server.mock.hooks == []  # nothing refused


async def test_reason_buttons_open_a_modal_whose_submission_acts(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Migrate the queue", user="U0ERIN")
    await server.slash("exception Canary is flaky", user="U0ERIN")
    await server.slash("approval Raise the budget --approvers <@U0DAVE>", user="U0ERIN")
    await server.slash("handoff <@U0BOB> Patch the kernel", user="U0ERIN")
    await server.click("take", 2, user="U0BOB")
    await server.click("ack", 2, user="U0BOB")

    cases = [("decline", 1, "U0BOB", "no capacity"), ("resolve", 2, "U0BOB", "pinned it"),
             ("reject", 3, "U0DAVE", "over the limit"), ("block", 4, "U0BOB", "needs #1")]
    for verb, number, user, reason in cases:
        clicked = await server.click(verb, number, user=user)
        assert clicked.status == 200
        view = server.mock.to("views.open")[-1].args["view"]
        assert view["callback_id"] == "baton_reason"
        assert json.loads(view["private_metadata"])["number"] == number
        values: dict[str, Any] = {"reason": text_input(reason)}
        if verb == "block":
            values["on"] = {"type": "number_input", "value": "1"}
        submitted = await server.submit(view, values, user=user)
        assert submitted.status == 200 and submitted.text == "", submitted.text

    assert (await item(server, 1)).owner == "erin"  # declined: back with the requester
    assert (await item(server, 2)).outcome.value == "resolved"
    assert (await item(server, 3)).outcome.value == "rejected"
    blocked = await item(server, 4)
    assert (blocked.state.value, blocked.blocked_reason, blocked.blocked_on) == (
        "blocked", "needs #1", 1)


async def test_a_reason_modal_refused_by_the_core_says_why_in_the_form(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Migrate the queue", user="U0ERIN")
    await server.click("block", 1, user="U0BOB")
    view = server.mock.to("views.open")[-1].args["view"]

    empty = await server.submit(view, {"reason": text_input("  ")}, user="U0BOB")
    assert empty.json() == {"response_action": "errors",
                            "errors": {"reason": "A reason is needed."}}
    itself = await server.submit(view, {"reason": text_input("loop"),
                                        "on": {"type": "number_input", "value": "1"}},
                                 user="U0BOB")
    assert itself.json()["response_action"] == "errors"
    assert "can't be blocked on itself" in itself.json()["errors"]["reason"]
    assert (await item(server, 1)).state.value == "open"


async def test_a_refused_click_is_told_to_the_clicker_alone(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Rotate the signing keys", user="U0ERIN")

    refused = await server.click("accept", 1, user="U0DAVE")

    assert refused.status == 200
    hook = (await server.mock.wait_for_hooks(1))[0]
    assert hook.body["response_type"] == "ephemeral"
    assert hook.body["replace_original"] is False
    assert hook.body["text"] == ("Can't accept #1: that is for its owner <@U0BOB> (or whoever "
                                 "stands in for them). You can only comment on it.")
    assert (await item(server, 1)).state.value == "open"
    async with server.app.database.engine.connect() as conn:
        slack = await conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE surface = 'slack'")
        assert slack.scalar_one() == 2  # the card and bob's DM, nothing more


async def test_a_refused_click_on_the_home_tab_opens_a_notice(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Rotate the signing keys", user="U0ERIN")
    await server.click("done", 1, user="U0BOB", in_home=True)
    notice = server.mock.to("views.open")[-1].args["view"]
    assert notice["callback_id"] == "baton_notice"
    assert "Can't finish #1: it is open. You can accept, decline, reassign, block, snooze or " \
        "comment on it." in json.dumps(notice["blocks"])


async def test_a_click_from_the_home_tab_republishes_it(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Rotate the signing keys", user="U0ERIN")
    await server.click("accept", 1, user="U0BOB", in_home=True)
    published = server.mock.to("views.publish")
    assert published[-1].args["user_id"] == "U0BOB"
    assert "Rotate the signing keys" in json.dumps(published[-1].args["view"])


async def test_a_click_delivered_twice_acts_once(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Rotate the signing keys", user="U0ERIN")
    click = server.click_body("accept", 1, user="U0BOB")
    first = await server.interact(click)
    again = await server.interact(click)
    assert (first.status, again.status) == (200, 200)
    assert server.mock.hooks == []  # the second was not refused: it was not run at all
    async with server.app.database.unit_of_work() as uow:
        events = await uow.events.for_item("acme", 1)
    assert [e.action for e in events] == ["created", "accept"]


async def test_buttons_baton_did_not_make_are_ignored(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Rotate the signing keys", user="U0ERIN")
    for value in ("not json", json.dumps({"verb": "explode", "number": 1}),
                  json.dumps({"verb": "assign", "number": 1}),  # no card offers it
                  json.dumps({"verb": "accept", "number": -3}),
                  json.dumps({"verb": "done", "number": 1})):  # value says done, action accept
        sent = await server.click("accept", 1, user="U0BOB", value=value)
        assert sent.status == 200 and sent.text == ""
    assert (await item(server, 1)).state.value == "open"
    assert server.mock.hooks == []  # nothing ran, so nothing was refused either


async def test_a_reason_form_baton_did_not_make_is_refused_in_the_form(server: Server) -> None:
    await server.slash("handoff <@U0BOB> Migrate the queue", user="U0ERIN")
    await server.click("decline", 1, user="U0BOB")
    view = server.mock.to("views.open")[-1].args["view"]
    for meta in ("{", json.dumps({"verb": "accept", "number": 1})):
        sent = await server.submit({**view, "private_metadata": meta},
                                   {"reason": text_input("x")}, user="U0BOB")
        assert sent.json()["response_action"] == "errors"
    assert (await item(server, 1)).state.value == "open"
