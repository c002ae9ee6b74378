"""Teams dialogs (task modules): the forms that raise an item, "Track with Baton" on a message
and "New handoff/exception/approval" from the compose box, and a submitted form read back into
the core's Create command, or into the per-field errors the form shows when it opens again.

Plain dicts, no botbuilder: the Teams handler answers `composeExtension/fetchTask`,
`composeExtension/submitAction`, `task/fetch` and `task/submit` invokes with what these build,
and the people pickers' typeahead (`application/search` on Baton's own dataset of baton.yaml's
people) with `people_search`. The forms are Adaptive Cards 1.5 (what Teams renders) plus the
Teams extension `choices.data` on Input.ChoiceSet, which asks Baton for the choices as one
types. Text a person typed only ever appears in inputs and in TextRuns, which Teams shows as
typed: never as markdown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from bot.commands import Create, Target
from bot.due import DueSpec
from bot.items import Kind, Policy, Priority
from bot.people import Directory, Person

Card = dict[str, Any]
Errors = dict[str, str]

#: The message extension's commands, as adapters/teams/manifest.json names them.
TRACK_COMMAND = "track"
NEW_COMMAND = "new"
#: The people pickers' typeahead dataset, answered by `people_search`.
PEOPLE_DATASET = "baton.people"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SEARCH_RESPONSE_TYPE = "application/vnd.microsoft.search.searchResponse"
#: What Teams takes in one card (about 28 KB); a form with many teams offers fewer at once.
MAX_CARD_BYTES = 28_000
TITLE_CHARS = 200  # the grammar's limit on a title
DETAILS_CHARS = 3000
QUOTE_CHARS = 300
#: Teams lists at most 15 choices as one types; the same many are offered before one types.
SEARCH_RESULTS = 15
MAX_TEAMS = 100
POLICIES = ("any", "all", "sequence", "quorum:2", "quorum:3")
#: Submitted data that marks Baton's create form (beside the inputs: kind, message, link).
FORM_MARK = {"baton": "create"}


class Field(StrEnum):
    """The form's input ids, as they come back in the submitted data."""

    TITLE = "title"
    DETAILS = "details"
    PRIORITY = "priority"
    DUE_DATE = "due_date"
    DUE_TIME = "due_time"
    HANDOFF_PERSON = "handoff_person"
    HANDOFF_TEAM = "handoff_team"
    EXCEPTION_OWNER = "exception_owner"
    EXCEPTION_TEAM = "exception_team"
    APPROVERS = "approval_approvers"
    POLICY = "approval_policy"
    APPROVAL_TEAM = "approval_team"
    FORM = "form"  # not an input: what concerns the whole form


_KIND_LABEL = {Kind.HANDOFF: "Handoff", Kind.EXCEPTION: "Exception", Kind.APPROVAL: "Approval"}


@dataclass(frozen=True)
class TrackedMessage:
    """The Teams message a "Track with Baton" dialog starts from."""

    text: str
    link: str = ""  # linkToMessage: the message's permalink
    id: str = ""
    author: str = ""


@dataclass(frozen=True)
class Choices:
    """What the form offers before one types: teams, people, and the requester's own team."""

    teams: tuple[str, ...]
    people: tuple[Person, ...]
    team: str = ""


@dataclass(frozen=True)
class Submitted:
    """A submitted form as a Create command, or the errors that stop it (by Field)."""

    command: Create | None
    errors: Errors
    kind: Kind | None = None


# --- reading what Teams sends -------------------------------------------------------------

