"""`baton audit verify` and `baton audit checkpoint` as an attacker with the database meets them:
rows deleted or mangled, the tail cut, the chain re-sealed, checkpoints forged; each is told by
workspace and position, exit 1, no traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.events import EventDraft, seal

ROOT = Path(__file__).resolve().parents[2]
WS = "model-release"  # the demo's workspace (baton.example.yaml)


def baton(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "baton.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    return clean | {"BATON_CONFIG": str(ROOT / "baton.example.yaml"),
                    "BATON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}",
                    "BATON_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def demo(tmp_path: Path, env: dict[str, str]) -> Path:
    """The demo week loaded; the database file's path."""
    loaded = baton(["demo"], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    return tmp_path / "baton.db"


def sql(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


def verify(env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    result = baton(["audit", "verify"], env, cwd)
    assert "Traceback" not in result.stdout + result.stderr
    return result.returncode, result.stdout.splitlines()


def checkpoint(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = baton(["audit", "checkpoint"], env, cwd)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def last_seq(db: Path) -> int:
    conn = sqlite3.connect(db)
    found = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    conn.close()
    return int(found)


# --- without checkpoints: what the database alone can show ----------------------------------


def test_deleting_the_workspace_rows_does_not_hide_the_events(
        tmp_path: Path, env: dict[str, str], demo: Path) -> None:
    events = last_seq(demo)
    sql(demo, "DELETE FROM workspaces")
    code, lines = verify(env, tmp_path)
    assert code == 1
    assert lines[0] == (f"{WS}: event {events}: no workspace row records this chain's head "
                        "(it was deleted)")
    assert lines[-1].startswith(f"{events} events checked")


def test_unreadable_rows_are_told_by_position_and_the_run_goes_on(
        tmp_path: Path, env: dict[str, str], demo: Path) -> None:
    sql(demo, "UPDATE events SET before = '{bad' WHERE seq = 3",
        "UPDATE events SET at = 'yesterday' WHERE seq = 5",
        "UPDATE events SET item = 'seven' WHERE seq = 7",
        "UPDATE events SET actor = 'mallory' WHERE seq = 9")
    code, lines = verify(env, tmp_path)
    assert code == 1
    assert lines[:4] == [
        f"{WS}: event 3: unreadable: its before cannot be read back (Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1))",
        f"{WS}: event 5: unreadable: its at cannot be read back (Invalid isoformat string: "
        "'yesterday')",
        f"{WS}: event 7: unreadable: its item is not of the stored type",
        f"{WS}: event 9: edited: its content no longer matches its hash",  # read past them
    ]
    assert lines[-1] == f"{last_seq(demo)} events checked (no checkpoints yet: a deleted tail " \
                        "or a re-sealed chain would go unseen; run baton audit checkpoint): " \
                        "4 problem(s)"


# --- checkpoints: what the database cannot rewrite -------------------------------------------


def test_checkpoint_is_signed_outside_the_database_once_per_head(
        tmp_path: Path, env: dict[str, str], demo: Path) -> None:
    first = checkpoint(env, tmp_path)
    assert (first.returncode, first.stdout) == (0, f"{WS}: checkpoint at event "
                                                   f"{last_seq(demo)}\n")
    key = tmp_path / "data" / "audit" / "signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = checkpoint(env, tmp_path)  # nothing moved: nothing written
    assert (again.returncode, again.stdout) == (0, "nothing new to checkpoint\n")
    lines = (tmp_path / "data" / "audit" / "checkpoints.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [last_seq(demo)]
    code, report = verify(env, tmp_path)
    assert (code, report) == (0, [f"{last_seq(demo)} events checked against 1 checkpoint(s): "
                                  "chain intact"])


def test_a_deleted_tail_is_caught_by_the_checkpoint(tmp_path: Path, env: dict[str, str],
                                                   demo: Path) -> None:
    head = last_seq(demo)
    assert checkpoint(env, tmp_path).returncode == 0
    # Cut the last three events and make the workspace row agree: the chain alone holds.
    sql(demo, f"DELETE FROM events WHERE seq > {head - 3}",
        f"UPDATE workspaces SET last_seq = {head - 3}, "
        f"last_hash = (SELECT hash FROM events WHERE seq = {head - 3})")
    code, lines = verify(env, tmp_path)
    assert code == 1
    assert lines[0].startswith(f"{WS}: event {head}: missing: the checkpoint of ")
    assert lines[0].endswith(f"recorded event {head}, the chain ends at event {head - 3} "
                             "(events deleted)")
    # ... and is not anchored by the next checkpoint either.
    refused = checkpoint(env, tmp_path)
    assert refused.returncode == 1
    assert refused.stdout == (f"{WS}: not checkpointed: event {head} is not as the last "
                              "checkpoint recorded it (run baton audit verify)\n")


def test_an_edit_resealed_to_the_head_is_caught_by_the_checkpoint(
        tmp_path: Path, env: dict[str, str], demo: Path) -> None:
    assert checkpoint(env, tmp_path).returncode == 0
    reseal_from(demo, 5, actor="mallory")
    code, lines = verify(env, tmp_path)
    assert code == 1
    assert len(lines) == 2
    assert lines[0].startswith(f"{WS}: event {last_seq(demo)}: differs from the checkpoint of ")
    assert lines[0].endswith("the trail up to here was rewritten since")


def test_forged_or_altered_checkpoints_are_refused(tmp_path: Path, env: dict[str, str],
                                                  demo: Path) -> None:
    assert checkpoint(env, tmp_path).returncode == 0
    path = tmp_path / "data" / "audit" / "checkpoints.jsonl"
    genuine = json.loads(path.read_text())
    reseal_from(demo, 5, actor="mallory")  # then vouch for the rewritten head
    forged = genuine | {"hash": head_hash(demo)}
    other_key = genuine | {"seq": 3, "key": "0123456789abcdef"}
    with path.open("a") as out:
        out.write(json.dumps(forged) + "\n" + json.dumps(other_key) + "\n" + "{torn\n")
    code, lines = verify(env, tmp_path)
    head = last_seq(demo)
    assert code == 1
    assert lines[0] == f"{path}: line 4: unreadable: not valid JSON"
    assert lines[1].startswith(f"{WS}: event 3: the checkpoint of ")
    assert "is signed by another key (0123456789abcdef, this one is " in lines[1]
    assert lines[2].startswith(f"{WS}: event {head}: differs from the checkpoint of ")
    assert lines[3].startswith(f"{WS}: event {head}: the checkpoint of ")  # the forged one
    assert lines[3].endswith("has a signature that does not verify: forged or altered")
    assert lines[-1].endswith("against 3 checkpoint(s): 4 problem(s)")


def test_verify_without_the_key_says_so(tmp_path: Path, env: dict[str, str],
                                        demo: Path) -> None:
    assert checkpoint(env, tmp_path).returncode == 0
    key = tmp_path / "data" / "audit" / "signing.key"
    key.unlink()
    code, lines = verify(env, tmp_path)
    assert code == 1
    assert lines[0] == f"{key}: no signing key to check the 1 checkpoint(s) with " \
                       "(BATON_AUDIT_KEY)"


def test_audit_key_may_live_elsewhere(tmp_path: Path, env: dict[str, str], demo: Path) -> None:
    """BATON_AUDIT_KEY: a key provisioned for every replica (a mounted secret)."""
    elsewhere = tmp_path / "secrets" / "baton-audit.key"
    env = env | {"BATON_AUDIT_KEY": str(elsewhere)}
    assert checkpoint(env, tmp_path).returncode == 0
    assert elsewhere.is_file() and not (tmp_path / "data" / "audit" / "signing.key").exists()
    assert verify(env, tmp_path)[0] == 0


# --- helpers: an attacker with the database and our code -------------------------------------


def head_hash(db: Path) -> str:
    conn = sqlite3.connect(db)
    found = conn.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()[0]
    conn.close()
    return str(found)


def reseal_from(db: Path, seq: int, **changes: Any) -> None:
    """Edit event `seq` and re-seal it and every later event, and the workspace head, so the
    chain verifies on its own."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    with conn:
        rows = conn.execute("SELECT * FROM events WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
        prev = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq - 1,)).fetchone()[0]
        for row in rows:
            fields = dict(row) | (changes if row["seq"] == seq else {})
            at = datetime.fromisoformat(fields["at"] + "+00:00")
            event = seal(EventDraft(fields["workspace"], fields["item"], fields["actor"],
                                    fields["action"], at, fields["surface"],
                                    json.loads(fields["before"]), json.loads(fields["after"])),
                         fields["seq"], prev)
            conn.execute("UPDATE events SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?",
                         (fields["actor"], event.prev_hash, event.hash, row["id"]))
            prev = event.hash
        conn.execute("UPDATE workspaces SET last_hash = ?", (prev,))
    conn.close()
