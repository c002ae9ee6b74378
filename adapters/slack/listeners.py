"""Baton's Slack listeners, registered on a Bolt AsyncApp: one module per kind of payload.

Every listener reads its payload into a typed model first (adapters/slack/payloads.py), so a
payload Baton cannot read is answered with a short message (or a 200 and a log line), never a
traceback. Replays and Slack's retries are dropped by `Once` before any listener runs. Events
are acknowledged at once and handled afterwards.
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from adapters.slack.answering import Answering
from adapters.slack.buttons import CARD_ACTION, NEW_ACTION, Buttons
from adapters.slack.dedup import Once
from adapters.slack.errors import on_error
from adapters.slack.events import Events
from adapters.slack.modals import Modals
from adapters.slack.payloads import CallbackId
from adapters.slack.shortcuts import Shortcuts
from adapters.slack.slash import Slash
from bot.ports import Deduplicator


def register(app: AsyncApp, answering: Answering, dedup: Deduplicator,
             reaction_emoji: str = "") -> None:
    slash, buttons, modals = Slash(answering), Buttons(answering), Modals(answering)
    shortcuts = Shortcuts(answering)
    events = Events(answering, dedup, reaction_emoji, shortcuts)
    app.middleware(Once(dedup))
    app.error(on_error)
    app.command(re.compile(r"^/"))(slash.on_command)
    app.action(CARD_ACTION)(buttons.on_card)
    app.action(NEW_ACTION)(buttons.on_new)
    app.view(CallbackId.CREATE.value)(modals.on_create)
    app.view(CallbackId.REASON.value)(modals.on_reason)
    app.shortcut(CallbackId.TRACK.value)(shortcuts.on_track)
    app.shortcut(CallbackId.NEW.value)(shortcuts.on_new)
    app.event("app_home_opened")(events.after_ack(events.on_home_opened))
    app.event("reaction_added")(events.after_ack(events.on_reaction))
    app.event("app_mention")(events.after_ack(events.on_mention))
