"""`baton teams package`: the zip a Teams admin uploads, checked against Teams' own manifest
schema (tests/data/platform-samples, the copy of Microsoft's 1.29 schema) and the icon rules;
refusals are one line, exit 2, and write nothing."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from baton import teams_package
from baton.cli import main
from bot.grammar import HELP

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "data" / "platform-samples" / "teams"
SCHEMA = json.loads((SAMPLES / "schemas" / "MicrosoftTeams.v1.29.schema.json").read_text())
TEMPLATE = ROOT / "adapters" / "teams" / "manifest.json"
APP_ID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
# An app id comes with its client secret (Baton refuses one without the other); packaging
# needs only the id.
SECRET = {"BATON_TEAMS_APP_PASSWORD": "client-secret"}


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(manifest)]


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("BATON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def given(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in (env | (SECRET if "BATON_TEAMS_APP_ID" in env else {})).items():
        monkeypatch.setenv(name, value)


def unzip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_manifest_in_the_repository_passes_the_schema_with_its_placeholders() -> None:
    manifest = json.loads(TEMPLATE.read_text())
    assert schema_errors(manifest) == []
    assert manifest["manifestVersion"] == "1.29"
    assert manifest["id"] == teams_package.PLACEHOLDER_ID
    assert manifest["validDomains"] == [teams_package.PLACEHOLDER_DOMAIN]


def test_the_bot_offers_the_grammar_s_verbs_in_every_scope() -> None:
    manifest = json.loads(TEMPLATE.read_text())
    [bot] = manifest["bots"]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    covered = set()
    for listed in bot["commandLists"]:
        covered |= set(listed["scopes"])
        titles = [c["title"] for c in listed["commands"]]
        assert len(titles) <= 10, "Teams shows at most 10 commands a list"
        assert "help" in titles and {"handoff", "exception", "approval"} <= set(titles)
        for command in listed["commands"]:  # the help text's own words, never a copy
            assert command["description"] == HELP[command["title"]].summary
    assert covered == {"personal", "team", "groupChat"}


def test_the_message_extension_has_the_two_dialogs() -> None:
    manifest = json.loads(TEMPLATE.read_text())
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == manifest["bots"][0]["botId"]
    commands = {c["title"]: c for c in extension["commands"]}
    track, new = commands["Track with Baton"], commands["New handoff/exception/approval"]
    assert track["type"] == new["type"] == "action"
    assert track["context"] == ["message"] and track["fetchTask"] is True
    assert set(new["context"]) == {"compose", "commandBox"} and new["fetchTask"] is True


def test_package_writes_the_manifest_with_the_app_id_and_domain_and_the_icons(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    given(monkeypatch, {"BATON_TEAMS_APP_ID": APP_ID.upper()})
    assert main(["teams", "package", "--out", "baton-teams.zip", "--domain",
                 "Baton.Acme.io"]) == 0
    assert "baton-teams.zip" in capsys.readouterr().out
    files = unzip(tmp_path / "baton-teams.zip")
    assert set(files) == {"manifest.json", "color.png", "outline.png"}

    manifest = json.loads(files["manifest.json"])
    assert schema_errors(manifest) == []
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["composeExtensions"][0]["botId"] == APP_ID
    assert teams_package.PLACEHOLDER_ID not in files["manifest.json"].decode()
    assert manifest["validDomains"] == ["baton.acme.io"]
    assert manifest["developer"]["websiteUrl"] == "https://baton.acme.io/"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}

    colour = Image.open(io.BytesIO(files["color.png"]))
    assert (colour.format, colour.size) == ("PNG", (192, 192))
    assert colour.convert("RGBA").getextrema()[3] == (255, 255)  # opaque all over
    outline = Image.open(io.BytesIO(files["outline.png"]))
    assert (outline.format, outline.size, outline.mode) == ("PNG", (32, 32), "RGBA")
    red, green, blue, alpha = outline.getextrema()
    assert red == green == blue == (255, 255), "the outline icon is white only"
    assert alpha[0] == 0 and alpha[1] == 255, "white on a transparent background"


def test_the_domain_comes_from_baton_public_url_and_the_same_settings_give_the_same_zip(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given(monkeypatch, {"BATON_TEAMS_APP_ID": APP_ID,
                        "BATON_PUBLIC_URL": "https://bots.example.org/baton"})
    assert main(["teams", "package", "--out", "a.zip", "--website",
                 "https://intranet.example.org/baton"]) == 0
    assert main(["teams", "package", "--out", "b.zip", "--website",
                 "https://intranet.example.org/baton"]) == 0
    first = (tmp_path / "a.zip").read_bytes()
    assert first == (tmp_path / "b.zip").read_bytes()
    manifest = json.loads(unzip(tmp_path / "a.zip")["manifest.json"])
    assert manifest["validDomains"] == ["bots.example.org"]
    assert manifest["developer"]["privacyUrl"] == "https://intranet.example.org/baton"
    assert schema_errors(manifest) == []


@pytest.mark.parametrize(("env", "args", "says"), [
    ({}, ["--domain", "baton.acme.io"], "BATON_TEAMS_APP_ID is not set"),
    ({"BATON_TEAMS_APP_ID": "my-bot"}, ["--domain", "baton.acme.io"],
     "BATON_TEAMS_APP_ID: expected the bot's Microsoft App ID"),
    ({"BATON_TEAMS_APP_ID": teams_package.PLACEHOLDER_ID}, ["--domain", "baton.acme.io"],
     "BATON_TEAMS_APP_ID: expected"),
    ({"BATON_TEAMS_APP_ID": APP_ID}, [], "No domain for the app"),
    ({"BATON_TEAMS_APP_ID": APP_ID}, ["--domain", "10.1.2.3"], "--domain: expected"),
    ({"BATON_TEAMS_APP_ID": APP_ID}, ["--domain", "localhost"], "--domain: expected"),
    ({"BATON_TEAMS_APP_ID": APP_ID}, ["--domain", "*.acme.io"], "--domain: expected"),
    ({"BATON_TEAMS_APP_ID": APP_ID}, ["--domain", "http://baton.acme.io"], "--domain: expected"),
    ({"BATON_TEAMS_APP_ID": APP_ID}, ["--domain", "baton.acme.io/teams"], "--domain: expected"),
    ({"BATON_TEAMS_APP_ID": APP_ID}, ["--domain=-bad-.acme.io"], "--domain: expected"),
    ({"BATON_TEAMS_APP_ID": APP_ID}, ["--domain", "baton.example.com"], "--domain: expected"),
    ({"BATON_TEAMS_APP_ID": APP_ID, "BATON_PUBLIC_URL": "http://baton.acme.io"}, [],
     "BATON_PUBLIC_URL: expected an https address"),
    ({"BATON_TEAMS_APP_ID": APP_ID}, ["--domain", "baton.acme.io", "--website", "acme.io"],
     "--website: expected an https:// address"),
])
def test_refusals_are_one_line_exit_2_and_write_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        env: dict[str, str], args: list[str], says: str) -> None:
    given(monkeypatch, env)
    assert main(["teams", "package", "--out", "out.zip", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(says) and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def test_a_manifest_that_breaks_the_schema_is_refused_naming_where() -> None:
    manifest = teams_package.manifest(teams_package.template(), APP_ID, "baton.acme.io")
    teams_package.check(manifest)  # as shipped: fine
    manifest["name"]["short"] = "Baton, the coordination bot for everyone"  # over 30
    with pytest.raises(teams_package.PackageError, match=r"name/short: .* is too long"):
        teams_package.check(manifest)


def test_an_unwritable_destination_is_refused_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    given(monkeypatch, {"BATON_TEAMS_APP_ID": APP_ID})
    assert main(["teams", "package", "--out", "missing/dir/out.zip", "--domain",
                 "baton.acme.io"]) == 2
    assert capsys.readouterr().err.startswith("Cannot write missing/dir/out.zip")


def test_the_schema_baton_ships_is_microsoft_s_as_the_samples_hold_it() -> None:
    shipped = ROOT / "adapters" / "teams" / teams_package.SCHEMA
    assert shipped.read_bytes() == (SAMPLES / "schemas" / "MicrosoftTeams.v1.29.schema.json") \
        .read_bytes()


def test_packaging_imports_no_database_platform_chart_or_http_code(tmp_path: Path) -> None:
    from tests.integration.test_cli_imports import HEAVY, imported

    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env |= {"BATON_TEAMS_APP_ID": APP_ID, "BATON_PUBLIC_URL": "https://baton.acme.io", **SECRET}
    loaded = imported("from baton.cli import main\nassert main(['teams', 'package']) == 0",
                      env, tmp_path)
    assert "jsonschema" in loaded and (tmp_path / "baton-teams.zip").is_file()
    unwanted = HEAVY | {"sqlalchemy", "apscheduler", "redis", "PIL"}
    assert not loaded & unwanted, sorted(loaded & unwanted)