class _Text(HTMLParser):
    """Teams message HTML as the text a person reads: blocks and <br> as line breaks,
    mentions as @name, every tag dropped."""

    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "blockquote", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")
        elif tag == "at":
            self.parts.append("@")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def message_text(body: Mapping[str, Any]) -> str:
    """A message payload's body (`{"contentType": "html"|"text", "content": …}`) as text."""
    content = body.get("content")
    if not isinstance(content, str):
        return ""
    if str(body.get("contentType", "")).lower() == "html":
        parser = _Text()
        parser.feed(content)
        parser.close()
        content = "".join(parser.parts)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in content.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def tracked_message(payload: Mapping[str, Any]) -> TrackedMessage:
    """`value.messagePayload` of a message action's invoke, as the message to track."""
    body = payload.get("body")
    sender = payload.get("from")
    user = sender.get("user") if isinstance(sender, Mapping) else None
    author = user.get("displayName") if isinstance(user, Mapping) else None
    link = payload.get("linkToMessage")
    ident = payload.get("id")
    return TrackedMessage(
        text=message_text(body) if isinstance(body, Mapping) else "",
        link=link if isinstance(link, str) and _is_link(link) else "",
        id=ident if isinstance(ident, str) else "",
        author=author if isinstance(author, str) else "",
    )


