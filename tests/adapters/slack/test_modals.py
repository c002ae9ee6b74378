"""Modals over real HTTP: a form to raise each kind, the "Track with Baton" message shortcut
(prefilled, keeping the message's permalink), the global shortcut, and errors in the form."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.adapters.slack.harness import TEAM, Server, payload, unique


async def item(server: Server, number: int) -> Any:
    async with server.app.database.unit_of_work() as uow:
        return await uow.items.get("acme", number)


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def choice(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {
        "text": {"type": "plain_text", "text": value}, "value": value}}


def user(value: str) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": value}


async def open_new(server: Server, kind: str, who: str = "U0ALICE") -> dict[str, Any]:
    sent = await server.click(f"new.{kind}", 1, user=who, in_home=True, value=kind)
    assert sent.status == 200
    view: dict[str, Any] = server.mock.to("views.open")[-1].args["view"]
    assert view["callback_id"] == "baton_create"
    return view


async def test_the_handoff_form_raises_a_handoff(server: Server) -> None:
    view = await open_new(server, "handoff")
    blocks = [b["block_id"] for b in view["blocks"]]
    assert blocks == ["title", "to_user", "to_team", "priority", "due_date", "due_time",
                      "details", "channel"]

    sent = await server.submit(view, {
        "title": text("Renew the TLS certificates"), "to_user": user("U0BOB"),
        "priority": choice("high"),
        "due_date": {"type": "datepicker", "selected_date": "2030-01-02"},
        "due_time": {"type": "timepicker", "selected_time": "10:30"},
        "details": text("They expire on the 5th."),
        "channel": {"type": "conversations_select", "selected_conversation": "C0LEGAL"},
    })

    assert sent.status == 200 and sent.text == ""  # the modal closes
    created = await item(server, 1)
    assert (created.kind.value, created.owner, created.priority.value, created.details) == (
        "handoff", "bob", "high", "They expire on the 5th.")
    assert created.due_at == datetime(2030, 1, 2, 10, 30, tzinfo=UTC)  # alice: London, winter
    await server.settle()
    note = server.mock.to("chat.postEphemeral")[-1].args
    assert (note["channel"], note["user"], note["text"]) == ("C0LEGAL", "U0ALICE",
                                                              "Created #1.")
    await server.deliver()
    assert server.mock.to("chat.postMessage")[0].args["channel"] == "C0LEGAL"


async def test_the_exception_and_approval_forms(server: Server) -> None:
    view = await open_new(server, "exception", who="U0BOB")
    assert "owner" in [b["block_id"] for b in view["blocks"]]
    sent = await server.submit(view, {"title": text("Vendor API returns 500s"),
                                      "team": choice("legal"), "priority": choice("urgent")},
                               user="U0BOB")
    assert sent.text == ""
    raised = await item(server, 1)
    assert (raised.kind.value, raised.team, raised.owner, raised.priority.value) == (
        "exception", "legal", None, "urgent")

    view = await open_new(server, "approval", who="U0ERIN")
    sent = await server.submit(view, {
        "title": text("Spend 2k on GPUs"),
        "approvers": {"type": "multi_users_select", "selected_users": ["U0BOB", "U0DAVE"]},
        "policy": choice("quorum:2"), "priority": choice("normal")}, user="U0ERIN")
    assert sent.text == ""
    asked = await item(server, 2)
    assert (asked.kind.value, asked.approvers, str(asked.policy)) == (
        "approval", ("bob", "dave"), "quorum:2")


async def test_a_form_missing_something_says_what_in_the_form(server: Server) -> None:
    view = await open_new(server, "handoff")
    both = await server.submit(view, {"title": text("Either"), "to_user": user("U0BOB"),
                                      "to_team": choice("legal")})
    assert both.json() == {"response_action": "errors", "errors": {
        "to_user": "Choose a person or a team (one of them)."}}
    stranger = await server.submit(view, {"title": text("Who?"),
                                          "to_user": user("W0STRANGER")})
    assert stranger.json()["response_action"] == "errors"
    assert list(stranger.json()["errors"]) == ["to_user"]
    assert "W0STRANGER" in stranger.json()["errors"]["to_user"]

    approval = await open_new(server, "approval")
    none = await server.submit(approval, {"title": text("Nobody to ask")})
    assert none.json()["errors"] == {"approvers": "Choose at least one approver."}
    assert await server.count("items") == 0


async def test_track_with_baton_prefills_the_form_and_keeps_the_permalink(
        server: Server) -> None:
    shortcut = payload("interactive.message_action.json")
    shortcut["team"] = {"id": TEAM, "domain": "acme"}
    shortcut["user"] = {"id": "U0BOB", "name": "bob"}
    shortcut["channel"] = {"id": "C0PLATFORM", "name": "platform"}
    shortcut.update(callback_id="baton_track", trigger_id=unique("trigger."),
                    message_ts="1700000123.000200",
                    response_url=server.mock.hook_url("app/1"))
    shortcut["message"].update(
        text="<@U0ERIN> the nightly build is red &amp; nobody knows why\nlogs: <https://ci>",
        ts="1700000123.000200")

    sent = await server.interact(shortcut)

    assert sent.status == 200
    view = server.mock.to("views.open")[-1].args["view"]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["title"]["element"]["initial_value"] == \
        "@Erin Walsh the nightly build is red & nobody knows why"
    assert blocks["details"]["element"]["initial_value"] == \
        "@Erin Walsh the nightly build is red & nobody knows why\nlogs: https://ci"
    assert blocks["kind"]["element"]["initial_option"]["value"] == "exception"
    assert "channel" not in blocks  # the card goes where the message is

    submitted = await server.submit(view, {
        "kind": choice("exception"),
        "title": text("Nightly build is red"),
        "details": text(blocks["details"]["element"]["initial_value"]),
        "priority": choice("high")}, user="U0BOB")
    assert submitted.text == ""
    tracked = await item(server, 1)
    assert tracked.source.channel == "C0PLATFORM"
    assert tracked.source.message == "1700000123.000200"
    assert tracked.source.permalink == \
        "https://acme.slack.com/archives/C0PLATFORM/p1700000123000200"
    await server.deliver()
    card = server.mock.to("chat.postMessage")[0]
    assert card.args["channel"] == "C0PLATFORM"
    assert "<https://acme.slack.com/archives/C0PLATFORM/p1700000123000200|Source message>" \
        in json.dumps(card.args["blocks"])


async def test_the_global_shortcut_opens_the_form_with_a_kind_to_choose(
        server: Server) -> None:
    shortcut = payload("interactive.shortcut.global.json")
    shortcut["team"] = {"id": TEAM, "domain": "acme"}
    shortcut["user"] = {"id": "U0ALICE", "username": "alice", "team_id": TEAM}
    shortcut.update(callback_id="baton_new", trigger_id=unique("trigger."))

    assert (await server.interact(shortcut)).status == 200

    view = server.mock.to("views.open")[-1].args["view"]
    assert [b["block_id"] for b in view["blocks"]][:2] == ["kind", "title"]
    sent = await server.submit(view, {"kind": choice("handoff"), "title": text("Hand it"),
                                      "to_team": choice("legal")})
    assert sent.text == ""
    handed = await item(server, 1)
    assert (handed.kind.value, handed.team, handed.owner) == ("handoff", "legal", None)
