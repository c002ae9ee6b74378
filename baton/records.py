"""`baton export`: items and events written out as CSV or JSON Lines."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.context import plain_json
from bot.events import Event
from bot.items import Item, State
from bot.ports import ItemQuery, UnitOfWork
from store.uow import Database

ALL_STATES = tuple(State)


def item_row(item: Item) -> dict[str, Any]:
    row: dict[str, Any] = plain_json(asdict(item))
    row["policy"] = str(item.policy)
    row.update({f"source_{k}": v for k, v in row.pop("source").items()})
    return row


def event_row(event: Event) -> dict[str, Any]:
    row: dict[str, Any] = plain_json(asdict(event))
    return row


def _write(path: Path, rows: Iterable[dict[str, Any]], fmt: str) -> int:
    rows = list(rows)
    with path.open("w", newline="", encoding="utf-8") as out:
        if fmt == "jsonl":
            for row in rows:
                out.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
        else:
            columns = list(rows[0]) if rows else []
            writer = csv.DictWriter(out, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: json.dumps(v, ensure_ascii=False)
                                 if isinstance(v, list | dict) else v for k, v in row.items()})
    return len(rows)


Rows = list[dict[str, Any]]


async def collect(database: Database) -> tuple[Rows, Rows]:
    """Every workspace's items and events as flat rows, read in one read-only transaction (a
    consistent snapshot that holds up no writer)."""

    async def read(work: UnitOfWork) -> tuple[Rows, Rows]:
        items: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for workspace in await work.events.workspaces():
            found = await work.items.find(workspace, ItemQuery(states=ALL_STATES, limit=10**9))
            items += [item_row(i) for i in sorted(found, key=lambda i: i.number)]
            events += [event_row(e) for e in await work.events.all(workspace)]
        return items, events

    return await database.read(read)


def export(directory: Path, fmt: str, items: Rows, events: Rows) -> list[str]:
    """Write items.<fmt> and events.<fmt> into `directory`; return what was written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in (("items", items), ("events", events)):
        path = directory / f"{name}.{fmt}"
        written.append(f"{path}: {_write(path, rows, fmt)} {name}")
    return written
