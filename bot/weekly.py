"""The weekly manager digest: throughput, time to acknowledge and resolve, SLA attainment,
escalations, backlog by age, the oldest items and load per owner, each figure with its change
against the week before; and the data of its chart (drawn outside the core).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.figures import AGE_BUCKETS, Spread, Week, WeeklyFigures
from bot.items import Kind
from bot.presenters import span, state_label
from bot.rich import Rich, fmt, join, lines, person, team, text
from bot.rich import item as item_ref

LOAD_SHOWN = 10


def change(now: int, before: int) -> str:
    """▲3, ▼2 or ±0."""
    delta = now - before
    return f"▲{delta}" if delta > 0 else f"▼{-delta}" if delta < 0 else "±0"


def _change_span(now: timedelta | None, before: timedelta | None) -> str:
    if now is None or before is None:
        return "no figure last week" if before is None and now is not None else "—"
    delta = now - before
    if abs(delta) < timedelta(minutes=1):
        return "±0"
    return f"▲{span(delta)}" if delta > timedelta() else f"▼{span(-delta)}"


def _share(met: int, total: int) -> int | None:
    return round(100 * met / total) if total else None


def _attainment(label: str, met: int, total: int, before_met: int, before_total: int) -> str:
    share, before = _share(met, total), _share(before_met, before_total)
    if share is None:
        return f"{label}: no items"
    if before is None:
        trend = "no figure last week"
    else:
        arrow = "▲" if share > before else "▼" if share < before else "±"
        trend = f"{arrow}{abs(share - before)} pts"
    return f"{label} {share}% ({met}/{total}, {trend})"


def _counts(label: str, this: dict[Kind, int], last: dict[Kind, int]) -> str:
    total, before = sum(this.values()), sum(last.values())
    kinds = ", ".join(
        f"{kind.value} {this.get(kind, 0)} ({change(this.get(kind, 0), last.get(kind, 0))})"
        for kind in Kind if this.get(kind) or last.get(kind))
    return f"{label}: {total} ({change(total, before)})" + (f" — {kinds}" if kinds else "")


def _times(label: str, this: Spread, last: Spread) -> str:
    if not this.count:
        return f"{label}: no items this week"
    assert this.median is not None and this.p90 is not None
    return (f"{label}: median {span(this.median)} ({_change_span(this.median, last.median)}), "
            f"p90 {span(this.p90)} ({_change_span(this.p90, last.p90)}) over {this.count} "
            f"item{'s' if this.count != 1 else ''}")


def _backlog(this: Week, last: Week) -> str:
    parts = [f"{label} {this.backlog.get(label, 0)} "
             f"({change(this.backlog.get(label, 0), last.backlog.get(label, 0))})"
             for label, _ in AGE_BUCKETS if this.backlog.get(label) or last.backlog.get(label)]
    return f"Backlog: {this.open} open ({change(this.open, last.open)})" + \
        (f" — {', '.join(parts)}" if parts else "")


def _load(this: Week, last: Week) -> Rich:
    owners = sorted(set(this.load) | set(last.load),
                    key=lambda o: (-this.load.get(o, 0), o))
    if not owners:
        return text("Load per owner: nobody holds open items")
    shown = [fmt("{who} {n} ({change})", who=person(o) if o else "unassigned",
                 n=this.load.get(o, 0), change=change(this.load.get(o, 0), last.load.get(o, 0)))
             for o in owners[:LOAD_SHOWN]]
    more = f", and {len(owners) - LOAD_SHOWN} more" if len(owners) > LOAD_SHOWN else ""
    return "Load per owner: " + join(shown, ", ") + more


def weekly_digest(figures: WeeklyFigures, now: datetime, zone: ZoneInfo) -> Rich:
    """The digest's text; changes are against the 7 days before."""
    this, last = figures.this, figures.last
    start = this.start.astimezone(zone).strftime("%a %d %b")
    end = this.end.astimezone(zone).strftime("%a %d %b %H:%M")
    rows: list[Rich | str] = [
        fmt("{team} weekly digest, {start} to {end} (changes against the week before)",
            team=team(figures.team), start=start, end=end),
        _counts("Created", this.created, last.created),
        _counts("Done", this.done, last.done),
        _times("Time to acknowledge", this.ack, last.ack),
        _times("Time to resolve", this.resolve, last.resolve),
        "SLA attainment: " + _attainment("acknowledged in time", this.ack_met, this.ack_total,
                                         last.ack_met, last.ack_total)
        + "; " + _attainment("resolved in time", this.resolve_met, this.resolve_total,
                             last.resolve_met, last.resolve_total),
        f"Escalations: {this.escalations} ({change(this.escalations, last.escalations)})",
        _backlog(this, last),
        _load(this, last),
    ]
    if figures.oldest:
        rows.append(f"Oldest open ({len(figures.oldest)}):")
        rows += [fmt("  {ref} [{kind} · {state}] {title} — {who}, open {age}",
                     ref=item_ref(i.number), kind=i.kind.value, state=state_label(i),
                     title=i.title, who=fmt("owner {o}", o=person(i.owner)) if i.owner
                     else "unassigned", age=span(now - i.created_at)) for i in figures.oldest]
    weeks = len(figures.trend)
    rows.append(f"Chart: backlog and throughput over {weeks} weeks (attached where the "
                f"platform shows images).")
    return lines(rows)


def chart_spec(figures: WeeklyFigures, zone: ZoneInfo) -> dict[str, Any]:
    """What the chart shows, as plain JSON for the outbox: week labels and three series."""
    return {
        "title": f"#{figures.team}: backlog and throughput",
        "weeks": [(p.end - timedelta(days=7)).astimezone(zone).strftime("%d %b")
                  for p in figures.trend],
        "created": [p.created for p in figures.trend],
        "done": [p.done for p in figures.trend],
        "backlog": [p.backlog for p in figures.trend],
    }
