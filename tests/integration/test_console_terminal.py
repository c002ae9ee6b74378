"""The console and the command line as a terminal user meets them, each in a real process:
Ctrl-C at the prompt, output piped into a reader that stops early, the demo's hint, and the
clock `:time` moves (kept with the database, refused where the database serves a platform)."""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BATON = Path(sys.executable).with_name("baton")  # the console script, as `make run` starts it


def run(args: list[str], env: dict[str, str], cwd: Path, stdin: str = "",
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, input=stdin, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=180, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    return clean | {"BATON_CONFIG": str(ROOT / "baton.example.yaml"),
                    "BATON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"}


def test_ctrl_c_at_the_prompt_leaves_at_once_with_exit_0(tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the console on a terminal of its own
        os.chdir(tmp_path)
        os.execve(str(BATON), [str(BATON), "chat", "--as", "alice"], env)
    seen = b""
    pressed: float | None = None
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(terminal, 4096)
                except OSError:  # the child closed its terminal: it has ended
                    break
                if not chunk:
                    break
                seen += chunk
            if pressed is None and b"alice> " in seen:
                os.write(terminal, b"\x03")  # Ctrl-C, as the terminal sends it
                pressed = time.monotonic()
            if pressed is not None and time.monotonic() - pressed > 10:
                break
        ended = os.waitpid(pid, os.WNOHANG)
        while ended == (0, 0) and pressed is not None and time.monotonic() - pressed < 10:
            time.sleep(0.05)  # its terminal closed as it ended: let it be reaped
            ended = os.waitpid(pid, os.WNOHANG)
        if ended == (0, 0):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"still running 10 s after Ctrl-C: {seen.decode(errors='replace')}")
    finally:
        os.close(terminal)
    assert pressed is not None, seen
    assert os.waitstatus_to_exitcode(ended[1]) == 0, seen
    assert b"Bye." in seen.split(b"alice> ", 1)[1] and b"Traceback" not in seen


def test_output_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    assert run([str(BATON), "demo"], env, tmp_path).returncode == 0
    # `baton outbox list --state sent | head -0`: the reader has gone before the first line.
    reader, writer = os.pipe()
    os.close(reader)
    listing = subprocess.run([str(BATON), "outbox", "list", "--state", "sent"], stdout=writer,
                             stderr=subprocess.PIPE, env=env, cwd=tmp_path, timeout=120,
                             check=False)
    os.close(writer)
    assert listing.stderr.decode() == ""  # no BrokenPipeError, no traceback
    assert listing.returncode == 1


def test_the_demos_hint_leads_to_the_demo(tmp_path: Path, env: dict[str, str]) -> None:
    """No BATON_CONFIG (as outside `make`): `baton run` and the command its hint names find
    the same organisation and database."""
    shutil.copy(ROOT / "baton.example.yaml", tmp_path / "baton.example.yaml")
    plain = {k: v for k, v in env.items() if not k.startswith("BATON_")}
    started = run([str(BATON), "run"], plain, tmp_path, ":quit\n")
    assert started.returncode == 0, started.stderr
    hint = re.search(r"Try `([^`]+)`, then `mine`", started.stdout)
    assert hint, started.stdout
    assert Path(shlex.split(hint[1])[0]).resolve() == BATON.resolve()

    again = run(shlex.split(hint[1]), plain, tmp_path, "mine\n:quit\n")
    assert again.returncode == 0, again.stderr
    assert "you are @alice" in again.stdout
    assert "Update the status page template" in again.stdout  # one of the demo's, for alice
    assert "Traceback" not in again.stdout + again.stderr


def test_the_clock_moved_by_time_is_kept_with_the_database(tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    moved = run([str(BATON), "chat", "--as", "alice"], env, tmp_path,
                ":time +2d\nhandoff @bob Check the backups --due 1d\n:quit\n")
    assert moved.returncode == 0, moved.stderr
    first = re.search(r"🕒 (\w{3} \d\d \w{3} \d{4} \d\d:\d\d)", moved.stdout)
    assert first, moved.stdout

    again = run([str(BATON), "chat", "--as", "alice"], env, tmp_path, ":time\nshow #1\n:quit\n")
    assert again.returncode == 0, again.stderr
    assert "🕒 The clock runs 2d ahead of real time" in again.stdout
    shown = re.findall(r"🕒 (\w{3} \d\d \w{3} \d{4} \d\d:\d\d)", again.stdout)
    assert shown and shown[-1] >= first[1]  # the same day, a minute or so on at most
    assert shown[-1][:15] == first[1][:15]


def test_time_travel_is_refused_on_a_database_that_serves_slack(
        tmp_path: Path, env: dict[str, str]) -> None:
    slack = env | {"BATON_SLACK_BOT_TOKEN": "xoxb-0000-never-used",
                   "BATON_SLACK_SIGNING_SECRET": "signing-secret-never-used"}
    refused = run([str(BATON), "chat", "--as", "alice"], slack, tmp_path,
                  ":time +1d\n:time\n:quit\n")
    assert refused.returncode == 0, refused.stderr
    assert "The clock stays real here: this database serves Slack" in refused.stdout
    assert "ahead of real time" not in refused.stdout
