"""`baton check-config` and `baton serve` read baton.yaml alike: what one refuses the other
refuses, with one line per problem naming the real file, exit 2, and nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def baton(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "baton.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    return clean | {"BATON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}",
                    "BATON_PORT": "1"}  # never reached: serve must stop before listening


def test_check_config_and_serve_refuse_unknown_holidays_alike(tmp_path: Path,
                                                              env: dict[str, str]) -> None:
    config = tmp_path / "other-name.yaml"
    config.write_text("teams:\n  eval:\n    hours: {holidays: {country: ZZ}}\n",
                      encoding="utf-8")
    env = env | {"BATON_CONFIG": str(config)}
    expected = (f"{config}: teams.eval.hours.holidays.country: expected a country code the "
                "holidays library knows, like GB or US, got 'ZZ'\n")
    for command in ("check-config", "serve"):
        result = baton([command], env, tmp_path)
        assert (result.returncode, result.stderr) == (2, expected), command
        assert not (tmp_path / "baton.db").exists()  # refused before the database was made


@pytest.mark.parametrize("command", ["check-config", "serve"])
@pytest.mark.parametrize(("make", "message"), [
    (lambda d: Path("/dev/zero"), "/dev/zero: larger than 1 MB; a baton.yaml is far smaller "
                                  "(is BATON_CONFIG the right file?)"),
    (lambda d: d, "{path}: is a directory, expected a baton.yaml file"),
    (lambda d: _written(d, "teams: " + "[" * 5000 + "]" * 5000),
     "{path}: line 1, column 71: invalid YAML: nested deeper than 64 levels"),
], ids=["endless", "directory", "deep"])
def test_hostile_config_path_is_one_line_and_exit_2(tmp_path: Path, env: dict[str, str],
                                                    command: str, make: Callable[[Path], Path],
                                                    message: str) -> None:
    path = make(tmp_path)
    result = baton([command], env | {"BATON_CONFIG": str(path)}, tmp_path)
    assert (result.returncode, result.stderr) == (2, message.format(path=path) + "\n")
    assert not (tmp_path / "baton.db").exists()


def _written(directory: Path, text: str) -> Path:
    path = directory / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    return path
