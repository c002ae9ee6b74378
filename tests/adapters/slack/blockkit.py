"""Checks every Block Kit payload Baton sends: slack_sdk's block and view models, the JSON
schema generated from Slack's own TypeScript types, and the limits neither of them checks."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

#: Slack's captures and schemas, copied into tests/data (origins and licences in its MANIFEST.md).
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "platform-samples" / "slack"
SCHEMA = SAMPLES / "schemas" / "slack-types-3.2.0.blocks-and-views.schema.json"

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS = 10
HEADER_TEXT = 150
ACTIONS = 25
BUTTON_VALUE = 2000
BUTTON_TEXT = 75


@cache
def _validator(root: str) -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    return Draft7Validator({**schema, "$ref": f"#/definitions/{root}"})


def _schema(root: str, value: Any) -> list[str]:
    return [f"schema {root}: {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in _validator(root).iter_errors(value)]


def _limits(blocks: list[dict[str, Any]]) -> list[str]:
    problems = []
    for i, block in enumerate(blocks):
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "")
        if kind == "section":
            if not text and not block.get("fields"):
                problems.append(f"block {i}: a section needs text or fields")
            if len(text) > SECTION_TEXT:
                problems.append(f"block {i}: section text of {len(text)} characters")
            fields = block.get("fields") or []
            if len(fields) > FIELDS:
                problems.append(f"block {i}: {len(fields)} fields")
            problems += [f"block {i}: field of {len(f['text'])} characters"
                         for f in fields if len(f["text"]) > FIELD_TEXT]
        if kind == "header" and len(text) > HEADER_TEXT:
            problems.append(f"block {i}: header of {len(text)} characters")
        if kind == "actions":
            elements = block.get("elements") or []
            if len(elements) > ACTIONS:
                problems.append(f"block {i}: {len(elements)} elements in an actions block")
            for element in elements:
                if len(element.get("value", "")) > BUTTON_VALUE:
                    problems.append(f"block {i}: button value over {BUTTON_VALUE}")
                if len(element.get("text", {}).get("text", "")) > BUTTON_TEXT:
                    problems.append(f"block {i}: button text over {BUTTON_TEXT}")
    return problems


def _models(blocks: list[dict[str, Any]]) -> list[str]:
    problems = []
    for i, block in enumerate(blocks):
        try:
            parsed = Block.parse(block)
            if parsed is None or type(parsed) is Block:
                problems.append(f"block {i}: slack_sdk does not know a {block.get('type')!r}")
                continue
            parsed.to_dict()  # validates the block and everything in it
        except Exception as exc:  # slack_sdk raises several kinds
            problems.append(f"block {i}: slack_sdk: {exc}")
    return problems


def message_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """Why Slack would refuse these message blocks; empty when it would take them."""
    problems = [] if len(blocks) <= MESSAGE_BLOCKS else [f"{len(blocks)} blocks in a message"]
    return problems + _models(blocks) + _schema("SlackBlocks", blocks) + _limits(blocks)


def view_problems(view: dict[str, Any]) -> list[str]:
    """Why Slack would refuse this modal or Home tab."""
    root = {"modal": "SlackModalView", "home": "SlackHomeView"}.get(view.get("type", ""))
    if root is None:
        return [f"unknown view type {view.get('type')!r}"]
    blocks = view.get("blocks") or []
    problems = [] if len(blocks) <= VIEW_BLOCKS else [f"{len(blocks)} blocks in a view"]
    try:
        View(**view).to_dict()
    except Exception as exc:
        problems.append(f"slack_sdk View: {exc}")
    if len(view.get("private_metadata", "")) > 3000:
        problems.append("private_metadata over 3000 characters")
    title = (view.get("title") or {}).get("text", "")
    if len(title) > 24:
        problems.append(f"view title of {len(title)} characters")
    return problems + _models(blocks) + _schema(root, view) + _limits(blocks)
