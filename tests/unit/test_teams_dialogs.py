"""Teams dialogs: "Track with Baton" and "New handoff/exception/approval" as Adaptive Card
forms Teams renders (checked against Microsoft's 1.5 schema, with the Teams typeahead
extension, and within Teams' card size), and submitted forms read into the core's Create, or
into errors under their fields, never a half-read command."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from adapters.teams import dialogs
from adapters.teams.dialogs import Field, TrackedMessage
from bot.commands import Create, Target
from bot.config import ConfigDirectory, default_config, load_config
from bot.context import Request
from bot.items import Kind, Policy, PolicyKind, Priority
from bot.service import Baton
from tests.fakes import FakeClock, FakeUnits, World

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "data" / "platform-samples" / "teams" / "schemas"
AC15 = json.loads((SCHEMAS / "adaptive-card.1.5.0.schema.json").read_text())
AC16 = json.loads((SCHEMAS / "adaptive-card.1.6.0.schema.json").read_text())
DIRECTORY = ConfigDirectory(load_config(ROOT / "baton.example.yaml"))
LINK = ("https://teams.microsoft.com/l/message/19:6decf54d86d945e4b3924b63a9161a78@thread.skype/"
        "1611060744833")
# value.messagePayload of a message action, shaped as Teams sends it (msteams-docs, "Payload
# activity properties when a dialog is invoked from a channel (reply to thread)").
PAYLOAD: dict[str, Any] = {
    "linkToMessage": LINK, "id": "1611060744833", "replyToId": None,
    "createdDateTime": "2021-01-19T12:52:24.833Z", "deleted": False, "importance": "normal",
    "body": {"contentType": "html", "content": (
        "<div><div><at id=\"0\">Grace Kim</at> the **eval** run on [prod](javascript:x) "
        "failed &amp; blocks the release<br>Logs: see the CI run</div>\n</div>")},
    "from": {"user": {"userIdentityType": "aadUser", "id": "b130c271-d2eb-45f9-83ab",
                      "displayName": "Olo Brockhouse"}},
    "mentions": [{"id": 0, "mentionText": "Grace Kim"}], "attachments": [],
}


def with_typeahead(schema: dict[str, Any]) -> dict[str, Any]:
    """The 1.5 schema plus the one Teams extension the forms use: `choices.data` on
    Input.ChoiceSet (Data.Query, as the 1.6 schema defines it). Teams documents it for cards
    of version 1.2 and later."""
    extended = copy.deepcopy(schema)
    extended["definitions"]["Data.Query"] = AC16["definitions"]["Data.Query"]
    extended["definitions"]["Input.ChoiceSet"]["properties"]["choices.data"] = {
        "$ref": "#/definitions/Data.Query"}
    return extended


AC15_TEAMS = with_typeahead(AC15)


def schema_errors(schema: dict[str, Any], card: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in jsonschema.Draft6Validator(schema).iter_errors(card)]


def without_typeahead(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_typeahead(v) for k, v in node.items() if k != "choices.data"}
    if isinstance(node, list):
        return [without_typeahead(v) for v in node]
    return node


def card_of(answer: dict[str, Any]) -> dict[str, Any]:
    task = answer["task"]
    assert task["type"] == "continue"
    attachment = task["value"]["card"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachment["content"]
    return card


def valid(card: dict[str, Any]) -> None:
    """Teams renders it: Adaptive Card 1.5 with Teams' typeahead (and nothing else beyond
    1.5), valid as 1.6 too, within Teams' size for a card."""
    assert card["version"] == "1.5"
    assert schema_errors(AC15_TEAMS, card) == []
    assert schema_errors(AC15, without_typeahead(card)) == []
    assert schema_errors(AC16, card) == []
    assert dialogs.card_bytes(card) <= dialogs.MAX_CARD_BYTES


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in walk(card) if str(n.get("type", "")).startswith("Input.")}


def submits(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in walk(card) if n.get("type") == "Action.Submit"]


def offered() -> dialogs.Choices:
    return dialogs.choices(DIRECTORY, "alice")


# --- the forms -----------------------------------------------------------------------------

