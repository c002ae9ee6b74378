"""What a newcomer meets in the repository itself: the walkthrough file the README pipes into
`make run` is the README's walkthrough, `baton export`'s default folder is ignored by git, and
the package's licence is an SPDX expression (a table makes setuptools warn on every install).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_walkthrough_file_is_the_readmes_walkthrough() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough:start -->\n```text\n(.*?)```\n<!-- walkthrough:end -->",
                      readme, re.S)
    assert block, "README.md lost its walkthrough block"
    assert "make run < walkthrough.txt" in readme
    assert (ROOT / "walkthrough.txt").read_text(encoding="utf-8") == block[1]


def test_exports_land_where_git_does_not_look() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/export/" in ignored  # `baton export` writes ./export unless --out says


def test_the_licence_is_an_spdx_expression() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in project["build-system"]["requires"]  # PEP 639 licence strings
