"""Typed shapes of what Slack sends Baton and of what Baton stores in buttons and modals.

Slack's payloads are read into these models (unknown fields ignored); a payload that does
not fit is bad input, answered with a short message rather than a traceback. Button values
and modal metadata are Baton's own JSON, parsed back when Slack returns them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from bot.cards import ACTION_LABELS
from bot.items import Kind
from bot.rules import NEEDS_REASON, Verb

__all__ = ["ValidationError"]

ACTION_PREFIX = "baton."
NEW_PREFIX = "baton.new."


class CallbackId(StrEnum):
    """callback_id of Baton's modals and shortcuts."""

    CREATE = "baton_create"
    REASON = "baton_reason"
    TRACK = "baton_track"  # message shortcut: "Track with Baton"
    NEW = "baton_new"  # global shortcut: "New Baton item"
    NOTICE = "baton_notice"  # a modal that only tells something


def action_id(verb: Verb | str) -> str:
    """The action_id of a card button: one per verb, as in `baton.accept`."""
    return f"{ACTION_PREFIX}{verb}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _a_button(verb: Verb) -> Verb:
    if verb not in ACTION_LABELS:
        raise ValueError(f"no button does {verb}")
    return verb


def _asks_a_reason(verb: Verb) -> Verb:
    if verb not in NEEDS_REASON:
        raise ValueError(f"{verb} asks no reason")
    return verb


class ButtonValue(_Model):
    """The value of a card button: which verb on which item (only verbs cards offer)."""

    verb: Annotated[Verb, AfterValidator(_a_button)]
    number: int = Field(ge=1)


class ReasonMeta(_Model):
    """private_metadata of the reason modal: the verb and item it completes, and where from."""

    verb: Annotated[Verb, AfterValidator(_asks_a_reason)]
    number: int = Field(ge=1)
    channel: str = ""


class CreateMeta(_Model):
    """private_metadata of the create modal: a fixed kind, and the message it tracks."""

    kind: Kind | None = None
    channel: str = ""
    message_ts: str = ""


# --- what Slack sends -------------------------------------------------------------------

class SlashCommand(_Model):
    team_id: str
    enterprise_id: str | None = None
    user_id: str = Field(min_length=1)
    channel_id: str = ""
    channel_name: str = ""
    command: str = ""
    text: str = ""
    response_url: str = ""
    trigger_id: str = ""


class Ref(_Model):
    id: str = Field(min_length=1)


class Team(_Model):
    id: str | None = None
    enterprise_id: str | None = None


class ActionItem(_Model):
    action_id: str
    value: str = ""
    action_ts: str = ""


class Container(_Model):
    type: str = ""
    channel_id: str = ""
    message_ts: str = ""
    view_id: str = ""


class BlockAction(_Model):
    user: Ref
    team: Team | None = None
    trigger_id: str = ""
    response_url: str = ""
    container: Container = Container()
    channel: Ref | None = None
    actions: list[ActionItem] = Field(min_length=1)

    @property
    def action(self) -> ActionItem:
        return self.actions[0]

    @property
    def channel_id(self) -> str:
        return self.container.channel_id or (self.channel.id if self.channel else "")


class StateValue(_Model):
    """One input's value, whatever its element type."""

    type: str = ""
    value: str | None = None
    selected_user: str | None = None
    selected_users: list[str] | None = None
    selected_option: dict[str, Any] | None = None
    selected_date: str | None = None
    selected_time: str | None = None
    selected_conversation: str | None = None

    @property
    def option(self) -> str | None:
        value = (self.selected_option or {}).get("value")
        return value if isinstance(value, str) else None


class ViewState(_Model):
    values: dict[str, dict[str, StateValue]] = {}


class View(_Model):
    id: str = ""
    hash: str = ""
    callback_id: str = ""
    private_metadata: str = ""
    state: ViewState = ViewState()

    def value(self, block: str) -> StateValue:
        """The input of block `block` (Baton names each input's action after its block)."""
        return self.state.values.get(block, {}).get(block, StateValue())


class ViewSubmission(_Model):
    user: Ref
    team: Team | None = None
    view: View
    trigger_id: str = ""


class MessageRef(_Model):
    text: str = ""
    ts: str = ""
    thread_ts: str | None = None


class MessageShortcut(_Model):
    user: Ref
    team: Team | None = None
    channel: Ref
    trigger_id: str
    message_ts: str
    message: MessageRef = MessageRef()
    response_url: str = ""


class GlobalShortcut(_Model):
    user: Ref
    team: Team | None = None
    trigger_id: str


class ReactionItem(_Model):
    type: str
    channel: str = ""
    ts: str = ""


class ReactionAdded(_Model):
    user: str
    reaction: str
    item: ReactionItem


class HomeOpened(_Model):
    user: str
    tab: str = "home"


class AppMention(_Model):
    user: str
    text: str = ""
    channel: str
    ts: str = ""
    thread_ts: str | None = None
