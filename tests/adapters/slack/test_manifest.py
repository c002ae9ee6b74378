"""The app manifests a user pastes into "Create New App -> From a manifest": valid against
Slack's manifest schema, and asking for exactly what Baton uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from adapters.slack.app import BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH
from adapters.slack.payloads import CallbackId
from tests.adapters.slack.blockkit import SAMPLES

HERE = Path(__file__).resolve().parents[3] / "adapters" / "slack"
SCHEMA = json.loads((SAMPLES / "schemas" / "manifest.schema.1.0.0.json").read_text())


def load(name: str) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((HERE / name).read_text())
    return manifest


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.socket-mode.yml"])
def test_the_manifest_is_valid_and_asks_for_what_baton_uses(name: str) -> None:
    manifest = load(name)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in Draft7Validator(SCHEMA).iter_errors(manifest)]
    assert problems == []

    (command,) = manifest["features"]["slash_commands"]
    assert (command["command"], command["should_escape"]) == ("/baton", True)
    shortcuts = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    assert shortcuts == {CallbackId.TRACK.value: "message", CallbackId.NEW.value: "global"}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == [
        "app_home_opened", "app_mention", "reaction_added"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_the_http_manifest_points_every_url_at_baton_serve() -> None:
    manifest = load("manifest.yml")
    settings = manifest["settings"]
    urls = [manifest["features"]["slash_commands"][0]["url"],
            settings["event_subscriptions"]["request_url"],
            settings["interactivity"]["request_url"]]
    assert {u.removeprefix("https://baton.example.com") for u in urls} == {EVENTS_PATH}
    assert manifest["oauth_config"]["redirect_urls"] == [
        f"https://baton.example.com{REDIRECT_PATH}"]
    assert settings["socket_mode_enabled"] is False


def test_the_socket_mode_manifest_has_no_request_urls() -> None:
    manifest = load("manifest.socket-mode.yml")
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert "request_url" not in manifest["settings"]["interactivity"]


def test_an_invalid_manifest_is_caught_by_the_same_check() -> None:
    broken = load("manifest.yml")
    broken["features"]["shortcuts"][0]["type"] = "sideways"
    del broken["display_information"]["name"]
    assert len(list(Draft7Validator(SCHEMA).iter_errors(broken))) == 2
