"""Small helpers the repositories share: dialect-aware statements and JSON normalisation."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

from store.session import SqlSession


def dialect_of(session: SqlSession) -> str:
    return session.get_bind().dialect.name


def upsert_insert(session: SqlSession,
                  table: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can take ON CONFLICT clauses, for the session's database."""
    name = dialect_of(session)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"Baton stores data in SQLite or PostgreSQL, not {name}")


def plain_json(value: dict[str, Any]) -> dict[str, Any]:
    """The value as it reads back from a JSON column.

    Serialised the way `bot.events.canonical` does (non-JSON values via str), so an event's
    hash covers exactly what is stored and still verifies once loaded.
    """
    result: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return result
