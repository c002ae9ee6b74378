"""Teams dialogs at work: the invokes of the message extension ("Track with Baton" on a message,
"New handoff/exception/approval" from the compose box), of dialogs opened from a card, and of
the people pickers' typeahead, answered as Teams' protocol asks.

- `composeExtension/fetchTask`, `task/fetch`: the form (`dialogs`), filled in from the message
  for "Track with Baton";
- `composeExtension/submitAction`, `task/submit`: the form read, and the item raised through the
  core's runner as the person who sent the activity (the validated sender, never a form field),
  in the conversation the dialog was opened in and linked to the tracked message. Raised: the
  item's card is posted in that conversation (in a channel, in the message's thread) as its
  copy there, kept current like any other, and the dialog closes. Refused: the form opens
  again as it was filled in, each error under its field. A retried submit raises nothing twice;
- `application/search`: the people pickers' choices for the text typed so far.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Protocol

from botbuilder.core import InvokeResponse, TurnContext

from adapters.teams import dialogs
from adapters.teams.dialogs import Field
from adapters.teams.turns import delivery_key
from bot import presenters as say
from bot.context import Request
from bot.items import Kind
from bot.people import Directory
from bot.rich import Kind as Part
from bot.rich import Rich
from bot.runner import Runner
from bot.service import Reply

log = logging.getLogger(__name__)

SURFACE = "teams"
FETCHES = frozenset({"composeExtension/fetchTask", "task/fetch"})
SUBMITS = frozenset({"composeExtension/submitAction", "task/submit"})
SEARCH = "application/search"
#: The people fields of each kind's form, where a refusal naming someone picked there belongs.
PEOPLE_FIELDS = (Field.HANDOFF_PERSON, Field.EXCEPTION_OWNER, Field.APPROVERS)
TEAM_FIELDS = (Field.HANDOFF_TEAM, Field.EXCEPTION_TEAM, Field.APPROVAL_TEAM)


class Answering(Protocol):
    """How the Teams runtime answers in the activity's conversation: the reply's text and cards,
    a new item's card recorded as its copy there (`home`)."""

    async def answer(self, turn_context: TurnContext, reply: Reply, *,
                     home: bool = False) -> None: ...


def ok(body: Mapping[str, Any]) -> InvokeResponse:
    return InvokeResponse(status=int(HTTPStatus.OK), body=dict(body))


def closed() -> InvokeResponse:
    """The dialog closes (an empty answer to a submit)."""
    return ok({})


class DialogTurns:
    """The runtime's `Dialogs`: every dialog, message-extension and typeahead invoke."""

    def __init__(self, workspace: str, runner: Runner, directory: Directory) -> None:
        self.workspace = workspace
        self.runner = runner
        self.directory = directory
        self.answering: Answering | None = None

    def answer_through(self, answering: Answering) -> None:
        """The runtime that answers in conversations (built after this: it holds this)."""
        self.answering = answering

    async def invoke(self, turn_context: TurnContext, sender: str) -> InvokeResponse:
        """`sender` is the Baton id of the activity's validated sender."""
        activity = turn_context.activity
        name = str(activity.name or "")
        value = activity.value if isinstance(activity.value, Mapping) else {}
        if name == SEARCH:
            return ok(dialogs.people_search(self.directory, value))
        if name not in FETCHES and name not in SUBMITS:
            return InvokeResponse(status=int(HTTPStatus.NOT_IMPLEMENTED))
        if self.directory.person(sender) is None:
            return ok(dialogs.task_message(str(say.unknown_person(sender))))
        if name in FETCHES:
            return ok(self.fetch(name, value, sender))
        if value.get("botMessagePreviewAction"):  # Baton asks for no previews: nothing to do
            return closed()
        return await self.submit(turn_context, value, sender)

    # --- opening a form ---------------------------------------------------------------------

    def fetch(self, name: str, value: Mapping[str, Any], sender: str) -> dict[str, Any]:
        offered = dialogs.choices(self.directory, sender)
        if name == "task/fetch":  # a card's button: {"baton": "new", "kind": …} in its data
            data = value.get("data")
            kind = data.get("kind") if isinstance(data, Mapping) else None
            return dialogs.new_dialog(offered, _kind(kind))
        command = value.get("commandId")
        if command == dialogs.TRACK_COMMAND:
            payload = value.get("messagePayload")
            message = dialogs.tracked_message(payload if isinstance(payload, Mapping) else {})
            return dialogs.track_dialog(message, offered)
        if command == dialogs.NEW_COMMAND:
            return dialogs.new_dialog(offered)
        return dialogs.task_message(f"Baton has no command {str(command)[:40]!r}; update the "
                                    f"app (baton teams package) and try again.")

    # --- a submitted form -------------------------------------------------------------------

    async def submit(self, turn_context: TurnContext, value: Mapping[str, Any],
                     sender: str) -> InvokeResponse:
        activity = turn_context.activity
        raw = value.get("data")
        data: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
        payload = value.get("messagePayload")
        if isinstance(payload, Mapping):
            # The message Teams says the dialog was opened on, over what the form carried.
            tracked = dialogs.tracked_message(payload)
            data |= {"message": tracked.id, "link": tracked.link}
        conversation = activity.conversation.id if activity.conversation else ""
        read = dialogs.read_form(data, self.directory, channel=conversation or "")
        offered = dialogs.choices(self.directory, sender)
        if read.command is None:
            return ok(dialogs.dialog_again(data, read.errors, offered))
        request = Request(self.workspace, sender, SURFACE, delivery_key(activity))
        reply = await self.runner.command(request, read.command)
        if reply.duplicate:
            log.info("duplicate Teams delivery ignored (dialog submit)")
            return closed()
        if not reply.ok:
            errors = {_field_of(reply.text, read.command.kind, data, self.directory):
                      str(reply.text)}
            return ok(dialogs.dialog_again(data, errors, offered))
        try:
            assert self.answering is not None, "DialogTurns.answer_through was not called"
            await self.answering.answer(turn_context, reply, home=True)
        except Exception as exc:  # not a member of this chat: the item stands, say where
            log.warning("could not post a new item's card in its conversation: %s",
                        type(exc).__name__)
            return ok(dialogs.task_message(str(reply.text)))
        return closed()


def _kind(value: Any) -> Kind | None:
    return Kind(value) if value in {k.value for k in Kind} else None


def _field_of(refusal: Rich, kind: Kind, data: Mapping[str, Any],
              directory: Directory) -> str:
    """The form field a refusal from the core belongs under: the picker of a person or the
    team it names, the due date when it speaks of the due time, else the whole form."""
    people = {span.text for span in refusal.spans if span.kind is Part.PERSON}
    teams = {span.text for span in refusal.spans if span.kind is Part.TEAM}
    for field in PEOPLE_FIELDS:
        persons = {person.id for pick in _picks(data, field)
                   if (person := directory.person(pick)) is not None}
        if people & persons:
            return field.value
    for field in TEAM_FIELDS:
        named = {team.name for pick in _picks(data, field)
                 if (team := directory.team(pick)) is not None}
        if teams & named:
            return field.value
    said = str(refusal)
    if "due time" in said and any(_picks(data, f) for f in (Field.DUE_DATE, Field.DUE_TIME)):
        return Field.DUE_DATE.value
    if kind is Kind.APPROVAL and "approv" in said:  # who may approve, and how many
        return Field.APPROVERS.value
    return Field.FORM.value


def _picks(data: Mapping[str, Any], field: Field) -> list[str]:
    value = data.get(field.value)
    return [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else []
