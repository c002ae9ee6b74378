"""The `baton` command imports what a command uses, when it uses it: `import baton.cli`, and
the commands that must start at once, pull in no platform SDK, chart library, migration tool
or HTTP stack (bench/startup.py measures the time this saves). Each check runs in a fresh
interpreter and reads its sys.modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from baton.cli import OUTBOX_STATES
from baton.settings import Settings
from store.outbox import PARKED, PENDING, SENT, SKIPPED

ROOT = Path(__file__).resolve().parents[2]
HEAVY = frozenset({"slack_bolt", "slack_sdk", "matplotlib", "alembic", "botbuilder", "aiohttp"})
MARK = "--modules--"
# What the code runs, then the top-level packages it left imported, on a line of their own.
REPORT = """
import json, sys
try:
CODE
finally:
    print(MARK + json.dumps(sorted({m.split(".")[0] for m in sys.modules})), flush=True)
"""


def imported(code: str, env: dict[str, str], cwd: Path, stdin: str = "") -> set[str]:
    body = "\n".join("    " + line for line in code.strip().splitlines())
    program = REPORT.replace("CODE", body).replace("MARK", repr(MARK))
    done = subprocess.run([sys.executable, "-c", program], input=stdin, env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)
    marked = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    assert marked, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return set(json.loads(marked[-1][len(MARK):]))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    return clean | {"BATON_CONFIG": str(ROOT / "baton.example.yaml"),
                    "BATON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"}


def test_importing_the_command_line_imports_none_of_the_heavy_packages(
        tmp_path: Path, env: dict[str, str]) -> None:
    loaded = imported("import baton.cli", env, tmp_path)
    assert "baton" in loaded
    unwanted = HEAVY | {"sqlalchemy", "pydantic", "redis", "apscheduler"}
    assert not loaded & unwanted, sorted(loaded & unwanted)


def test_help_and_check_config_import_no_database_platform_or_chart_code(
        tmp_path: Path, env: dict[str, str]) -> None:
    helped = imported("from baton.cli import main\n"
                      "try:\n    main(['--help'])\nexcept SystemExit:\n    pass", env, tmp_path)
    assert not helped & (HEAVY | {"sqlalchemy", "pydantic"}), sorted(helped)

    # The default database: nothing of SQLAlchemy at all.
    default = {k: v for k, v in env.items() if k != "BATON_DATABASE_URL"}
    checked = imported("from baton.cli import main\nassert main(['check-config']) == 0",
                       default, tmp_path)
    assert "bot" in checked and "pydantic_settings" in checked
    unwanted = HEAVY | {"sqlalchemy", "apscheduler", "redis"}
    assert not checked & unwanted, sorted(checked & unwanted)
    # BATON_DATABASE_URL given: SQLAlchemy checks it; still no platform, chart or migrations.
    checked = imported("from baton.cli import main\nassert main(['check-config']) == 0",
                       env, tmp_path)
    assert "sqlalchemy" in checked
    unwanted = HEAVY | {"apscheduler", "redis"}
    assert not checked & unwanted, sorted(checked & unwanted)


def test_the_console_imports_no_platform_chart_or_http_code(
        tmp_path: Path, env: dict[str, str]) -> None:
    loaded = imported("from baton.cli import main\nassert main(['chat', '--as', 'alice']) == 0",
                      env, tmp_path, stdin="mine\n:quit\n")
    assert {"sqlalchemy", "apscheduler"} <= loaded  # it did run
    unwanted = HEAVY - {"alembic"} | {"redis", "prometheus_client"}  # it migrates, though
    assert not loaded & unwanted, sorted(loaded & unwanted)


def test_the_names_the_parser_gives_match_the_store() -> None:
    assert set(OUTBOX_STATES) == {PENDING, SENT, PARKED, SKIPPED}


def test_the_settings_defaults_pass_their_own_checks() -> None:
    """Defaults are not validated when Settings is built (validate_default=False, so reading
    the settings need not import SQLAlchemy): here each is given, as the environment would."""
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert Settings(**defaults).model_dump() == defaults
