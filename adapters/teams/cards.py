"""Adaptive Cards (version 1.5, what Teams renders) for items and for longer messages.

An item's card has an `Action.Execute` (a Universal Action) for each button its viewer may
press; the four verbs that need a reason (decline, reject, resolve, block) open an
`Action.ShowCard` asking for it in a required `Input.Text`. A copy seen by several people (a
channel, a group chat) carries no buttons itself but a `refresh` naming the people who have
some (`userIds`): Teams asks Baton for each of them, on sight, for the card as they should see
it. A card that grew past Teams' limit (about 28 KB) loses its details first, saying so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from adapters.teams.clicks import REFRESH_VERB, VERB_PREFIX, Signer
from adapters.teams.markdown import Renderer, escape
from bot.cards import Card, CardAction
from bot.rich import Rich

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERSION = "1.5"
#: Teams refuses a card over about 28 KB; Baton keeps each well under it.
CARD_BYTES = 26_000
#: At most this many buttons side by side; the rest go to the card's "…" menu.
PRIMARY_ACTIONS = 5
#: Teams refreshes a card automatically for at most 60 people.
REFRESH_PEOPLE = 60
TITLE_CHARS = 250
DETAILS_CHARS = 3000
REASON_CHARS = 500
_STYLES = {"primary": "positive", "danger": "destructive"}

Json = dict[str, Any]


def size(card: Json) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def text_block(text: str, **style: Any) -> Json:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def item_card(card: Card, renderer: Renderer, signer: Signer, *, buttons: bool = True,
              refresh_for: Sequence[str] | None = None, error: Rich | None = None) -> Json:
    """The item's card. `buttons`: the card's own actions are shown (a copy one person sees);
    `refresh_for`: the Teams user ids who get their own view of a shared copy; `error`: why
    the last click did nothing, shown on the card."""
    mentions: list[Json] = []
    body: list[Json] = [text_block(
        f"{escape(card.kind.capitalize())} #{card.number}: {escape(clip(card.title, TITLE_CHARS))}",
        weight="Bolder", size="Medium")]
    if error:
        body.append(text_block(renderer.inline(error, mentions), color="Attention"))
    facts: list[Json] = []
    for label, value in card.fields:
        lines = renderer.lines(value, mentions)
        if len(lines) <= 1:
            facts.append({"title": escape(label), "value": lines[0] if lines else "—"})
            continue
        if facts:
            body.append({"type": "FactSet", "facts": facts})
            facts = []
        body.append(text_block(f"**{escape(label)}**", spacing="Small"))
        body += [text_block(line, spacing="None") for line in lines]
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    details = card.details.strip()
    if details:
        body.append(text_block(escape(clip(details, DETAILS_CHARS)), isSubtle=True,
                               spacing="Medium"))
    out: Json = {"type": "AdaptiveCard", "version": VERSION, "body": body,
                 "fallbackText": escape(clip(f"{card.heading} ({card.state})", 300))}
    actions = [_action(a, n, signer) for n, a in enumerate(card.actions)] if buttons else []
    if card.permalink.startswith(("https://", "http://")):
        actions.append({"type": "Action.OpenUrl", "title": "Open the message",
                        "url": card.permalink, "mode": "secondary"})
    if actions:
        out["actions"] = actions
    if refresh_for is not None:
        out["refresh"] = {"action": {"type": "Action.Execute", "verb": REFRESH_VERB,
                                     "data": signer.data("refresh", card.number)},
                          "userIds": list(dict.fromkeys(refresh_for))[:REFRESH_PEOPLE]}
    if mentions:
        out["msteams"] = {"entities": mentions}
    return _within_limit(out, details)


def _action(action: CardAction, position: int, signer: Signer) -> Json:
    data = signer.data("card", action.number, action.verb)
    execute: Json = {"type": "Action.Execute", "title": action.label,
                     "verb": VERB_PREFIX + action.verb, "data": data}
    style = _STYLES.get(action.style)
    if style:
        execute["style"] = style
    if action.needs_reason:
        execute["associatedInputs"] = "auto"
        shown: Json = {"type": "Action.ShowCard", "title": f"{action.label}…", "card": {
            "type": "AdaptiveCard",
            "body": [{"type": "Input.Text", "id": "reason", "label": "Reason",
                      "isRequired": True, "isMultiline": True, "maxLength": REASON_CHARS,
                      "errorMessage": f"Say why, to {action.label.lower()}"}],
            "actions": [execute]}}
        if position >= PRIMARY_ACTIONS:
            shown["mode"] = "secondary"
        return shown
    if position >= PRIMARY_ACTIONS:
        execute["mode"] = "secondary"
    return execute


def _within_limit(card: Json, details: str) -> Json:
    """The card, its details shortened (then dropped) until it fits, saying so."""
    if size(card) <= CARD_BYTES or not details:
        return card
    body = card["body"]
    index = next(i for i, block in enumerate(body) if block.get("isSubtle"))
    for limit in (1000, 300, 0):
        body[index] = text_block(
            escape(clip(details, limit)) + " (shortened: `show` has it all)" if limit
            else "Details left out: `show` has them.", isSubtle=True, spacing="Medium")
        if size(card) <= CARD_BYTES:
            break
    return card


def message_card(lines: Sequence[str], mentions: list[Json], *, image: str = "",
                 image_text: str = "") -> Json:
    """A message as an Adaptive Card, a TextBlock for each line (already rendered), and an
    image (a data URI) under them: what a digest with its chart looks like."""
    body: list[Json] = [text_block(line, spacing="None") if n else text_block(line)
                        for n, line in enumerate(lines) if line]
    if image:
        body.append({"type": "Image", "url": image, "altText": image_text or "chart",
                     "size": "Stretch"})
    card: Json = {"type": "AdaptiveCard", "version": VERSION, "body": body}
    if mentions:
        card["msteams"] = {"entities": mentions}
    return card


def attachment(card: Json) -> Json:
    return {"contentType": CONTENT_TYPE, "content": card}
