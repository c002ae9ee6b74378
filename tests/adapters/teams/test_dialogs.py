"""Dialogs over real HTTP: "Track with Baton" on a channel message and "New handoff / exception
/ approval" from the compose box open Baton's form; the submitted form raises the item as the
person Teams vouches for, in the conversation it was opened in, linked to the message, its
card posted there (in a channel, in the message's thread) and the dialog closed; mistakes and
refusals come back in the form, under their fields, with nothing written; the people pickers
type ahead. Activities start from the msteams-docs captures in
tests/data/platform-samples/teams/activities, with signed tokens from the local OpenID/JWKS."""

from __future__ import annotations

import copy
import json
from typing import Any

from bot.items import Kind, Priority, State
from tests.adapters.teams.harness import (
    BOT,
    CHANNEL,
    GROUP,
    USERS,
    Server,
    activity,
    personal_chat,
    shown,
    unique,
)
from tests.adapters.teams.mock_teams import Fail
from tests.unit.test_teams_dialogs import inputs, submits, valid

TRACK = "invoke.composeExtension_fetchTask.message_action.channel_thread.msteams-docs.json"
COMPOSE = "invoke.composeExtension_fetchTask.compose.group_chat.msteams-docs.json"
SUBMIT = "invoke.composeExtension_submitAction.msteams-docs.json"
SEARCH = "invoke.application_search.msteams-docs.json"
#: The tracked message, as the capture gives it (a root post of its channel).
MESSAGE_ID = "1611060744833"
LINK = ("https://teams.microsoft.com/l/message/19:6decf54d86d945e4b3924b63a9161a78@thread.skype/"
        "1611060744833")
THREAD = f"{CHANNEL};messageid={MESSAGE_ID}"


# --- what Teams sends, and what Baton answers -----------------------------------------------

def invoke(server: Server, capture: str, *, user: str = "alice", where: str = "channel",
           thread: str | None = MESSAGE_ID, name: str | None = None,
           value: dict[str, Any] | None = None) -> dict[str, Any]:
    """The capture as Teams would send it to this deployment: from `user`, in the platform
    team's channel (a thread of it), a group chat or `user`'s 1:1 chat with Baton."""
    body = activity(capture)
    base = server.message("", user=user, where=where,
                          thread=thread if where == "channel" else None)
    source = (body.get("channelData") or {}).get("source")
    body.update(type="invoke", id=f"f:{unique()}", channelId="msteams",
                serviceUrl=server.mock.service_url, recipient={"id": BOT, "name": "Baton"},
                conversation=base["conversation"],
                channelData={**base["channelData"], **({"source": source} if source else {})},
                timestamp="2026-12-04T09:00:00.000Z", localTimezone="Europe/London")
    body["from"] = server.user(user)
    body.pop("imdisplayname", None)
    if name is not None:
        body["name"] = name
    if value is not None:
        body["value"] = value
    return body


async def send(server: Server, body: dict[str, Any]) -> tuple[int, Any]:
    """POST the activity with a token the Bot Framework would sign; the answer's status and
    JSON body (None when there is none)."""
    headers = {"Content-Type": "application/json",
               "Authorization": f"Bearer {server.mock.token()}"}
    async with server.http.post(f"{server.url}/api/messages", data=json.dumps(body),
                                headers=headers) as response:
        text = await response.text()
    return response.status, json.loads(text) if text else None


