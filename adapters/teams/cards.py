"""Adaptive Cards (version 1.5, what Teams renders) for items and for longer messages.

An item's card has an `Action.Execute` (a Universal Action) for each button its viewer may
press; the four verbs that need a reason (decline, reject, resolve, block) open an
`Action.ShowCard` asking for it in a required `Input.Text`. A copy seen by several people (a
channel, a group chat) carries no buttons itself but a `refresh` naming the people who have
some (`userIds`): Teams asks Baton for each of them, on sight, for the card as they should see
it. A card that grew past Teams' limit (about 28 KB) loses its details first, saying so.

What a person typed (the title, the details, a reason or comment in a field) is carried in
`TextRun`s of a `RichTextBlock`, which no client reads as markdown, and the card's
`fallbackText` is plain text: markdown escapes are not removed by every Teams client (the
mobile ones show the backslashes). A markdown `TextBlock` (or a fact) holds only a line with a
mention or a link that must render, escaped as the markdown module does.
"""

from __future__ import annotations

import json
import re
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
_HEADING = {"weight": "Bolder", "size": "Medium"}
_SUBTLE = {"isSubtle": True}
_DETAILS = "details"
#: A typed `<at>` tag: Teams would look for a mention entity behind it.
_AT_TAG = re.compile(r"<(?=/?at\b)", re.IGNORECASE)

Json = dict[str, Any]


def size(card: Json) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def text_block(text: str, **style: Any) -> Json:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def literal(text: str) -> str:
    """Typed text for a TextRun or the fallback text, exactly as typed, but for a word joiner
    (invisible) after the `<` of a typed `<at>` tag, so nothing reads it as a mention."""
    return _AT_TAG.sub("<\u2060", text)


def rich_text(runs: Sequence[tuple[str, Json]], **block: Any) -> Json:
    """A RichTextBlock of TextRuns: each text shown as given, never read as markdown."""
    return {"type": "RichTextBlock", "inlines": [
        {"type": "TextRun", "text": literal(text), **style} for text, style in runs if text],
        **block}


def item_card(card: Card, renderer: Renderer, signer: Signer, *, buttons: bool = True,
              refresh_for: Sequence[str] | None = None, error: Rich | None = None) -> Json:
    """The item's card. `buttons`: the card's own actions are shown (a copy one person sees);
    `refresh_for`: the Teams user ids who get their own view of a shared copy; `error`: why
    the last click did nothing, shown on the card."""
    mentions: list[Json] = []
    body: list[Json] = [rich_text([(f"{card.kind.capitalize()} #{card.number}: ", _HEADING),
                                   (clip(card.title, TITLE_CHARS), _HEADING)])]
    if error:
        body.append(text_block(renderer.inline(error, mentions), color="Attention"))
    facts: list[Json] = []
    for label, value in card.fields:
        lines = value.lines()
        runs = [renderer.runs(line) for line in lines]
        if len(lines) <= 1:
            fact = _fact_value(lines[0], runs[0], renderer, mentions) if lines else "—"
            if fact is not None:
                facts.append({"title": escape(label), "value": fact})
                continue
        if facts:
            body.append({"type": "FactSet", "facts": facts})
            facts = []
        body.append(text_block(f"**{escape(label)}**", spacing="Small"))
        body += [text_block(renderer.inline(line, mentions), spacing="None") if shown is None
                 else rich_text(shown, spacing="None")
                 for line, shown in zip(lines, runs, strict=True)]
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    details = card.details.strip()
    if details:
        body.append(_details(clip(details, DETAILS_CHARS)))
    out: Json = {"type": "AdaptiveCard", "version": VERSION, "body": body,
                 "fallbackText": literal(clip(f"{card.heading} ({card.state})", 300))}
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


def _fact_value(line: Rich, runs: list[tuple[str, Json]] | None, renderer: Renderer,
                mentions: list[Json]) -> str | None:
    """A one-line field's value for a fact (markdown): the line rendered when it holds a
    mention or a link, the text itself when it is plain and markdown would read nothing in
    it; None when it is to be shown as TextRuns instead."""
    if runs is None:
        return renderer.inline(line, mentions)
    plain = "".join(text for text, _ in runs)
    if all(not style for _, style in runs) and escape(plain) == plain:
        return plain or "—"
    return None


def _details(details: str, shortened: bool = False) -> Json:
    runs: list[tuple[str, Json]] = [(details, _SUBTLE)]
    if shortened:
        runs += [(" (shortened: ", _SUBTLE), ("show", {**_SUBTLE, "fontType": "Monospace"}),
                 (" has it all)", _SUBTLE)]
    return rich_text(runs, id=_DETAILS, spacing="Medium")


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
    index = next(i for i, block in enumerate(body) if block.get("id") == _DETAILS)
    for limit in (1000, 300, 0):
        body[index] = _details(clip(details, limit), shortened=True) if limit else text_block(
            "Details left out: `show` has them.", isSubtle=True, spacing="Medium",
            id=_DETAILS)
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