def _is_link(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and len(text) <= 2048


# --- what the form offers ----------------------------------------------------------------

def choices(directory: Directory, requester: str) -> Choices:
    """The teams (the requester's first) and people (their teammates first, the requester
    last: one rarely hands work to oneself) the form offers."""
    mine = directory.teams_of(requester)
    teams = [t.name for t in mine] + [t.name for t in directory.teams() if t not in mine]
    me = directory.person(requester)
    people = _people(directory, first=mine)
    people = [p for p in people if p != me] + [p for p in people if p == me]
    return Choices(tuple(teams), tuple(people), team=directory.home_team(requester))


def _people(directory: Directory, first: list[Any] | None = None) -> list[Person]:
    """Everyone in a team (leads and members), the given teams' people first, each once."""
    ordered = [*(first or []), *directory.teams()]
    seen: dict[str, Person] = {}
    for team in ordered:
        for handle in (team.lead, *team.members):
            person = directory.person(handle) if handle else None
            if person is not None and person.id not in seen:
                seen[person.id] = person
    return list(seen.values())


def _person_title(person: Person) -> str:
    return f"{person.name} (@{person.id})" if person.name != person.id else f"@{person.id}"


def people_search(directory: Directory, value: Mapping[str, Any]) -> dict[str, Any]:
    """The answer to an `application/search` invoke on PEOPLE_DATASET: the people whose
    handle, name or e-mail holds the typed text (anyone Baton would take, in an open
    directory), a page at a time."""
    if value.get("dataset") != PEOPLE_DATASET:
        return _search_results([])
    typed = value.get("queryText")
    query = typed.strip().removeprefix("@").lower() if isinstance(typed, str) else ""
    options = value.get("queryOptions")
    skip, top = 0, SEARCH_RESULTS
    if isinstance(options, Mapping):
        skip = _count(options.get("skip"), 0, 0, 10_000)
        top = _count(options.get("top"), SEARCH_RESULTS, 1, SEARCH_RESULTS)
    found = [p for p in sorted(_people(directory), key=lambda p: p.name.lower())
             if not query or any(query in part.lower() for part in (p.id, p.name, p.email))]
    if query and not found:
        anyone = directory.person(query)  # an open directory takes any handle
        found = [anyone] if anyone is not None else []
    return _search_results([{"title": _person_title(p), "value": p.id}
                            for p in found[skip:skip + top]])


def _count(value: Any, default: int, low: int, high: int) -> int:
    return min(max(value, low), high) if isinstance(value, int) and not isinstance(
        value, bool) else default


def _search_results(results: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": SEARCH_RESPONSE_TYPE, "value": {"results": results}}


# --- the forms ---------------------------------------------------------------------------

def track_dialog(message: TrackedMessage, offered: Choices) -> dict[str, Any]:
    """The answer to "Track with Baton": the form, filled in from the message and linked to it."""
    title = _clip(next((ln for ln in message.text.splitlines() if ln.strip()), ""), TITLE_CHARS)
    values = {Field.TITLE.value: title, Field.DETAILS.value: _clip(message.text, DETAILS_CHARS)}
    head: list[Card] = [_heading("Track a message")]
    if message.text:
        who = f"{message.author}: " if message.author else ""
        head.append(_runs([(who, {"weight": "bolder"}),
                           (_clip(message.text.replace("\n", " "), QUOTE_CHARS),
                            {"italic": True})], subtle=True))
    hidden = {"message": message.id, "link": message.link}
    return task(_form(offered, None, values, {}, head, hidden), "Track with Baton")


def new_dialog(offered: Choices, kind: Kind | None = None) -> dict[str, Any]:
    """The answer to "New handoff/exception/approval": the empty form (of one kind, or with
    the kind chosen in it)."""
    heading = f"New {kind.value}" if kind else "New handoff, exception or approval"
    return task(_form(offered, kind, {}, {}, [_heading(heading)], {}), heading)


def dialog_again(data: Mapping[str, Any], errors: Errors, offered: Choices) -> dict[str, Any]:
    """The submitted form once more, as it was filled in, with each error under its field
    (Field.FORM's at the top): for a form `read_form` refused, or the core refused."""
    kind = _kind(data.get("kind"))
    values = {f.value: v for f in Field if isinstance(v := data.get(f.value), str)}
    link = data.get("link")
    hidden = {"message": _string(data.get("message")),
              "link": link if isinstance(link, str) and _is_link(link) else ""}
    heading = "Track a message" if hidden["link"] or hidden["message"] else \
        f"New {kind.value}" if kind else "New handoff, exception or approval"
    return task(_form(offered, kind, values, errors, [_heading(heading)], hidden), heading)


def task(card: Card, title: str) -> dict[str, Any]:
    """A dialog showing `card` (the `task` answer to a fetch or a submit)."""
    return {"task": {"type": "continue", "value": {
        "title": title, "card": {"contentType": CARD_CONTENT_TYPE, "content": card}}}}


def task_message(text: str) -> dict[str, Any]:
    """Close the form with a short message (the item was created: say which)."""
    return {"task": {"type": "message", "value": text}}


def card_bytes(card: Card) -> int:
    return len(json.dumps(card).encode("utf-8"))


def _form(offered: Choices, kind: Kind | None, values: Mapping[str, str], errors: Errors,
          head: list[Card], hidden: dict[str, str]) -> Card:
    """The form, offering fewer teams and people at once until it fits in one card."""
    teams, people = len(offered.teams), len(offered.people)
    while True:
        card = _form_card(offered, kind, values, errors, head, hidden,
                          teams=min(teams, MAX_TEAMS), people=min(people, SEARCH_RESULTS))
        if card_bytes(card) <= MAX_CARD_BYTES or teams <= 1:
            return card
        teams //= 2


def _form_card(offered: Choices, kind: Kind | None, values: Mapping[str, str], errors: Errors,
               head: list[Card], hidden: dict[str, str], *, teams: int, people: int) -> Card:
    shown = _Offer(offered, teams, people)
    body = [*head, *_error(errors, Field.FORM)]
    link = hidden.get("link")
    if link:
        body.append({"type": "ActionSet", "actions": [
            {"type": "Action.OpenUrl", "title": "Open the message", "url": link}]})
    body += _text_input(Field.TITLE, "Title", values, errors, TITLE_CHARS, required=True,
                        placeholder="What needs doing?")
    if kind is not None:
        body += _kind_fields(kind, shown, values, errors)
    body += _common_fields(values, errors)
    data = {**FORM_MARK, **{k: v for k, v in hidden.items() if v}}
    if kind is not None:
        actions = [_submit(kind, data)]
    else:
        actions = [{"type": "Action.ShowCard", "title": _KIND_LABEL[k], "card": {
            "type": "AdaptiveCard", "body": _kind_fields(k, shown, values, errors),
            "actions": [_submit(k, data)]}} for k in Kind]
    return {"type": "AdaptiveCard", "version": "1.5", "body": body, "actions": actions}


def _submit(kind: Kind, data: dict[str, str]) -> Card:
    return {"type": "Action.Submit", "title": f"Create {kind.value}", "style": "positive",
            "data": {**data, "kind": kind.value}}


class _Offer:
    """The choices one form offers: the first `teams` teams, the first `people` people."""

    def __init__(self, offered: Choices, teams: int, people: int) -> None:
        self.all_teams = len(offered.teams)
        self.teams = list(offered.teams[:teams])
        self.people = list(offered.people[:people])
        self.known = {p.id: p for p in offered.people}
        self.team = offered.team

    def team_hint(self) -> str:
        if self.all_teams <= len(self.teams):
            return ""
        return (f"Showing {len(self.teams)} of {self.all_teams} teams; for another, type the "
                f"command with --team.")


def _kind_fields(kind: Kind, shown: _Offer, values: Mapping[str, str],
                 errors: Errors) -> list[Card]:
    if kind is Kind.HANDOFF:
        return [*_people_input(Field.HANDOFF_PERSON, "Hand off to a person", shown, values,
                               errors),
                *_team_input(Field.HANDOFF_TEAM, "…or to a team's queue", shown, values, errors,
                             default=False),
                _hint("A handoff goes to a person or to a team: choose one.")]
    if kind is Kind.EXCEPTION:
        return [*_people_input(Field.EXCEPTION_OWNER, "Owner", shown, values, errors),
                _hint("Leave the owner empty to put it in the team's triage queue."),
                *_team_input(Field.EXCEPTION_TEAM, "Team", shown, values, errors)]
    policy = values.get(Field.POLICY) or "any"
    return [*_people_input(Field.APPROVERS, "Approvers", shown, values, errors, multi=True),
            *_input(Field.POLICY, errors, {
                "type": "Input.ChoiceSet", "label": "Policy", "style": "compact",
                "choices": [{"title": p, "value": p} for p in POLICIES],
                "value": policy if policy in POLICIES else "any"}),
            _hint("any: the first decision wins; all; sequence: in order; quorum:N approvals."),
            *_team_input(Field.APPROVAL_TEAM, "Team", shown, values, errors)]


def _common_fields(values: Mapping[str, str], errors: Errors) -> list[Card]:
    priority = values.get(Field.PRIORITY) or Priority.NORMAL.value
    due = {"type": "ColumnSet", "columns": [
        {"type": "Column", "width": "stretch", "items": _input(
            Field.DUE_DATE, errors, {"type": "Input.Date", "label": "Due date",
                                     **_value(values, Field.DUE_DATE)})},
        {"type": "Column", "width": "stretch", "items": _input(
            Field.DUE_TIME, errors, {"type": "Input.Time", "label": "Due time",
                                     **_value(values, Field.DUE_TIME)})},
    ]}
    return [*_input(Field.PRIORITY, errors, {
                "type": "Input.ChoiceSet", "label": "Priority", "style": "compact",
                "isRequired": True, "errorMessage": "Choose a priority.",
                "choices": [{"title": p.value.capitalize(), "value": p.value} for p in Priority],
                "value": priority if priority in {p.value for p in Priority} else "normal"}),
            due,
            _hint("In your time zone; a date alone means 17:00 that day."),
            *_text_input(Field.DETAILS, "Details", values, errors, DETAILS_CHARS,
                         multiline=True)]


def _people_input(field: Field, label: str, shown: _Offer, values: Mapping[str, str],
                  errors: Errors, *, multi: bool = False) -> list[Card]:
    chosen = [v for v in (values.get(field) or "").split(",") if v.strip()]
    offered = list(shown.people)
    for handle in chosen:  # what was picked keeps its name when the form shows again
        person = shown.known.get(handle.strip())
        if person is not None and person not in offered:
            offered.append(person)
    element: Card = {
        "type": "Input.ChoiceSet", "label": label, "isMultiSelect": multi, "style": "compact",
        "placeholder": "Type a name", "choices": [
            {"title": _person_title(p), "value": p.id} for p in offered],
        "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET},
    }
    if chosen:
        element["value"] = ",".join(c.strip() for c in chosen)
    return _input(field, errors, element)


def _team_input(field: Field, label: str, shown: _Offer, values: Mapping[str, str],
                errors: Errors, *, default: bool = True) -> list[Card]:
    picked = values.get(field, shown.team if default else "")
    element: Card = {"type": "Input.ChoiceSet", "label": label, "style": "compact",
                     "placeholder": "Choose a team",
                     "choices": [{"title": f"#{t}", "value": t} for t in shown.teams]}
    if picked in shown.teams:
        element["value"] = picked
    found = _input(field, errors, element)
    hint = shown.team_hint()
    return [*found, _hint(hint)] if hint else found


def _text_input(field: Field, label: str, values: Mapping[str, str], errors: Errors,
                limit: int, *, required: bool = False, multiline: bool = False,
                placeholder: str = "") -> list[Card]:
    element: Card = {"type": "Input.Text", "label": label, "maxLength": limit,
                     "isMultiline": multiline, **_value(values, field, limit)}
    if required:
        element |= {"isRequired": True, "errorMessage": f"{label} is needed."}
    if placeholder:
        element["placeholder"] = placeholder
    return _input(field, errors, element)


def _value(values: Mapping[str, str], field: Field, limit: int = 0) -> Card:
    value = values.get(field)
    if not value:
        return {}
    return {"value": _clip(value, limit) if limit else value}


def _input(field: Field, errors: Errors, element: Card) -> list[Card]:
    return [{"id": field.value, **element}, *_error(errors, field)]


def _error(errors: Errors, field: Field) -> list[Card]:
    message = errors.get(field)
    return [_runs([(message, {"color": "attention"})])] if message else []


def _heading(text: str) -> Card:
    return {"type": "TextBlock", "text": text, "size": "medium", "weight": "bolder",
            "wrap": True}


def _hint(text: str) -> Card:
    return {"type": "TextBlock", "text": text, "isSubtle": True, "size": "small", "wrap": True,
            "spacing": "none"}


def _runs(runs: list[tuple[str, dict[str, Any]]], *, subtle: bool = False) -> Card:
    """Text shown exactly as given (a TextRun is never read as markdown)."""
    return {"type": "RichTextBlock", "inlines": [
        {"type": "TextRun", "text": text, **({"isSubtle": True} if subtle else {}), **style}
        for text, style in runs if text]}


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters; a shortened text ends with an ellipsis that says so."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# --- reading a submitted form ------------------------------------------------------------

def read_form(data: Mapping[str, Any], directory: Directory, *,
              channel: str = "") -> Submitted:
    """The submitted data (inputs and the form's own data) as a Create command for the core,
    or every error found, each under its field. `channel` is the conversation the dialog was
    opened in, from the activity (never from the form)."""
    kind = _kind(data.get("kind"))
    if kind is None or data.get("baton") != FORM_MARK["baton"]:
        return Submitted(None, {Field.FORM: "This form is not one Baton knows; open it "
                                            "again."})
    texts: dict[Field, Any] = {f: data.get(f.value, "") for f in Field if f is not Field.FORM}
    if not all(isinstance(v, str) for v in texts.values()):
        return Submitted(None, {Field.FORM: "The form came back damaged; open it again."},
                         kind)
    errors: Errors = {}
    title = " ".join(str(texts[Field.TITLE]).split())
    if not title:
        errors[Field.TITLE] = "A title is needed."
    elif len(title) > TITLE_CHARS:
        errors[Field.TITLE] = f"The title is {len(title)} characters; {TITLE_CHARS} at most."
    details = str(texts[Field.DETAILS]).strip()
    if len(details) > DETAILS_CHARS:
        errors[Field.DETAILS] = (f"The details are {len(details)} characters; "
                                 f"{DETAILS_CHARS} at most.")
    priority = str(texts[Field.PRIORITY]).strip() or Priority.NORMAL.value
    if priority not in {p.value for p in Priority}:
        errors[Field.PRIORITY] = "Choose urgent, high, normal or low."
    due = _due(str(texts[Field.DUE_DATE]), str(texts[Field.DUE_TIME]), errors)
    link = _string(data.get("link"))
    if link and not _is_link(link):
        errors[Field.FORM] = "The link to the message is not an https address; open the " \
                             "form again from the message."
    parts = _kind_parts(kind, texts, directory, errors)
    if errors:
        return Submitted(None, errors, kind)
    return Submitted(Create(kind, title, **parts, priority=Priority(priority), due=due,
                            details=details, channel=channel,
                            message=_string(data.get("message"))[:200], permalink=link),
                     {}, kind)


def _kind(value: Any) -> Kind | None:
    return Kind(value) if value in {k.value for k in Kind} else None


def _string(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _due(day_text: str, clock_text: str, errors: Errors) -> DueSpec | None:
    day_text, clock_text = day_text.strip(), clock_text.strip()
    day = at = None
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        errors[Field.DUE_DATE] = "That is not a date (YYYY-MM-DD)."
    try:
        at = time.fromisoformat(clock_text) if clock_text else None
    except ValueError:
        errors[Field.DUE_TIME] = "That is not a time of day (HH:MM)."
    if (day_text and day is None) or (clock_text and at is None) or not (day or at):
        return None
    if day is None:
        return DueSpec(text=f"today {clock_text}", day_offset=0, at=at)
    return DueSpec(text=f"{day_text} {clock_text}".strip(), on=day, at=at)


def _kind_parts(kind: Kind, texts: Mapping[Field, Any], directory: Directory,
                errors: Errors) -> dict[str, Any]:
    """The kind's own fields of Create: receiver; owner and team; approvers, policy, team."""
    if kind is Kind.HANDOFF:
        person = _person(directory, texts[Field.HANDOFF_PERSON], Field.HANDOFF_PERSON, errors)
        queue = _team(directory, texts[Field.HANDOFF_TEAM], Field.HANDOFF_TEAM, errors)
        if not errors and bool(person) == bool(queue):
            errors[Field.HANDOFF_PERSON] = "Choose a person or a team (one of them)."
        return {"to": Target(person, team=False) if person else Target(queue or "", team=True)}
    if kind is Kind.EXCEPTION:
        return {"owner": _person(directory, texts[Field.EXCEPTION_OWNER],
                                 Field.EXCEPTION_OWNER, errors) or None,
                "team": _team(directory, texts[Field.EXCEPTION_TEAM], Field.EXCEPTION_TEAM,
                              errors) or None}
    approvers: list[str] = []
    for handle in str(texts[Field.APPROVERS]).split(","):
        found = _person(directory, handle, Field.APPROVERS, errors)
        if found and found not in approvers:
            approvers.append(found)
    if not approvers and Field.APPROVERS not in errors:
        errors[Field.APPROVERS] = "Choose at least one approver."
    policy = Policy()
    try:
        policy = Policy.parse(str(texts[Field.POLICY]) or "any")
    except ValueError:
        errors[Field.POLICY] = "Choose any, all, sequence or quorum:N."
    return {"approvers": tuple(approvers), "policy": policy,
            "team": _team(directory, texts[Field.APPROVAL_TEAM], Field.APPROVAL_TEAM,
                          errors) or None}


def _person(directory: Directory, value: str, field: Field, errors: Errors) -> str:
    """The handle of the person picked (by handle or Teams id), or "" and an error."""
    handle = value.strip()
    if not handle:
        return ""
    person = directory.person(handle)
    if person is None:
        errors[field] = "Baton knows no one by that name: pick someone from the list."
        return ""
    return person.id


def _team(directory: Directory, value: str, field: Field, errors: Errors) -> str:
    name = value.strip()
    if not name:
        return ""
    team = directory.team(name)
    if team is None:
        errors[field] = "There is no such team: pick one from the list."
        return ""
    return team.name
