"""The console as a new user meets it: `baton run` piped the README's walkthrough, as a subprocess,
then the trail checked with `baton export` and `baton audit verify`."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough:start -->\n```text\n(.*?)```\n<!-- walkthrough:end -->",
                      readme, re.S)
    assert block, "README.md lost its walkthrough block"
    return block[1]


def baton(args: list[str], env: dict[str, str], cwd: Path, stdin: str = "",
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "baton.cli", *args], input=stdin, env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    return clean | {"BATON_CONFIG": str(ROOT / "baton.example.yaml"),
                    "BATON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"}


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_readme_walkthrough_end_to_end(tmp_path: Path, env: dict[str, str]) -> None:
    run = baton(["run"], env, tmp_path, walkthrough() + ":quit\n")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Loaded eight weeks of the model-release organisation's work" in out
    assert "✉ to @bob: @alice handed you #53: Prepare the v3.3 eval report" in out
    assert "✗ Can't approve #57: under `sequence` it is @priya's turn first" in out
    assert "Baton unblocked it: #55 is done" in out  # in the trail of #54
    assert "Traceback" not in out + run.stderr

    exported = baton(["export", "--format", "jsonl", "--out", "out"], env, tmp_path)
    assert exported.returncode == 0, exported.stderr
    items = {i["number"]: i for i in jsonl(tmp_path / "out" / "items.jsonl")}
    events = jsonl(tmp_path / "out" / "events.jsonl")

    def actions(number: int) -> list[str]:
        return [e["action"] for e in events if e["item"] == number]

    handoff = items[53]
    assert (handoff["state"], handoff["owner"], handoff["outcome"]) == ("done", "dave", "done")
    assert actions(53) == ["created", "decline", "assign", "accept", "done"]
    assert (items[54]["state"], items[54]["outcome"]) == ("done", "resolved")
    assert actions(54) == ["created", "take", "ack", "block", "auto_unblock", "resolve"]
    assert items[56]["outcome"] == "approved" and items[56]["policy"] == "all"
    assert items[57]["outcome"] == "rejected" and items[57]["policy"] == "sequence"
    assert [d["approver"] for d in items[57]["decisions"]] == ["priya", "frank"]
    assert len(items) == 57  # the demo's 52 (41 of history, 11 in its last week), and 5

    verified = baton(["audit", "verify"], env, tmp_path)
    assert verified.returncode == 0 and "chain intact" in verified.stdout


def test_audit_verify_names_an_edited_or_deleted_event(tmp_path: Path,
                                                       env: dict[str, str]) -> None:
    assert baton(["demo"], env, tmp_path).returncode == 0
    db = sqlite3.connect(tmp_path / "baton.db")
    with db:
        db.execute("UPDATE events SET actor = 'mallory' WHERE seq = 5")
    db.close()
    edited = baton(["audit", "verify"], env, tmp_path)
    assert edited.returncode == 1
    assert "event 5: edited" in edited.stdout

    db = sqlite3.connect(tmp_path / "baton.db")
    with db:
        db.execute("UPDATE events SET actor = (SELECT actor FROM events WHERE seq = 4) "
                   "WHERE seq = 5")  # not the original actor either way: still an edit
        db.execute("DELETE FROM events WHERE seq = 9")
    db.close()
    deleted = baton(["audit", "verify"], env, tmp_path)
    assert deleted.returncode == 1
    assert "event 9: missing" in deleted.stdout


def test_export_csv_has_every_item_and_event(tmp_path: Path, env: dict[str, str]) -> None:
    assert baton(["demo"], env, tmp_path).returncode == 0
    result = baton(["export", "--format", "csv", "--out", "csv"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    items = (tmp_path / "csv" / "items.csv").read_text(encoding="utf-8").splitlines()
    events = (tmp_path / "csv" / "events.csv").read_text(encoding="utf-8").splitlines()
    assert items[0].startswith("workspace,number,kind,title")
    assert len(items) == 1 + 52
    assert "hash" in events[0] and len(events) > 25


def test_bad_config_fails_at_start_naming_file_and_path(tmp_path: Path,
                                                       env: dict[str, str]) -> None:
    bad = tmp_path / "baton.yaml"
    bad.write_text("teams:\n  eval:\n    time_zone: Mars/Olympus\n", encoding="utf-8")
    env = env | {"BATON_CONFIG": str(bad)}
    for args in (["check-config"], ["chat", "--as", "alice"]):
        result = baton(args, env, tmp_path)
        assert result.returncode == 2
        assert f"{bad}: teams.eval.time_zone:" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "baton.db").exists()  # nothing was written


def test_unknown_console_user_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    result = baton(["chat", "--as", "zed"], env, tmp_path)
    assert result.returncode == 2 and "No one called zed" in result.stderr
