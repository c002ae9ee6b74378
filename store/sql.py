"""Small helpers the repositories share: dialect-aware statements and JSON normalisation."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Table
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


def insert_ignoring(table: Table, key: list[str],
                    returning: ColumnElement[Any] | None = None) -> dict[str, Any]:
    """INSERT … ON CONFLICT (`key`) DO NOTHING, built once for each dialect, to be run with
    bound parameters as `statements[dialect_of(session)]`. With
    `returning`, a row comes back only when this insert wrote one."""
    statements: dict[str, Any] = {}
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite)):
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=key)
        statements[name] = statement.returning(returning) if returning is not None \
            else statement
    return statements


def json_text(value: Any) -> str:
    """How JSON columns are written (the engines' serializer): values JSON has no type for
    (datetimes) as their text, the way `plain_json` and `bot.events.canonical` write them."""
    return json.dumps(value, default=str)


def plain_json(value: dict[str, Any]) -> dict[str, Any]:
    """The value as it reads back from a JSON column.

    Serialised the way `bot.events.canonical` does (non-JSON values via str), so an event's
    hash covers exactly what is stored and still verifies once loaded.
    """
    result: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return result
