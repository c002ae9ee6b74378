"""Block Kit for messages: an item's card, the core's text, and pages within Slack's limits.

Slack refuses a message with more than 50 blocks, a section text over 3000 characters, a
field over 2000, an actions block with more than 25 elements or a button value over 2000.
Long text is split over several sections and long replies over several pages; where a
message must stay one message it ends with a line saying what was left out. Nothing is cut
without saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.slack import mrkdwn
from adapters.slack.payloads import ButtonValue, action_id
from bot.cards import Card, CardAction
from bot.rich import Rich, as_rich

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
HEADER_TEXT = 150
BUTTON_LABEL = 75
BUTTON_VALUE = 2000
ACTIONS_ELEMENTS = 25
FALLBACK_TEXT = 3000
#: Characters of text on one page of a reply: long trails are paged, not sent as one wall.
PAGE_CHARS = 12_000
#: Characters of text in one message that must stay one (Slack's own cap on message text).
MESSAGE_CHARS = 40_000


def plain_text(text: str, limit: int | None = None) -> dict[str, Any]:
    return {"type": "plain_text", "text": mrkdwn.clip(text, limit) if limit else text,
            "emoji": True}


def section(text: str) -> Block:
    """A section of mrkdwn already rendered and within SECTION_TEXT."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def divider() -> Block:
    return {"type": "divider"}


def button(label: str, action: str, value: str, style: str = "default") -> dict[str, Any]:
    if len(value) > BUTTON_VALUE:
        raise ValueError(f"button value of {len(value)} characters; Slack allows {BUTTON_VALUE}")
    element: dict[str, Any] = {"type": "button", "text": plain_text(label, BUTTON_LABEL),
                               "action_id": action, "value": value}
    if style in ("primary", "danger"):
        element["style"] = style
    return element


def actions(block_id: str, elements: list[dict[str, Any]]) -> list[Block]:
    """Actions blocks of at most ACTIONS_ELEMENTS elements each."""
    return [{"type": "actions", "block_id": f"{block_id}.{i // ACTIONS_ELEMENTS}",
             "elements": elements[i:i + ACTIONS_ELEMENTS]}
            for i in range(0, len(elements), ACTIONS_ELEMENTS)]


@dataclass(frozen=True)
class Renderer:
    """Renders the core's rich text and cards for one workspace's people. A plain string given
    to it is literal text (a title, details: what someone typed)."""

    slack_id: mrkdwn.SlackIdOf
    name_of: Callable[[str], str]

    def md(self, text: Rich | str) -> str:
        return mrkdwn.render(as_rich(text), self.slack_id, self.name_of)

    def sections(self, text: Rich | str, *, prefix: str = "") -> list[Block]:
        """Core text as as many sections as its length needs."""
        body = self.md(text)
        if not body.strip():
            return []
        room = SECTION_TEXT - len(prefix)
        pieces = mrkdwn.split(body, room)
        return [section((prefix if i == 0 else "") + piece)
                for i, piece in enumerate(pieces) if piece.strip()]

    def fallback(self, text: Rich | str) -> str:
        """The notification text that goes with blocks."""
        return mrkdwn.clip(self.md(text), FALLBACK_TEXT) or " "

    def card(self, card: Card) -> list[Block]:
        """An item's card: heading, fields, details, source link, a button per action."""
        heading = card.heading
        blocks: list[Block] = [{"type": "header", "text": plain_text(heading, HEADER_TEXT)}]
        if len(heading) > HEADER_TEXT:
            blocks += self.sections(card.title, prefix="*Title:* ")
        fields = [{"type": "mrkdwn", "text": mrkdwn.clip(f"*{mrkdwn.escape(label)}*\n"
                                                         f"{self.md(value)}", FIELD_TEXT)}
                  for label, value in card.fields]
        blocks += [{"type": "section", "fields": fields[i:i + MAX_FIELDS]}
                   for i in range(0, len(fields), MAX_FIELDS)]
        if card.details:
            blocks += self.sections(card.details, prefix="*Details*\n")
        if card.permalink.startswith(("https://", "http://")) and "|" not in card.permalink \
                and ">" not in card.permalink:
            blocks.append(context(f"<{card.permalink}|Source message>"))
        buttons = [self.card_button(a) for a in card.actions]
        blocks += actions(f"baton.card.{card.number}", buttons)
        return blocks

    @staticmethod
    def card_button(action: CardAction) -> dict[str, Any]:
        value = ButtonValue.model_validate({"verb": action.verb, "number": action.number})
        label = action.label + ("…" if action.needs_reason else "")
        element = button(label, action_id(action.verb), value.model_dump_json(), action.style)
        if action.verb == "cancel":
            element["confirm"] = {
                "title": plain_text(f"Cancel #{action.number}?", 100),
                "text": plain_text("The item is withdrawn for everyone. This cannot be undone."),
                "confirm": plain_text("Cancel it"), "deny": plain_text("Keep it"),
                "style": "danger",
            }
        return element

    def pages(self, text: Rich | str, cards: tuple[Card, ...] = (), *,
              budget: int = MAX_MESSAGE_BLOCKS, chars: int = PAGE_CHARS) -> list[list[Block]]:
        """The reply as pages of at most `budget` blocks and about `chars` characters, each
        page noting its number."""
        groups = [[b] for b in self.sections(text)] + [self.card(c) for c in cards]
        pages: list[list[Block]] = [[]]
        used = 0
        room = budget - 1  # one block for the page note
        for group in groups:
            size = sum(_chars(b) for b in group)
            full = len(pages[-1]) + len(group) > room or (pages[-1] and used + size > chars)
            if full and pages[-1]:
                pages.append([])
                used = 0
            pages[-1] += group
            used += size
        if len(pages) > 1:
            for i, page in enumerate(pages, 1):
                note = f"Page {i} of {len(pages)}" + (" · continued below" if i < len(pages)
                                                      else "")
                page.append(context(note))
        return pages

    def message(self, text: Rich | str, cards: tuple[Card, ...] = (), *,
                budget: int = MAX_MESSAGE_BLOCKS, more: str = "") -> list[Block]:
        """One message's blocks; if the reply is longer, what fits and a line saying so."""
        pages = self.pages(text, cards, budget=budget, chars=MESSAGE_CHARS)
        if len(pages) == 1:
            return pages[0]
        first = pages[0][:-1]  # without its page note
        hidden = sum(len(p) - 1 for p in pages[1:])
        note = f"…and {hidden} more block{'s' if hidden != 1 else ''}, too long for one " \
               f"Slack message"
        return [*first, context(note + (f": {more}" if more else "."))]


def _chars(block: Block) -> int:
    text = block.get("text")
    size = len(text["text"]) if isinstance(text, dict) else 0
    return size + sum(len(f.get("text", "")) for f in block.get("fields", []))
