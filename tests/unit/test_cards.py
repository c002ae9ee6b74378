"""The neutral card's dictionary form, which the outbox stores and every transport reads."""

from __future__ import annotations

import json

from bot.cards import Card, card_actions
from bot.rich import Kind, Rich, fmt, person, text
from bot.rules import Verb


def _card() -> Card:
    return Card(number=7, kind="approval", title="Refund €120", state="open",
                fields=(("Requester", Rich((person("U1"),))), ("Due", text("Fri 17:00")),
                        ("Blocked", fmt("waiting on {who} <b>", who=person("bob")))),
                actions=card_actions(7, [Verb.APPROVE, Verb.REJECT, Verb.CANCEL]),
                details="two lines\nof details", permalink="https://example.slack.com/p1")


def test_a_card_survives_its_dictionary_form_through_json() -> None:
    card = _card()
    stored = json.loads(json.dumps(card.to_dict()))  # as the outbox keeps it
    assert Card.from_dict(stored) == card
    assert [a["verb"] for a in card.to_dict()["actions"]] == ["approve", "reject", "cancel"]
    assert card.to_dict()["actions"][1]["needs_reason"] is True


def test_people_in_fields_stay_people_and_typed_text_stays_text() -> None:
    blocked = Card.from_dict(json.loads(json.dumps(_card().to_dict()))).fields[2][1]
    assert [s.kind for s in blocked.spans] == [Kind.TEXT, Kind.PERSON, Kind.TEXT]
    assert str(blocked) == "waiting on @bob <b>"
