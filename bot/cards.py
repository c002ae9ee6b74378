"""A platform-neutral card: what every surface renders for an item (title, fields, actions).
Button styles are neutral (primary, danger, default); each surface maps them to its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.rich import Rich
from bot.rules import NEEDS_REASON, Verb

#: Button labels and styles, in the order cards show them.
ACTION_LABELS: dict[Verb, tuple[str, str]] = {
    Verb.ACCEPT: ("Accept", "primary"),
    Verb.ACK: ("Acknowledge", "primary"),
    Verb.TAKE: ("Take", "default"),
    Verb.APPROVE: ("Approve", "primary"),
    Verb.REJECT: ("Reject", "danger"),
    Verb.DONE: ("Done", "primary"),
    Verb.RESOLVE: ("Resolve", "primary"),
    Verb.DECLINE: ("Decline", "danger"),
    Verb.UNBLOCK: ("Unblock", "default"),
    Verb.BLOCK: ("Block", "default"),
    Verb.CANCEL: ("Cancel", "danger"),
}


@dataclass(frozen=True)
class CardAction:
    verb: str
    label: str
    number: int
    needs_reason: bool = False
    style: str = "default"


@dataclass(frozen=True)
class Card:
    number: int
    kind: str
    title: str
    state: str
    fields: tuple[tuple[str, Rich], ...]  # label, value
    actions: tuple[CardAction, ...]
    details: str = ""
    permalink: str = ""

    @property
    def heading(self) -> str:
        return f"{self.kind.capitalize()} #{self.number}: {self.title}"

    def to_dict(self) -> dict[str, Any]:
        """What `dataclasses.asdict` gives, built directly: it is on every command's path, and
        asdict's generic deep copy was half of a create's CPU in the core."""
        return {
            "number": self.number, "kind": self.kind, "title": self.title, "state": self.state,
            "fields": tuple((name, value.to_json()) for name, value in self.fields),
            "actions": tuple({"verb": a.verb, "label": a.label, "number": a.number,
                              "needs_reason": a.needs_reason, "style": a.style}
                             for a in self.actions),
            "details": self.details, "permalink": self.permalink,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        return cls(
            number=data["number"], kind=data["kind"], title=data["title"], state=data["state"],
            fields=tuple((str(k), Rich.from_json(v)) for k, v in data["fields"]),
            actions=tuple(CardAction(**a) for a in data["actions"]),
            details=data.get("details", ""), permalink=data.get("permalink", ""),
        )


def card_actions(number: int, verbs: list[Verb]) -> tuple[CardAction, ...]:
    """Buttons for the verbs a person may use, in a stable order; typed verbs stay typed."""
    return tuple(
        CardAction(verb.value, label, number, verb in NEEDS_REASON, style)
        for verb, (label, style) in ACTION_LABELS.items()
        if verb in verbs
    )
