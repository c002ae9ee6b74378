"""Digests: the daily blocker digest (what is blocked, late, unowned, waiting on a decision, due
today) and the weekly manager digest (bot/weekly.py), posted to a team's channel.

Figures come from the Statistics port (database aggregates). Long digests are split into pages
that fit a chat message, each marked "(2/3)"; a long section lists its first items and says how
many more there are and how to list them, so nothing is cut without saying so.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import presenters as say
from bot.approvals import pending_approvers
from bot.context import Ctx
from bot.figures import DailyFigures, Listing
from bot.items import Item
from bot.messages import Audience, Outgoing
from bot.ports import Claim
from bot.presenters import item_line
from bot.rich import Rich, code, fmt, lines, text
from bot.rich import item as item_ref
from bot.transitions import DomainError
from bot.weekly import chart_spec, weekly_digest

SECTION_LIMIT = 15  # items listed per section before "… and N more"
PAGE_CHARS = 3000  # per message: within Slack's section text and Teams' card limits


def _age(item: Item, now: datetime) -> str:
    hours = int((now - item.updated_at).total_seconds() // 3600)
    return f"{hours // 24}d" if hours >= 48 else f"{hours}h"


def _section(title: str, listing: Listing, rows: list[Rich], more: str) -> list[Rich]:
    out = [say.section(title, listing.total), *["  " + row for row in rows]]
    if listing.total > len(rows):
        out.append(fmt("  … and {n} more: {more}", n=listing.total - len(rows), more=code(more)))
    return out


def _blocked(item: Item, zone: ZoneInfo, now: datetime) -> Rich:
    waiting = fmt(" (waiting on {ref})", ref=item_ref(item.blocked_on)) if item.blocked_on \
        else ""
    return item_line(item, zone, now) + fmt("\n    blocked {age}: {reason}{waiting}",
                                            age=_age(item, now), reason=item.blocked_reason,
                                            waiting=waiting)


def _waiting(item: Item) -> Rich:
    return fmt("{ref} {title} — waiting on {who}", ref=item_ref(item.number), title=item.title,
               who=say.people(pending_approvers(item)))


def daily_digest(team: str, figures: DailyFigures, now: datetime, zone: ZoneInfo) -> Rich:
    """The blocker digest of one team, or a one-line all-clear."""
    day = now.astimezone(zone).strftime("%a %d %b")
    listed = f"list --team {team}"
    sections = [
        ("Blocked", figures.blocked, [_blocked(i, zone, now) for i in figures.blocked.items],
         f"{listed} --state blocked"),
        ("Overdue", figures.overdue, [item_line(i, zone, now) for i in figures.overdue.items],
         f"{listed} --state overdue"),
        ("Unassigned exceptions", figures.unassigned,
         [item_line(i, zone, now) for i in figures.unassigned.items],
         f"{listed} --kind exception"),
        ("Approvals waiting", figures.approvals, [_waiting(i) for i in figures.approvals.items],
         f"{listed} --kind approval"),
        ("Due today", figures.due_today,
         [item_line(i, zone, now) for i in figures.due_today.items], listed),
    ]
    shown = [s for s in sections if s[1].total]
    if not shown:
        return say.all_clear(team, day)
    out = [say.digest_heading(team, day, zone.key)]
    for title, listing, rows, more in shown:
        out += _section(title, listing, rows, more)
    return lines(out)


def pages(message: Rich, limit: int = PAGE_CHARS) -> list[Rich]:
    """The text in pieces of at most `limit` characters (as plain text), split between lines
    (a line longer than a page between words), each marked "(i/n)" when there is more than
    one."""
    marker = len(" (99/99)")
    room = max(limit - marker, 20)
    pieces: list[list[Rich]] = []
    current: list[Rich] = []
    size = 0
    for line in _short_lines(message.lines(), room):
        length = len(str(line))
        if current and size + 1 + length > room:
            pieces.append(current)
            current, size = [], 0
        size += (1 if current else 0) + length
        current.append(line)
    pieces.append(current)
    if len(pieces) == 1:
        return [lines(pieces[0])]
    total = len(pieces)
    return [f"({n}/{total}) " + lines(piece) for n, piece in enumerate(pieces, start=1)]


def _short_lines(rows: list[Rich], room: int) -> list[Rich]:
    """Lines longer than `room` cut between words (as plain text: a cut line loses its
    mentions' markup, never its words)."""
    out: list[Rich] = []
    for row in rows:
        plain = str(row)
        if len(plain) <= room:
            out.append(row)
            continue
        while len(plain) > room:
            cut = plain.rfind(" ", 0, room)
            cut = cut if cut > room // 2 else room
            out.append(text(plain[:cut]))
            plain = plain[cut:].lstrip(" ")
        out.append(text(plain))
    return out


def _end_of_day(now: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(now.astimezone(zone).date() + timedelta(days=1),
                            datetime.min.time(), tzinfo=zone)


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


async def post_digest(ctx: Ctx, team: str, *, weekly: bool = False,
                      public: bool = True) -> Rich:
    """Compute a team's digest and, when `public`, queue it, paged, for the team's channels. A
    digest Baton's own timer posts is claimed per team and local day first, so of several
    replicas firing the same schedule exactly one posts it; a person asking gets one whenever
    they ask."""
    found = ctx.directory.team(team)
    zone = ZoneInfo(found.time_zone) if found else ZoneInfo("UTC")
    kind = "weekly" if weekly else "daily"
    if ctx.actor.id == "baton":
        period = ctx.now.astimezone(zone).date().isoformat()
        if not await ctx.uow.followups.claim(Claim(ctx.workspace, 0, f"digest:{kind}:{team}",
                                                   period, "digest", team, ctx.now)):
            raise DomainError(say.digest_already_posted(kind, team, period))
    chart: dict[str, object] | None = None
    if weekly:
        figures = await ctx.uow.stats.weekly(ctx.workspace, team, ctx.now)
        message = weekly_digest(figures, ctx.now, zone)
        chart = chart_spec(figures, zone)
    else:
        daily = await ctx.uow.stats.daily(ctx.workspace, team, ctx.now,
                                          _end_of_day(ctx.now, zone), SECTION_LIMIT)
        message = daily_digest(team, daily, ctx.now, zone)
    event = await ctx.record("digest", None, None, extra={"team": team, "kind": kind,
                                                          "posted": public})
    if not public:
        return message
    parts = pages(message)
    for n, part in enumerate(parts, start=1):
        first = n == 1 and chart is not None
        attachment = (f"charts/weekly-{_file_part(ctx.workspace)}-{_file_part(team)}-"
                      f"{event.seq}.png") if first else None
        await ctx.uow.outbox.put(Outgoing(
            ctx.workspace, Audience.TEAM, team, part,
            f"{ctx.workspace}:{event.seq}:{Audience.TEAM}:{team}:{n}",
            card={"chart": chart} if first else None, attachment=attachment, action="digest",
            event=event.seq))
    return message
