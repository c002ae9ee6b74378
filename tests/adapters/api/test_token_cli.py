"""`baton token create|list|revoke` as an admin runs them: shown once, stored hashed, refused
with a clear line when the request cannot be granted."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.adapters.api.harness import CONFIG


def _baton(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BATON_CONFIG": str(tmp / "baton.yaml"),
           "BATON_DATABASE_URL": f"sqlite:///{tmp / 'baton.db'}"}
    return subprocess.run([sys.executable, "-m", "baton.cli", *args], env=env, cwd=tmp,
                          capture_output=True, text=True, timeout=120)


def test_create_list_revoke(tmp_path: Path) -> None:
    (tmp_path / "baton.yaml").write_text(CONFIG)
    made = _baton(tmp_path, "token", "create", "--name", "release-pipeline", "--team",
                  "release", "--scope", "items:write", "--owner", "@alice")
    assert made.returncode == 0, made.stderr
    token = next(w for w in made.stdout.split() if w.startswith("baton_"))
    assert "whsec_" in made.stdout and "on behalf of @alice" in made.stdout
    with sqlite3.connect(tmp_path / "baton.db") as db:
        stored = db.execute("SELECT token_hash FROM api_tokens").fetchall()
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(),)]  # the hash, never the token
    listed = _baton(tmp_path, "token", "list")
    assert "release-pipeline for @alice" in listed.stdout and "never used" in listed.stdout
    assert token not in listed.stdout
    revoked = _baton(tmp_path, "token", "revoke", "release-pipeline")
    assert revoked.returncode == 0 and "Revoked token 1" in revoked.stdout
    assert "revoked" in _baton(tmp_path, "token", "list").stdout
    again = _baton(tmp_path, "token", "revoke", "release-pipeline")
    assert again.returncode == 1


def test_requests_that_cannot_be_granted(tmp_path: Path) -> None:
    (tmp_path / "baton.yaml").write_text(CONFIG)
    cases = {
        ("--name", "ci", "--team", "nope"): "no such team",
        ("--name", "ci", "--team", "release", "--scope", "items:everything"): "--scope",
        ("--name", "ci", "--team", "release", "--scope", "items:decide"): "needs --owner",
        ("--name", "alice", "--team", "release"): "is a person",
        ("--name", "Bad Name", "--team", "release"): "--name",
        ("--name", "ci", "--team", "release", "--owner", "@zed"): "no such person",
    }
    for args, said in cases.items():
        done = _baton(tmp_path, "token", "create", *args)
        assert done.returncode == 2 and said in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert "No API tokens yet" in _baton(tmp_path, "token", "list").stdout
