"""Checks every card and activity Baton sends Teams: the Adaptive Card 1.5 schema (strict: no
property it does not define), the Bot Framework protocol schema of an activity, Teams' size
limits, and what neither schema says: each `<at>…</at>` has its mention entity, and each
button's data is Baton's (its item, verb and signature)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator, Draft7Validator

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "platform-samples"
CARD_SCHEMA = SAMPLES / "teams" / "schemas" / "adaptive-card.1.5.0.schema.json"
PROTOCOL_SCHEMA = SAMPLES / "botframework" / "botframework.protocol.schema.json"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
#: Teams refuses a card over about 28 KB and a message over about 100 KB.
CARD_BYTES = 28 * 1024
MESSAGE_BYTES = 100 * 1024
_AT = re.compile(r"<at>(.*?)</at>")


@cache
def _card_validator() -> Draft6Validator:
    return Draft6Validator(json.loads(CARD_SCHEMA.read_text()))


@cache
def _activity_validator() -> Draft7Validator:
    schema = json.loads(PROTOCOL_SCHEMA.read_text())
    return Draft7Validator({**schema, "$ref": "#/definitions/Activity"})


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def card_problems(card: dict[str, Any], where: str = "card") -> list[str]:
    """What Teams would refuse or show wrongly in an Adaptive Card Baton made."""
    problems: list[str] = []
    if card.get("version") != "1.5":
        problems.append(f"{where}: version {card.get('version')!r}, not 1.5")
    # `msteams` is Teams' own extension of the card (mention entities, width); the schema
    # does not define it, so it is checked here and the rest against the schema.
    extension = card.get("msteams") or {}
    bare = {k: v for k, v in card.items() if k != "msteams"}
    problems += [f"{where}: schema: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                 for e in _card_validator().iter_errors(bare)]
    if _size(card) > CARD_BYTES:
        problems.append(f"{where}: {_size(card)} bytes, over Teams' {CARD_BYTES}")
    entities = extension.get("entities") or []
    tags = {e.get("text") for e in entities if e.get("type") == "mention"}
    for tag in _AT.findall(json.dumps(bare, ensure_ascii=False)):
        if f"<at>{tag}</at>" not in tags:
            problems.append(f"{where}: <at>{tag}</at> with no mention entity")
    for entity in entities:
        mentioned = entity.get("mentioned") or {}
        if entity.get("type") != "mention" or not mentioned.get("id") or \
                not mentioned.get("name"):
            problems.append(f"{where}: malformed mention entity {entity}")
    for action in _actions(card):
        if action.get("type") == "Action.Execute":
            data = action.get("data") or {}
            if not str(action.get("verb", "")).startswith("baton.") or \
                    not isinstance(data, dict) or not data.get("sig") or \
                    not isinstance(data.get("item"), int):
                problems.append(f"{where}: button {action.get('title')!r} carries {data}")
    return problems


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    refresh = (card.get("refresh") or {}).get("action")
    if refresh:
        found.append(refresh)
    for action in card.get("actions") or []:
        found.append(action)
        if action.get("type") == "Action.ShowCard":
            found += _actions(action.get("card") or {})
    return found


def activity_problems(activity: dict[str, Any], where: str = "activity") -> list[str]:
    """What Teams would refuse in an activity Baton sends (a message, an update)."""
    problems = [f"{where}: schema: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                for e in _activity_validator().iter_errors(activity)]
    if _size(activity) > MESSAGE_BYTES:
        problems.append(f"{where}: {_size(activity)} bytes, over Teams' {MESSAGE_BYTES}")
    if not activity.get("text") and not activity.get("attachments"):
        problems.append(f"{where}: neither text nor attachments")
    tags = {e.get("text") for e in activity.get("entities") or [] if e.get("type") == "mention"}
    for tag in _AT.findall(activity.get("text") or ""):
        if f"<at>{tag}</at>" not in tags:
            problems.append(f"{where}: <at>{tag}</at> in the text with no mention entity")
    for n, attachment in enumerate(activity.get("attachments") or []):
        if attachment.get("contentType") == CARD_TYPE:
            problems += card_problems(attachment.get("content") or {},
                                      f"{where} attachment {n}")
        else:
            problems.append(f"{where}: attachment of type {attachment.get('contentType')}")
    return problems


def invoke_problems(body: Any, where: str = "invoke response") -> list[str]:
    """What Teams would refuse in the answer to an adaptiveCard/action invoke."""
    if not isinstance(body, dict) or body.get("statusCode") != 200:
        return [f"{where}: {body!r:.200}"]
    if body.get("type") == CARD_TYPE:
        return card_problems(body.get("value") or {}, where)
    if body.get("type") == "application/vnd.microsoft.activity.message":
        return [] if isinstance(body.get("value"), str) else [f"{where}: {body!r:.200}"]
    return [f"{where}: unknown type {body.get('type')!r}"]
