"""The neutral card's dictionary form, which the outbox stores and every transport reads."""

from __future__ import annotations

from dataclasses import asdict

from bot.cards import Card, card_actions
from bot.rules import Verb


def _card() -> Card:
    return Card(number=7, kind="approval", title="Refund €120", state="open",
                fields=(("Requester", "<@U1>"), ("Due", "Fri 17:00")),
                actions=card_actions(7, [Verb.APPROVE, Verb.REJECT, Verb.CANCEL]),
                details="two lines\nof details", permalink="https://example.slack.com/p1")


def test_to_dict_is_what_asdict_gives() -> None:
    card = _card()
    assert card.to_dict() == asdict(card)


def test_a_card_survives_its_dictionary_form() -> None:
    card = _card()
    assert Card.from_dict(card.to_dict()) == card
    assert [a["verb"] for a in card.to_dict()["actions"]] == ["approve", "reject", "cancel"]
    assert card.to_dict()["actions"][1]["needs_reason"] is True