def test_track_with_baton_fills_the_form_from_the_message_and_keeps_its_link() -> None:
    message = dialogs.tracked_message(PAYLOAD)
    assert message.text == ("@Grace Kim the **eval** run on [prod](javascript:x) failed & "
                            "blocks the release\nLogs: see the CI run")
    assert (message.link, message.id, message.author) == (LINK, "1611060744833",
                                                          "Olo Brockhouse")
    answer = dialogs.track_dialog(message, offered())
    assert answer["task"]["value"]["title"] == "Track with Baton"
    card = card_of(answer)
    valid(card)
    fields = inputs(card)
    assert fields["title"]["value"] == ("@Grace Kim the **eval** run on [prod](javascript:x) "
                                        "failed & blocks the release")
    assert fields["details"]["value"] == message.text
    [opener] = [n for n in walk(card) if n.get("type") == "Action.OpenUrl"]
    assert opener["url"] == LINK
    # One Create button per kind, each in its own card of that kind's fields, each carrying
    # the message it tracks.
    assert [a["title"] for a in card["actions"]] == ["Handoff", "Exception", "Approval"]
    assert [s["data"] for s in submits(card)] == [
        {"baton": "create", "message": "1611060744833", "link": LINK, "kind": k.value}
        for k in Kind]
    # The message's text is never read as markdown: it is only in inputs and TextRuns.
    for node in walk(card):
        if node.get("type") == "TextBlock":
            assert "eval" not in node["text"] and "Olo" not in node["text"]


def test_the_people_pickers_type_ahead_over_baton_s_people() -> None:
    card = card_of(dialogs.new_dialog(offered(), Kind.APPROVAL))
    valid(card)
    approvers = inputs(card)[Field.APPROVERS]
    assert approvers["isMultiSelect"] is True
    assert approvers["choices.data"] == {"type": "Data.Query", "dataset": "baton.people"}
    # Before one types: the requester's teammates first (alice leads release), at most 15.
    titles = [c["title"] for c in approvers["choices"]]
    assert 0 < len(titles) <= dialogs.SEARCH_RESULTS
    assert titles[:2] == ["Erin Walsh (@erin)", "Heidi Schmidt (@heidi)"]
    assert "Alice Chen (@alice)" not in titles[:-1]
    assert inputs(card)[Field.APPROVAL_TEAM]["value"] == DIRECTORY.home_team("alice")


@pytest.mark.parametrize("kind", [None, *Kind])
def test_new_dialog_is_a_valid_card_of_one_kind_or_of_a_kind_chosen_in_it(
        kind: Kind | None) -> None:
    card = card_of(dialogs.new_dialog(offered(), kind))
    valid(card)
    fields = inputs(card)
    assert {"title", "priority", "due_date", "due_time", "details"} <= set(fields)
    assert fields["title"]["isRequired"] is True and "value" not in fields["title"]
    assert fields["priority"]["value"] == "normal"
    kinds = [s["data"]["kind"] for s in submits(card)]
    assert kinds == ([k.value for k in Kind] if kind is None else [kind.value])
    assert not [n for n in walk(card) if n.get("type") == "Action.OpenUrl"]


def test_many_teams_are_offered_as_many_as_fit_in_a_card_and_the_form_says_so() -> None:
    names = [f"team-{n:03d}-with-a-rather-long-name-for-its-queue" for n in range(500)]
    choices = dialogs.Choices(tuple(names), offered().people, team=names[0])
    card = card_of(dialogs.new_dialog(choices))
    valid(card)
    shown = inputs(card)[Field.EXCEPTION_TEAM]["choices"]
    assert 0 < len(shown) < 500
    hints = [n["text"] for n in walk(card) if n.get("type") == "TextBlock"]
    assert f"Showing {len(shown)} of 500 teams; for another, type the command with --team." \
        in hints


# --- reading a submitted form ----------------------------------------------------------------

def submitted(kind: Kind, **fields: str) -> dict[str, Any]:
    """What Teams sends back: the Create button's data and every input as text."""
    return {"baton": "create", "kind": kind.value, "title": "", "details": "",
            "priority": "normal", "due_date": "", "due_time": ""} | fields


def test_a_handoff_to_a_person_with_a_due_time_tracking_a_message() -> None:
    data = submitted(Kind.HANDOFF, title="  Rerun   the eval ", handoff_person="grace",
                     priority="high", due_date="2026-12-01", due_time="09:30",
                     details="Logs in CI", message="1611060744833", link=LINK)
    read = dialogs.read_form(data, DIRECTORY, channel="19:abc@thread.tacv2")
    assert read.errors == {}
    assert read.command == Create(
        Kind.HANDOFF, "Rerun the eval", to=Target("grace"), priority=Priority.HIGH,
        due=dialogs.DueSpec("2026-12-01 09:30", on=date(2026, 12, 1), at=time(9, 30)),
        details="Logs in CI", channel="19:abc@thread.tacv2", message="1611060744833",
        permalink=LINK)


def test_a_person_is_found_by_their_teams_id_and_a_queue_by_its_name() -> None:
    by_aad = dialogs.read_form(submitted(
        Kind.HANDOFF, title="Check", handoff_person="5f0c2a7e-1b9d-4e63-9a41-0d3c7b2e8f11"),
        DIRECTORY)
    assert by_aad.command is not None and by_aad.command.to == Target("frank")
    queue = dialogs.read_form(submitted(Kind.HANDOFF, title="Check", handoff_team="#Eval"),
                              DIRECTORY)
    assert queue.command is not None and queue.command.to == Target("eval", team=True)


