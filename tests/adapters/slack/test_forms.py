"""Submitted forms read into commands, or into the per-field errors Slack shows."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from adapters.slack.forms import create_form, error_block, reason_form
from adapters.slack.payloads import CreateMeta, ReasonMeta, View
from bot.commands import Act, Create
from bot.items import Kind
from bot.rules import Verb


def view(**values: dict[str, Any]) -> View:
    return View.model_validate({"state": {"values": {
        block: {block: value} for block, value in values.items()}}})


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def test_a_time_alone_means_today_and_a_date_alone_its_end_of_day() -> None:
    exception = CreateMeta(kind=Kind.EXCEPTION)
    today = create_form(view(title=text("t"), due_time={"selected_time": "16:45"}), exception)
    assert isinstance(today.command, Create) and today.command.due is not None
    assert (today.command.due.day_offset, today.command.due.at) == (0, time(16, 45))
    day = create_form(view(title=text("t"), due_date={"selected_date": "2031-05-06"}),
                      exception)
    assert isinstance(day.command, Create) and day.command.due is not None
    assert (day.command.due.on, day.command.due.at) == (date(2031, 5, 6), None)


def test_what_a_form_gets_wrong_is_named_on_its_field() -> None:
    exception = CreateMeta(kind=Kind.EXCEPTION)
    assert create_form(view(title=text("t"), due_date={"selected_date": "2031-02-30"}),
                       exception).errors == {"due_date": "That is not a date."}
    assert create_form(view(title=text(" ")), exception).errors == {
        "title": "A title is missing."}
    assert create_form(view(title=text("t" * 201)), exception).errors == {
        "title": "The title is 201 characters; 200 at most."}
    assert "details" in create_form(view(title=text("t"), details=text("d" * 3001)),
                                    exception).errors
    assert create_form(view(title=text("t")), CreateMeta()).errors == {
        "kind": "Choose handoff, exception or approval."}
    bad_policy = create_form(view(title=text("t"), approvers={"selected_users": ["U1"]},
                                  policy={"selected_option": {"value": "quorum:0"}}),
                             CreateMeta(kind=Kind.APPROVAL))
    assert list(bad_policy.errors) == ["policy"]


def test_the_reason_form() -> None:
    block = reason_form(view(reason=text(" waiting "), on={"value": "#41"}),
                        ReasonMeta(verb=Verb.BLOCK, number=42))
    assert block.command == Act(Verb.BLOCK, 42, text="waiting", on=41)
    assert reason_form(view(reason=text("no"), on={"value": "41"}),
                       ReasonMeta(verb=Verb.REJECT, number=42)).errors == {
        "on": "Give the item's number, as in 41."}
    assert reason_form(view(reason=text("r" * 3001)),
                       ReasonMeta(verb=Verb.DECLINE, number=1)).errors["reason"].startswith(
        "That is 3001 characters")


def test_a_refusal_is_shown_on_the_field_of_the_person_it_names() -> None:
    people = {"to_user": ("U0BOB",), "approvers": ("U0DAVE", "U0ERIN")}
    assert error_block("I don't know anyone called @U0ERIN.", people) == "approvers"
    assert error_block("The due time has already passed.", people) == "title"
