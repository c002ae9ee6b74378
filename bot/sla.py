"""SLA deadlines of an item, from its team's targets."""

from __future__ import annotations

from datetime import datetime

from bot.people import SlaTargets


def deadlines(targets: SlaTargets, start: datetime) -> tuple[datetime | None, datetime | None]:
    """The acknowledge and resolve deadlines of an item raised at `start` (round the clock)."""
    ack = start + targets.ack if targets.ack is not None else None
    resolve = start + targets.resolve if targets.resolve is not None else None
    return ack, resolve