def test_an_exception_and_an_approval() -> None:
    exception = dialogs.read_form(submitted(Kind.EXCEPTION, title="Disk full",
                                            exception_owner="bob", exception_team="eval",
                                            due_time="17:00"), DIRECTORY)
    assert exception.command == Create(
        Kind.EXCEPTION, "Disk full", owner="bob", team="eval",
        due=dialogs.DueSpec("today 17:00", day_offset=0, at=time(17, 0)))
    approval = dialogs.read_form(submitted(
        Kind.APPROVAL, title="Ship 2.1", approval_approvers="carol,dave,carol",
        approval_policy="quorum:2", approval_team=""), DIRECTORY)
    assert approval.command == Create(Kind.APPROVAL, "Ship 2.1", approvers=("carol", "dave"),
                                      policy=Policy(PolicyKind.QUORUM, 2))


def test_every_mistake_is_named_under_its_field_at_once() -> None:
    data = submitted(Kind.APPROVAL, title=" ", approval_approvers="nobody-here",
                     approval_policy="most", approval_team="marketing", priority="asap",
                     due_date="1 Dec", due_time="25:00", details="x" * 3001)
    read = dialogs.read_form(data, DIRECTORY)
    assert read.command is None and read.kind is Kind.APPROVAL
    assert read.errors == {
        "title": "A title is needed.",
        "details": "The details are 3001 characters; 3000 at most.",
        "priority": "Choose urgent, high, normal or low.",
        "due_date": "That is not a date (YYYY-MM-DD).",
        "due_time": "That is not a time of day (HH:MM).",
        "approval_approvers": "Baton knows no one by that name: pick someone from the list.",
        "approval_policy": "Choose any, all, sequence or quorum:N.",
        "approval_team": "There is no such team: pick one from the list.",
    }


@pytest.mark.parametrize(("fields", "errors"), [
    ({"title": "x" * 201, "handoff_person": "bob"},
     {"title": "The title is 201 characters; 200 at most."}),
    ({"title": "Check"}, {"handoff_person": "Choose a person or a team (one of them)."}),
    ({"title": "Check", "handoff_person": "bob", "handoff_team": "eval"},
     {"handoff_person": "Choose a person or a team (one of them)."}),
    ({"title": "Check", "handoff_person": "bob", "link": "javascript:alert(1)"},
     {"form": "The link to the message is not an https address; open the form again from "
              "the message."}),
])
def test_a_handoff_refused(fields: dict[str, str], errors: dict[str, str]) -> None:
    read = dialogs.read_form(submitted(Kind.HANDOFF, **fields), DIRECTORY)
    assert (read.command, read.errors) == (None, errors)


@pytest.mark.parametrize("data", [
    {"baton": "create", "kind": "chore", "title": "x"},
    {"kind": "handoff", "title": "x", "handoff_person": "bob"},  # not Baton's form
    {"baton": "create", "title": "x"},
])
def test_a_form_baton_did_not_make_is_refused(data: dict[str, Any]) -> None:
    read = dialogs.read_form(data, DIRECTORY)
    assert (read.command, read.errors) == (None, {"form": "This form is not one Baton knows; "
                                                          "open it again."})


def test_a_damaged_form_is_refused() -> None:
    read = dialogs.read_form(submitted(Kind.HANDOFF, title=["a"], handoff_person="bob"),  # type: ignore[arg-type]
                             DIRECTORY)
    assert read.errors == {"form": "The form came back damaged; open it again."}


def test_the_form_opens_again_as_filled_in_with_each_error_under_its_field() -> None:
    data = submitted(Kind.APPROVAL, title="Ship 2.1", approval_approvers="carol,dave",
                     approval_policy="all", due_date="2026-12-01", details="see *notes*",
                     message="1611060744833", link=LINK)
    errors = {"approval_approvers": "Baton knows no one by that name: pick someone from the "
                                    "list.",
              "form": "Can't raise it: @alice may not approve her own request."}
    card = card_of(dialogs.dialog_again(data, errors, offered()))
    valid(card)
    fields = inputs(card)
    assert fields["title"]["value"] == "Ship 2.1" and fields["details"]["value"] == "see *notes*"
    assert fields["approval_approvers"]["value"] == "carol,dave"
    assert {"Carol Diaz (@carol)", "Dave Müller (@dave)"} <= {
        c["title"] for c in fields["approval_approvers"]["choices"]}
    assert fields["approval_policy"]["value"] == "all"
    assert fields["due_date"]["value"] == "2026-12-01"
    body = card["body"]
    ids = [n.get("id") for n in body]
    under = body[ids.index("approval_approvers") + 1]
    assert under == {"type": "RichTextBlock", "inlines": [
        {"type": "TextRun", "text": errors["approval_approvers"], "color": "attention"}]}
    assert errors["form"] in [r["text"] for n in body[:3] for r in n.get("inlines", [])]
    assert [s["data"] for s in submits(card)] == [
        {"baton": "create", "message": "1611060744833", "link": LINK, "kind": "approval"}]


