"""What Baton does with each Teams activity that passed the token check: botbuilder's
TeamsActivityHandler dispatches it, these methods answer.

- a message: `@Baton <verb> …` in a channel or group chat (the bot's mention removed), `<verb> …`
  in a 1:1 chat, run as the sender; the answer goes back in the same conversation (in a
  channel, in the thread it was typed in), a new item's card with it;
- `adaptiveCard/action`: a click on a card's button (or Teams asking for one person's view of a
  shared card), answered with the card as it now stands for that person;
- `installationUpdate`, `conversationUpdate` and any first message: the conversation kept, so
  Baton can post there later;
- dialogs and the message extension: handed to `dialogs`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from http import HTTPStatus
from typing import Any, Protocol

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity, ActivityTypes

from adapters.teams.clicks import ValidationError, read_click
from adapters.teams.compose import Composer
from adapters.teams.kept import CHANNEL, PERSONAL, Kept, base_id, kind_of
from adapters.teams.markdown import Mentioned, read
from adapters.teams.people import MentionError, Profile, TeamsPeople, entities_of
from adapters.teams.views import SURFACE, Views
from bot import presenters as say
from bot.cards import Card
from bot.commands import Act, Command, Create
from bot.context import Request
from bot.ports import CardPost
from bot.rich import Rich, text
from bot.rules import NEEDS_REASON, Verb
from bot.runner import Runner
from bot.service import Reply

log = logging.getLogger(__name__)

CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
UNREADABLE_BUTTON = "Baton could not read that button; nothing was changed."
STALE_BUTTON = text("That button did not match its card; nothing was changed. "
                    "Here is the card as it stands.")
GONE = "That item is no longer there."
REASON_CHARS = 3000
VERBS = frozenset(verb.value for verb in Verb)

Lookup = Callable[[str], Awaitable[Profile | None]]

#: The invokes Turns hands to `dialogs` (dialogs, task modules and the message extension).
#: The dialogs module plugs in as TeamsSurface(..., dialogs=...) in baton/wire_teams.py; a new
#: invoke name it answers is one more entry here.
DIALOG_INVOKES = frozenset({
    "task/fetch", "task/submit",
    "composeExtension/fetchTask", "composeExtension/submitAction", "composeExtension/query",
    "composeExtension/selectItem", "composeExtension/queryLink",
    "application/search",
})


class Dialogs(Protocol):
    """Dialogs (task modules) and the message extension: `task/fetch`, `task/submit` and
    `composeExtension/*` invokes, answered with what Teams shows next."""

    async def invoke(self, turn_context: TurnContext, sender: str) -> InvokeResponse: ...


def delivery_key(activity: Activity) -> str:
    """What makes a Teams activity the same one when Teams sends it again."""
    conversation = activity.conversation.id if activity.conversation else ""
    raw = f"{conversation}\x00{activity.id or ''}".encode()
    return "teams:" + hashlib.sha256(raw).hexdigest()[:40]


def invoke_response(kind: str, value: Any) -> InvokeResponse:
    return InvokeResponse(status=int(HTTPStatus.OK),
                          body={"statusCode": int(HTTPStatus.OK), "type": kind, "value": value})


class Turns(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(self, workspace: str, runner: Runner, people: TeamsPeople, composer: Composer,
                 kept: Kept, views: Views, dialogs: Dialogs | None = None) -> None:
        self.workspace = workspace
        self.runner = runner
        self.people = people
        self.composer = composer
        self.kept = kept
        self.views = views
        self.dialogs = dialogs

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        removed = activity.type == ActivityTypes.installation_update and \
            str(activity.action or "").startswith("remove")
        if activity.type in (ActivityTypes.message, ActivityTypes.conversation_update,
                             ActivityTypes.installation_update, ActivityTypes.invoke) \
                and not removed:
            await self.kept.note(activity)
        await super().on_turn(turn_context)

    # --- who asks -------------------------------------------------------------------------

    def lookup(self, turn_context: TurnContext) -> Lookup:
        """Asks Teams about a member of the activity's team or chat."""
        async def member(user: str) -> Profile | None:
            found = await TeamsInfo.get_member(turn_context, user)
            return Profile.from_member(found) if found is not None else None
        return member

    async def command_text(self, activity: Activity, lookup: Lookup) -> str:
        """The message as Baton's command text: the bot's own mention removed, people as
        `@person`, channels of a team as `#team`, everything else as typed."""
        bot = activity.recipient.id if activity.recipient else ""
        out: list[str] = []
        for piece in read(activity.text or "", entities_of(activity)):
            if not isinstance(piece, Mentioned):
                out.append(piece)
            elif piece.id == bot:
                continue
            elif piece.id.startswith("19:"):  # a channel or a team
                team = next((t for t in self.people.directory.teams()
                             if t.channel(SURFACE) == piece.id), None)
                out.append(f"#{team.name}" if team else piece.name)
            else:
                person = await self.people.mentioned(piece, lookup)
                out.append(f"@{person.id}")
        return " ".join("".join(out).split())

    # --- messages -------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.value is not None and not activity.text:
            return  # an old-style card submit: Baton's cards use Universal Actions
        lookup = self.lookup(turn_context)
        person = await self.people.sender(activity, lookup)
        try:
            line = await self.command_text(activity, lookup)
        except MentionError as exc:
            await self.answer(turn_context, Reply(say.cannot_use(str(exc)), ok=False))
            return
        request = Request(self.workspace, person, SURFACE, delivery_key(activity))
        created: list[bool] = []

        def raised_here(command: Command) -> Command:
            if isinstance(command, Create):
                created.append(True)
                return replace(command, channel=activity.conversation.id,
                               message=activity.id or "")
            return command

        reply = await self.runner.text(request, line, raised_here)
        if reply.duplicate:
            log.info("duplicate Teams delivery ignored (message)")
            return
        await self.answer(turn_context, reply, home=bool(created) and reply.ok)

    async def answer(self, turn_context: TurnContext, reply: Reply, *,
                     home: bool = False) -> None:
        """The reply in the conversation (a channel thread's reply in that thread). A new
        item's card sent with it is that item's copy there: kept current like any other."""
        activity = turn_context.activity
        shared = kind_of(activity) != PERSONAL
        cards = [await self.reply_card(turn_context, card, shared) for card in reply.cards]
        for message in self.composer.messages(reply.text, cards):
            sent = await turn_context.send_activity(message)
            if home and message.attachments and sent is not None and sent.id:
                await self.views.record(CardPost(self.workspace, reply.cards[0].number,
                                                 SURFACE, activity.conversation.id, sent.id))

    async def reply_card(self, turn_context: TurnContext, card: Card,
                         shared: bool) -> dict[str, Any]:
        """A card for one person carries their buttons; one in a channel or group chat none,
        but asks Teams to fetch each of the item's people their own view."""
        if not shared:
            return self.composer.card(card)
        item = await self.views.item(self.workspace, card.number)
        people = self.views.people_with_buttons(item) if item is not None else []
        return self.composer.card(card, buttons=False,
                                  refresh_for=await self.people.mris(people,
                                                              self.lookup(turn_context)))

    # --- clicks ---------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        name = str(turn_context.activity.name or "")
        if name == "adaptiveCard/action":
            return await self.on_card_action(turn_context)
        if name in DIALOG_INVOKES:
            if self.dialogs is None:
                return InvokeResponse(status=int(HTTPStatus.NOT_IMPLEMENTED))
            sender = await self.people.sender(turn_context.activity,
                                              self.lookup(turn_context))
            return await self.dialogs.invoke(turn_context, sender)
        return await super().on_invoke_activity(turn_context)

    async def on_card_action(self, turn_context: TurnContext) -> InvokeResponse:
        """A click: the verb run as the person who clicked (the validated sender, never the
        card's data), answered with the card as it now stands for them. A refusal, a missing
        reason or a button that does not match its card comes back on the card."""
        activity = turn_context.activity
        try:
            click = read_click(activity.value, self.composer.signer)
        except ValidationError:
            return invoke_response(MESSAGE_RESPONSE, UNREADABLE_BUTTON)
        lookup = self.lookup(turn_context)
        person = await self.people.sender(activity, lookup)
        if self.people.directory.person(person) is None:
            return invoke_response(MESSAGE_RESPONSE, str(say.unknown_person(person)))
        shared = kind_of(activity) != PERSONAL
        if click.verb == "refresh" and click.signed:
            return await self.card_response(turn_context, click.item, person, shared)
        if not click.signed or click.verb not in VERBS:
            log.warning("a Teams card click whose data does not match its card was refused")
            return await self.card_response(turn_context, click.item, person, shared,
                                            STALE_BUTTON)
        verb = Verb(click.verb)
        request = Request(self.workspace, person, SURFACE, delivery_key(activity))
        if (verb in NEEDS_REASON and not click.reason) or len(click.reason) > REASON_CHARS:
            # The grammar says what is missing, in the words it uses for typed commands.
            reply = await self.runner.text(request, f"{verb.value} #{click.item} "
                                                    f"{click.reason}")
        else:
            reply = await self.runner.command(request, Act(verb, click.item, click.reason))
        if reply.ok and reply.cards:
            return self.card_invoke(await self.shared_card(turn_context, reply.cards[0])
                                    if shared else self.composer.card(reply.cards[0]))
        error = None if reply.ok or reply.duplicate else reply.text
        return await self.card_response(turn_context, click.item, person, shared, error)

    async def shared_card(self, turn_context: TurnContext, card: Card) -> dict[str, Any]:
        """The clicker's own view of a shared card: their buttons, and the refresh that keeps
        every other person's view theirs."""
        item = await self.views.item(self.workspace, card.number)
        people = self.views.people_with_buttons(item) if item is not None else []
        return self.composer.card(card, refresh_for=await self.people.mris(
            people, self.lookup(turn_context)))

    async def card_response(self, turn_context: TurnContext, number: int, person: str,
                            shared: bool, error: Rich | None = None) -> InvokeResponse:
        found = await self.views.card(self.workspace, number, person)
        if found is None:
            return invoke_response(MESSAGE_RESPONSE, GONE)
        item, card = found
        if not shared:
            return self.card_invoke(self.composer.card(card, error=error))
        people = self.views.people_with_buttons(item)
        mris = await self.people.mris(people, self.lookup(turn_context))
        return self.card_invoke(self.composer.card(card, error=error, refresh_for=mris))

    @staticmethod
    def card_invoke(card: dict[str, Any]) -> InvokeResponse:
        return invoke_response(CARD_RESPONSE, card)

    # --- where Baton is -------------------------------------------------------------------

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._gone(turn_context)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Kept already (on_turn); a removal of the bot itself forgets the conversation.
        (botbuilder's own dispatch would ask Teams about every member added: not needed.)"""
        activity = turn_context.activity
        bot = activity.recipient.id if activity.recipient else None
        if any(member.id == bot for member in activity.members_removed or []):
            await self._gone(turn_context)

    async def _gone(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.conversation is not None and activity.conversation.id:
            conversation = activity.conversation.id
            await self.kept.forget(base_id(conversation) if kind_of(activity) == CHANNEL
                                   else conversation)
