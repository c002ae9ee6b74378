"""The daily blocker digest: what is blocked, late, unowned, waiting on a decision, due today."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.approvals import pending_approvers
from bot.items import Item, Kind, State
from bot.presenters import item_line, mention


def _age(item: Item, now: datetime) -> str:
    hours = int((now - item.updated_at).total_seconds() // 3600)
    return f"{hours // 24}d" if hours >= 48 else f"{hours}h"


def daily_digest(team: str, items: list[Item], now: datetime, zone: ZoneInfo) -> str:
    """The blocker digest of one team's open items, or a one-line all-clear."""
    live = [i for i in items if not i.state.final]
    end_of_day = datetime.combine(now.astimezone(zone).date() + timedelta(days=1),
                                  datetime.min.time(), tzinfo=zone)
    blocked = [i for i in live if i.state is State.BLOCKED]
    overdue = [i for i in live if i.overdue(now) and i.state is not State.BLOCKED]
    unowned = [i for i in live if i.kind is Kind.EXCEPTION and i.owner is None]
    approvals = [i for i in live if i.kind is Kind.APPROVAL and i.state is not State.BLOCKED]
    due_today = [i for i in live if i.due_at and now < i.due_at < end_of_day]
    sections: list[tuple[str, list[str]]] = [
        ("Blocked", [f"{item_line(i, zone, now)}\n    blocked {_age(i, now)}: {i.blocked_reason}"
                     + (f" (waiting on #{i.blocked_on})" if i.blocked_on else "")
                     for i in blocked]),
        ("Overdue", [item_line(i, zone, now) for i in overdue]),
        ("Unassigned exceptions", [item_line(i, zone, now) for i in unowned]),
        ("Approvals waiting", [f"#{i.number} {i.title} — waiting on "
                               + ", ".join(mention(a) for a in pending_approvers(i))
                               for i in approvals]),
        ("Due today", [item_line(i, zone, now) for i in due_today]),
    ]
    shown = [(title, lines) for title, lines in sections if lines]
    day = now.astimezone(zone).strftime("%a %d %b")
    if not shown:
        return f"#{team} blocker digest, {day}: all clear, nothing blocked or late."
    out = [f"#{team} blocker digest, {day}"]
    for title, lines in shown:
        out.append(f"*{title}* ({len(lines)})")
        out += [f"  {line}" for line in lines]
    return "\n".join(out)
