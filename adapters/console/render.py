"""Replies, cards and delivered messages as terminal text; buttons become numbered choices."""

from __future__ import annotations

from bot.cards import Card, CardAction
from bot.messages import Audience, Outgoing
from bot.presenters import card_text
from bot.rich import Rich


def plain(text: Rich) -> str:
    """Rich text as the terminal shows it: people as @handle, items as #42, no markup."""
    return str(text)


def card_block(card: Card, first_choice: int) -> tuple[str, list[CardAction]]:
    """A card framed for the terminal, its actions numbered from `first_choice`."""
    body = plain(card_text(card)).splitlines()
    lines = [f"┌ {body[0]}"] + [f"│ {line.strip() if i == 0 else line[2:]}"
                                   for i, line in enumerate(body[1:])]
    choices = list(card.actions)
    if choices:
        buttons = "  ".join(f"[{first_choice + i}] {a.label}{'…' if a.needs_reason else ''}"
                            for i, a in enumerate(choices))
        lines.append(f"└ {buttons}")
    else:
        lines.append("└")
    return "\n".join(lines), choices


_DELIVERY_LABEL = {
    Audience.PERSON: "✉ to @{to}",
    Audience.TEAM: "# {to}",
    Audience.CARD: "# {to}",
}


def delivered(message: Outgoing) -> str | None:
    """How a delivered message shows in the console; thread lines and card refreshes don't."""
    label = _DELIVERY_LABEL.get(message.audience)
    if label is None:
        return None
    text = plain(message.text)
    head, *rest = text.splitlines() or [""]
    prefix = label.format(to=message.to.lstrip("#"))
    return "\n".join([f"  {prefix}: {head}", *[f"    {line}" for line in rest]])
