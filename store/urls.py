"""What a database URL names, without the store: the settings check it at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


def sqlite_in_memory(url: URL) -> bool:
    """Whether a SQLite URL names no file (`sqlite://`, `sqlite:///:memory:`)."""
    return (url.database or ":memory:") == ":memory:"
