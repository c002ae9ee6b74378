"""What one transaction holds locked, and so knows the stored state of.

Rows nobody else can change until this transaction ends need no check at each write: their
writes can wait and go to the database together, before the commit (store.items, store.claims).
A SQLite write transaction holds the whole database (one writer at a time); on PostgreSQL the
sweep holds the due items it locked (FOR UPDATE), and with them their follow-up claims, which
only a transaction holding the item's row writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ItemKey = tuple[str, int]  # workspace, number


@dataclass
class Held:
    whole_database: bool = False
    # Items held, at the version stored now (as this transaction wrote it).
    versions: dict[ItemKey, int] = field(default_factory=dict)
    # The follow-up claims of held items, (target, step), as stored now.
    claims: dict[ItemKey, set[tuple[str, str]]] = field(default_factory=dict)

    def forget(self) -> None:
        self.versions.clear()
        self.claims.clear()
