"""Submitted modals as the core's commands, or as the per-field errors Slack shows in the form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from adapters.slack.payloads import CreateMeta, ReasonMeta, View
from adapters.slack.views import DETAILS_CHARS, REASON_CHARS, TITLE_CHARS
from bot.commands import Act, Create, Target
from bot.due import DueSpec
from bot.items import Kind, Policy, Priority
from bot.rules import Verb

Errors = dict[str, str]


@dataclass(frozen=True)
class Form:
    """A command read from a form, or the errors that stop it."""

    command: Create | Act | None
    errors: Errors
    users: tuple[str, ...] = ()  # Slack users the form names, to look up before running it


def _refused(errors: Errors) -> Form:
    return Form(None, errors)


def _due(view: View) -> tuple[DueSpec | None, Errors]:
    day_text = view.value("due_date").selected_date
    clock_text = view.value("due_time").selected_time
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        return None, {"due_date": "That is not a date."}
    try:
        at = time.fromisoformat(clock_text) if clock_text else None
    except ValueError:
        return None, {"due_time": "That is not a time of day."}
    if day is None and at is None:
        return None, {}
    if day is None:
        return DueSpec(text=f"today {clock_text}", day_offset=0, at=at), {}
    return DueSpec(text=f"{day_text} {clock_text or ''}".strip(), on=day, at=at), {}


def create_form(view: View, meta: CreateMeta, *, channel: str = "",
                permalink: str = "") -> Form:
    """The create modal as a Create command, or what is missing from it."""
    kind_text = meta.kind.value if meta.kind else view.value("kind").option
    if kind_text not in {k.value for k in Kind}:
        return _refused({"kind": "Choose handoff, exception or approval."})
    kind = Kind(kind_text)
    title = (view.value("title").value or "").strip()
    if not title:
        return _refused({"title": "A title is missing."})
    if len(title) > TITLE_CHARS:
        return _refused({"title": f"The title is {len(title)} characters; "
                                  f"{TITLE_CHARS} at most."})
    details = (view.value("details").value or "").strip()
    if len(details) > DETAILS_CHARS:
        return _refused({"details": f"The details are {len(details)} characters; "
                                    f"{DETAILS_CHARS} at most."})
    due, errors = _due(view)
    if errors:
        return _refused(errors)
    priority_text = view.value("priority").option or Priority.NORMAL.value
    if priority_text not in {p.value for p in Priority}:
        return _refused({"priority": "Choose urgent, high, normal or low."})
    team = view.value("team").option
    users: list[str] = []
    to: Target | None = None
    owner: str | None = None
    approvers: tuple[str, ...] = ()
    policy = Policy()
    if kind is Kind.HANDOFF:
        person, queue = view.value("to_user").selected_user, view.value("to_team").option
        if bool(person) == bool(queue):
            return _refused({"to_user": "Choose a person or a team (one of them)."})
        to = Target(person, team=False) if person else Target(queue or "", team=True)
        users += [person] if person else []
        team = None
    elif kind is Kind.EXCEPTION:
        owner = view.value("owner").selected_user or None
        users += [owner] if owner else []
    else:
        approvers = tuple(view.value("approvers").selected_users or ())
        if not approvers:
            return _refused({"approvers": "Choose at least one approver."})
        users += approvers
        try:
            policy = Policy.parse(view.value("policy").option or "any")
        except ValueError as exc:
            return _refused({"policy": str(exc)})
    command = Create(kind, title, to=to, team=team, owner=owner, approvers=approvers,
                     policy=policy, priority=Priority(priority_text), due=due, details=details,
                     channel=channel, message=meta.message_ts, permalink=permalink)
    return Form(command, {}, tuple(users))


def reason_form(view: View, meta: ReasonMeta) -> Form:
    """The reason modal as the verb it completes."""
    reason = (view.value("reason").value or "").strip()
    if not reason:
        return _refused({"reason": "A reason is needed."})
    if len(reason) > REASON_CHARS:
        return _refused({"reason": f"That is {len(reason)} characters; {REASON_CHARS} at most."})
    on_text = (view.value("on").value or "").strip().lstrip("#")
    on: int | None = None
    if on_text:
        if not on_text.isdigit() or int(on_text) == 0 or meta.verb is not Verb.BLOCK:
            return _refused({"on": "Give the item's number, as in 41."})
        on = int(on_text)
    return Form(Act(meta.verb, meta.number, text=reason, on=on), {})


def error_block(errors_text: str, form_users: dict[str, tuple[str, ...]]) -> str:
    """Which input a refusal from the core belongs to: the person it names, else the title."""
    for block, users in form_users.items():
        if any(user in errors_text for user in users):
            return block
    return "title"