def form_of(answer: Any) -> dict[str, Any]:
    """The form a dialog answer shows (a valid Adaptive Card 1.5 within Teams' size)."""
    task = answer["task"]
    assert task["type"] == "continue", answer
    assert task["value"]["card"]["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = task["value"]["card"]["content"]
    valid(card)
    return card


def filled(card: dict[str, Any], kind: Kind, **typed: str) -> dict[str, Any]:
    """What Teams submits when the person presses the form's Create button for `kind`: that
    button's data and every input's value (as shown, or as typed)."""
    [button] = [s for s in submits(card) if s["data"]["kind"] == kind.value]
    values = {name: str(element.get("value", "")) for name, element in inputs(card).items()}
    return {**values, **typed, **button["data"]}


def submit_value(data: dict[str, Any], command: str = "track", *,
                 payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """`value` of a composeExtension/submitAction, shaped on the capture."""
    value = copy.deepcopy(activity(SUBMIT)["value"])
    value.update(commandId=command, commandContext="message" if payload else "compose",
                 data=data)
    if payload is not None:
        value["messagePayload"] = payload
    return value


def track_value() -> dict[str, Any]:
    value: dict[str, Any] = activity(TRACK)["value"]
    value["commandId"] = "track"
    return value


async def open_track(server: Server, user: str = "alice") -> dict[str, Any]:
    status, answer = await send(server, invoke(server, TRACK, user=user, value=track_value()))
    assert status == 200
    return form_of(answer)


async def item(server: Server, number: int):  # type: ignore[no-untyped-def]
    async with server.app.database.unit_of_work() as uow:
        return await uow.items.get("acme", number)


async def written(server: Server) -> tuple[int, int, int]:
    return (await server.count("items"), await server.count("events"),
            await server.count("outbox"))


# --- "Track with Baton" ---------------------------------------------------------------------

async def test_track_with_baton_opens_the_form_filled_in_from_the_message(
        server: Server) -> None:
    card = await open_track(server)
    fields = inputs(card)
    assert fields["title"]["value"] == "@Testing outgoing Webhook-Nikitha - Hi"
    assert fields["details"]["value"] == "@Testing outgoing Webhook-Nikitha - Hi"
    [opener] = [a for n in card["body"] if n.get("type") == "ActionSet" for a in n["actions"]]
    assert opener == {"type": "Action.OpenUrl", "title": "Open the message", "url": LINK}
    assert [s["data"] for s in submits(card)] == [
        {"baton": "create", "message": MESSAGE_ID, "link": LINK, "kind": k.value} for k in Kind]
    # Opening a form writes nothing and posts nothing.
    assert await written(server) == (0, 0, 0)
    assert server.mock.posted() == []


async def test_a_tracked_message_becomes_a_handoff_linked_to_it_its_card_in_the_thread(
        server: Server) -> None:
    card = await open_track(server)
    data = filled(card, Kind.HANDOFF, title="Answer the webhook question",
                  handoff_person="bob", priority="high")
    status, answer = await send(server, invoke(
        server, SUBMIT, value=submit_value(data, payload=track_value()["messagePayload"])))
    assert (status, answer) == (200, {})  # the dialog closes

    found = await item(server, 1)
    assert (found.kind, found.title, found.requester, found.owner) == (
        Kind.HANDOFF, "Answer the webhook question", "alice", "bob")
    assert found.priority is Priority.HIGH and found.state is State.OPEN
    assert (found.source.surface, found.source.channel, found.source.message,
            found.source.permalink) == ("teams", THREAD, MESSAGE_ID, LINK)
    # The new item's card, in the message's thread, is the item's copy there.
    [reply] = server.mock.of("reply")
    assert reply.conversation == THREAD and "Created #1" in reply.text
    assert shown(reply.cards[0]["body"][0]) == "Handoff #1: Answer the webhook question"
    posts = await server.transport.views.posts("acme", 1)
    assert [(p.channel, p.ref) for p in posts] == [(THREAD, reply.id)]

    await server.deliver()
    [dm] = server.mock.of("send")  # Bob's DM; the channel has its card already
    assert dm.conversation == f"a:chat-with-{USERS['bob'][0]}" and "#1" in dm.text
    assert [str(why) for _, why in server.skipped] == [
        "#1 was raised on Teams: its card went with the reply"]


async def test_the_link_and_message_are_the_ones_teams_names_when_it_names_them(
        server: Server) -> None:
    """The form carries the message it tracks; the submit's own messagePayload wins."""
    card = await open_track(server)
    data = filled(card, Kind.EXCEPTION, exception_team="legal")
    data |= {"link": "https://evil.example/phish", "message": "999"}
    payload = track_value()["messagePayload"]
    await send(server, invoke(server, SUBMIT, value=submit_value(data, payload=payload)))
    found = await item(server, 1)
    assert (found.kind, found.team, found.owner) == (Kind.EXCEPTION, "legal", None)
    assert (found.source.message, found.source.permalink) == (MESSAGE_ID, LINK)


async def test_the_requester_is_who_teams_vouches_for_never_a_form_field(
        server: Server) -> None:
    card = await open_track(server, user="dave")
    data = filled(card, Kind.HANDOFF, handoff_person="bob")
    data |= {"requester": "carol", "actor": "carol", "from": "carol", "user": "carol"}
    status, answer = await send(server, invoke(server, SUBMIT, user="dave",
                                               value=submit_value(data)))
    assert (status, answer) == (200, {})
    found = await item(server, 1)
    assert (found.requester, found.owner) == ("dave", "bob")
    # Without a messagePayload in the submit, the form's own (https) link is kept.
    assert (found.source.message, found.source.permalink) == (MESSAGE_ID, LINK)


# --- mistakes and refusals --------------------------------------------------------------------

async def test_mistakes_come_back_in_the_form_under_their_fields_nothing_written(
        server: Server) -> None:
    card = await open_track(server)
    data = filled(card, Kind.HANDOFF, title="   ", handoff_person="nobody-here",
                  due_date="next week", due_time="9am")
    status, answer = await send(server, invoke(server, SUBMIT, value=submit_value(data)))
    assert status == 200
    again = form_of(answer)
    body = again["body"]
    ids = [n.get("id") for n in body]
    under = {field: body[ids.index(field) + 1]["inlines"][0]["text"]
             for field in ("title", "handoff_person") if field in ids}
    assert under == {"title": "A title is needed.",
                     "handoff_person": "Baton knows no one by that name: pick someone from "
                                       "the list."}
    due = json.dumps(again)
    assert "That is not a date (YYYY-MM-DD)." in due and "That is not a time of day" in due
    # As filled in, still linked to the message.
    assert inputs(again)["handoff_person"]["value"] == "nobody-here"
    assert [s["data"] for s in submits(again)] == [
        {"baton": "create", "message": MESSAGE_ID, "link": LINK, "kind": "handoff"}]
    assert await written(server) == (0, 0, 0)
    assert server.mock.posted() == []


async def test_a_refusal_from_the_core_is_shown_under_the_field_it_concerns(
        server: Server) -> None:
    card = await open_track(server)
    own = filled(card, Kind.APPROVAL, approval_approvers="alice,bob")
    _, answer = await send(server, invoke(server, SUBMIT, value=submit_value(own)))
    body = form_of(answer)["body"]
    ids = [n.get("id") for n in body]
    said = body[ids.index("approval_approvers") + 1]["inlines"][0]["text"]
    assert "you cannot be an approver of your own request" in said

    past = filled(card, Kind.HANDOFF, handoff_person="bob", due_date="2020-01-06",
                  due_time="09:00")
    _, answer = await send(server, invoke(server, SUBMIT, value=submit_value(past)))
    text = json.dumps(form_of(answer))
    assert "has already passed" in text
    assert await written(server) == (0, 0, 0)


async def test_someone_baton_does_not_know_gets_a_message_not_a_form(server: Server) -> None:
    status, answer = await send(server, invoke(server, TRACK, user="mallory",
                                               value=track_value()))
    assert status == 200 and answer["task"]["type"] == "message"
    assert "know" in answer["task"]["value"]
    data = {"baton": "create", "kind": "handoff", "title": "Steal the keys",
            "handoff_person": "bob"}
    _, answer = await send(server, invoke(server, SUBMIT, user="mallory",
                                          value=submit_value(data)))
    assert answer["task"]["type"] == "message"
    assert await written(server) == (0, 0, 0)


async def test_a_form_baton_did_not_make_or_an_unknown_command_is_refused(
        server: Server) -> None:
    foreign = activity(SUBMIT)["value"]  # the docs' kudos form
    _, answer = await send(server, invoke(server, SUBMIT, value=foreign))
    assert "This form is not one Baton knows" in json.dumps(form_of(answer))
    _, answer = await send(server, invoke(server, TRACK, value={**track_value(),
                                                                "commandId": "Test"}))
    assert answer["task"]["type"] == "message" and "no command" in answer["task"]["value"]
    _, answer = await send(server, invoke(server, SUBMIT, value={"data": "not a form"}))
    assert "This form is not one Baton knows" in json.dumps(form_of(answer))
    assert await written(server) == (0, 0, 0)


async def test_a_submit_teams_sends_twice_raises_one_item(server: Server) -> None:
    card = await open_track(server)
    body = invoke(server, SUBMIT, value=submit_value(filled(card, Kind.HANDOFF,
                                                            handoff_person="bob")))
    assert await send(server, body) == (200, {})
    assert await send(server, body) == (200, {})
    assert await server.count("items") == 1
    assert len(server.mock.of("reply")) == 1


async def test_where_baton_cannot_post_the_dialog_says_what_was_created(
        server: Server) -> None:
    card = await open_track(server)
    server.mock.fail("reply", Fail(403, code="BotNotInConversationRoster"))
    _, answer = await send(server, invoke(server, SUBMIT, value=submit_value(
        filled(card, Kind.HANDOFF, handoff_person="bob"))))
    assert answer["task"] == {"type": "message", "value": answer["task"]["value"]}
    assert "Created #1" in answer["task"]["value"]
    assert (await item(server, 1)).owner == "bob"


# --- "New handoff / exception / approval" -----------------------------------------------------

async def test_new_from_the_compose_box_in_a_group_chat_raises_an_approval(
        server: Server) -> None:
    status, answer = await send(server, invoke(server, COMPOSE, where="group",
                                               value={**activity(COMPOSE)["value"],
                                                      "commandId": "new"}))
    assert status == 200
    card = form_of(answer)
    assert [a["title"] for a in card["actions"]] == ["Handoff", "Exception", "Approval"]
    assert not [n for n in card["body"] if n.get("type") == "ActionSet"]  # no message linked
    data = filled(card, Kind.APPROVAL, title="Ship 2.1 to the broad ring",
                  approval_approvers="bob,dave", approval_policy="all",
                  due_date="2026-12-11", due_time="12:00", details="Canary is green")
    status, answer = await send(server, invoke(server, SUBMIT, where="group",
                                               value=submit_value(data, "new")))
    assert (status, answer) == (200, {})
    found = await item(server, 1)
    assert (found.kind, found.approvers, found.policy.kind.value) == (
        Kind.APPROVAL, ("bob", "dave"), "all")
    assert (found.details, found.source.channel, found.source.message) == (
        "Canary is green", GROUP, "")
    assert found.due_at is not None and found.due_at.isoformat().startswith("2026-12-11T12:00")
    [reply] = server.mock.of("reply")
    assert reply.conversation == GROUP
    # In a group chat the card carries no buttons of its own: each person fetches theirs.
    assert "actions" not in reply.cards[0] and reply.cards[0]["refresh"]["userIds"]


async def test_a_dialog_from_a_card_task_fetch_and_task_submit(server: Server) -> None:
    fetch = invoke(server, SUBMIT, where="personal", name="task/fetch",
                   value={"type": "task/fetch", "data": {"baton": "new", "kind": "exception"},
                          "context": {"theme": "default"}})
    status, answer = await send(server, fetch)
    card = form_of(answer)
    assert [s["data"]["kind"] for s in submits(card)] == ["exception"]
    data = filled(card, Kind.EXCEPTION, title="Disk full on eval-3", exception_owner="bob")
    status, answer = await send(server, invoke(
        server, SUBMIT, where="personal", name="task/submit",
        value={"type": "task/submit", "data": data, "context": {"theme": "default"}}))
    assert (status, answer) == (200, {})
    found = await item(server, 1)
    assert (found.kind, found.owner, found.team) == (Kind.EXCEPTION, "bob", "platform")
    [reply] = server.mock.of("reply")
    assert reply.conversation == personal_chat("alice")
    assert reply.cards[0]["actions"]  # Alice's own buttons, in her 1:1 chat


# --- the people pickers' typeahead ------------------------------------------------------------

async def test_the_people_pickers_type_ahead(server: Server) -> None:
    value = {**activity(SEARCH)["value"], "queryText": "bo", "dataset": "baton.people"}
    status, answer = await send(server, invoke(server, SEARCH, value=value))
    assert (status, answer) == (200, {
        "type": "application/vnd.microsoft.search.searchResponse",
        "value": {"results": [{"title": "Bob Okafor (@bob)", "value": "bob"}]}})
    value |= {"queryText": "", "queryOptions": {"skip": 1, "top": 2}}
    _, answer = await send(server, invoke(server, SEARCH, value=value))
    assert [r["value"] for r in answer["value"]["results"]] == ["bob", "carol"]
    _, answer = await send(server, invoke(server, SEARCH, value=activity(SEARCH)["value"]))
    assert answer["value"]["results"] == []  # the docs' npm dataset is not Baton's


async def test_without_a_valid_token_a_dialog_opens_nothing(server: Server) -> None:
    body = invoke(server, TRACK, value=track_value())
    headers = {"Content-Type": "application/json",
               "Authorization": f"Bearer {server.mock.token(audience='someone-else')}"}
    async with server.http.post(f"{server.url}/api/messages", data=json.dumps(body),
                                headers=headers) as response:
        assert response.status == 401


async def test_a_message_extension_invoke_baton_does_not_offer_is_not_implemented(
        server: Server) -> None:
    """Baton's manifest has action commands only: a search command's query is not Baton's."""
    query = invoke(server, SEARCH, name="composeExtension/query",
                   value={"commandId": "searchQuery", "parameters": [
                       {"name": "searchQuery", "value": "bob"}]})
    status, answer = await send(server, query)
    assert (status, answer) == (501, None)
    assert await written(server) == (0, 0, 0)