def test_closing_with_a_message() -> None:
    assert dialogs.task_message("Raised #42.") == {
        "task": {"type": "message", "value": "Raised #42."}}


async def test_what_the_form_reads_the_core_raises_with_the_link_to_the_message() -> None:
    world = World()
    baton = Baton(FakeUnits(world), FakeClock(datetime(2026, 11, 23, 9, tzinfo=UTC)),
                  DIRECTORY)
    read = dialogs.read_form(submitted(
        Kind.EXCEPTION, title="Eval run failed", exception_team="eval", message="16110607",
        link=LINK), DIRECTORY, channel="19:eval@thread.tacv2")
    assert read.command is not None
    reply = await baton.handle(Request("model-release", "alice", surface="teams"),
                               read.command)
    assert reply.ok, str(reply.text)
    [item] = world.items.values()
    assert (item.kind, item.title, item.team) == (Kind.EXCEPTION, "Eval run failed", "eval")
    assert (item.source.channel, item.source.message, item.source.permalink) == (
        "19:eval@thread.tacv2", "16110607", LINK)


# --- the people pickers' typeahead ---------------------------------------------------------

def search(query: str, **options: Any) -> list[dict[str, str]]:
    value = {"queryText": query, "dataset": "baton.people", "queryOptions": options}
    answer = dialogs.people_search(DIRECTORY, value)
    assert answer["type"] == "application/vnd.microsoft.search.searchResponse"
    results: list[dict[str, str]] = answer["value"]["results"]
    return results


def test_search_finds_people_by_name_handle_or_e_mail() -> None:
    assert search("gra") == [{"title": "Grace Kim (@grace)", "value": "grace"}]
    assert search("@FRANK") == [{"title": "Frank Novak (@frank)", "value": "frank"}]
    assert search("ivan@example") == [{"title": "Ivan Sokolov (@ivan)", "value": "ivan"}]
    assert search("nobody") == []


def test_search_pages_and_never_offers_more_than_teams_shows() -> None:
    everyone = search("", skip=0, top=50)
    assert len(everyone) == min(len(dialogs._people(DIRECTORY)), dialogs.SEARCH_RESULTS)
    assert [p["title"] for p in everyone] == sorted(p["title"] for p in everyone)
    assert search("", skip=2, top=3) == everyone[2:5]
    assert search("", skip="x", top=True) == everyone  # nonsense options: the defaults


def test_search_on_another_dataset_or_an_open_directory() -> None:
    value = {"queryText": "grace", "dataset": "graph.microsoft.com/users"}
    assert dialogs.people_search(DIRECTORY, value)["value"]["results"] == []
    open_directory = ConfigDirectory(default_config())
    value = {"queryText": "sam", "dataset": "baton.people"}
    assert dialogs.people_search(open_directory, value)["value"]["results"] == [
        {"title": "@sam", "value": "sam"}]


def test_the_message_extension_commands_are_the_manifest_s() -> None:
    manifest = json.loads((ROOT / "adapters" / "teams" / "manifest.json").read_text())
    ids = {c["title"]: c["id"] for c in manifest["composeExtensions"][0]["commands"]}
    assert ids == {"Track with Baton": dialogs.TRACK_COMMAND,
                   "New handoff/exception/approval": dialogs.NEW_COMMAND}


# --- reading Teams' message payload --------------------------------------------------------

@pytest.mark.parametrize(("body", "text"), [
    ({"contentType": "html", "content": "<p>One</p><p>Two&nbsp;&lt;3</p>"}, "One\n\nTwo <3"),
    ({"contentType": "text", "content": "plain <b>as typed</b>"}, "plain <b>as typed</b>"),
    ({"contentType": "html", "content": "<ul><li>a</li><li>b</li></ul>"}, "a\n\nb"),
    ({"contentType": "html", "content": 42}, ""),
    ({}, ""),
])
def test_message_text(body: dict[str, Any], text: str) -> None:
    assert dialogs.message_text(body) == text


def test_a_payload_missing_parts_or_with_a_foreign_link_is_read_as_far_as_it_goes() -> None:
    assert dialogs.tracked_message({}) == TrackedMessage("")
    odd = dialogs.tracked_message({"linkToMessage": "javascript:alert(1)", "id": 7,
                                   "from": {"user": None}, "body": "text"})
    assert odd == TrackedMessage("")
    card = card_of(dialogs.track_dialog(odd, offered()))
    valid(card)
    assert "value" not in inputs(card)["title"]
