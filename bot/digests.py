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

from bot.approvals import pending_approvers
from bot.context import Ctx
from bot.figures import DailyFigures, Listing
from bot.items import Item
from bot.messages import Delivery, Outgoing
from bot.ports import Claim
from bot.presenters import item_line, mention
from bot.transitions import DomainError
from bot.weekly import chart_spec, weekly_digest

SECTION_LIMIT = 15  # items listed per section before "… and N more"
PAGE_CHARS = 3000  # per message: within Slack's section text and Teams' card limits


def _age(item: Item, now: datetime) -> str:
    hours = int((now - item.updated_at).total_seconds() // 3600)
    return f"{hours // 24}d" if hours >= 48 else f"{hours}h"


def _section(title: str, listing: Listing, lines: list[str], more: str) -> list[str]:
    out = [f"*{title}* ({listing.total})", *[f"  {line}" for line in lines]]
    if listing.total > len(lines):
        out.append(f"  … and {listing.total - len(lines)} more: {more}")
    return out


def daily_digest(team: str, figures: DailyFigures, now: datetime, zone: ZoneInfo) -> str:
    """The blocker digest of one team, or a one-line all-clear."""
    day = now.astimezone(zone).strftime("%a %d %b")
    listed = f"`list --team {team}"
    sections = [
        ("Blocked", figures.blocked,
         [f"{item_line(i, zone, now)}\n    blocked {_age(i, now)}: {i.blocked_reason}"
          + (f" (waiting on #{i.blocked_on})" if i.blocked_on else "")
          for i in figures.blocked.items], f"{listed} --state blocked`"),
        ("Overdue", figures.overdue, [item_line(i, zone, now) for i in figures.overdue.items],
         f"{listed} --state overdue`"),
        ("Unassigned exceptions", figures.unassigned,
         [item_line(i, zone, now) for i in figures.unassigned.items],
         f"{listed} --kind exception`"),
        ("Approvals waiting", figures.approvals,
         [f"#{i.number} {i.title} — waiting on "
          + ", ".join(mention(a) for a in pending_approvers(i)) for i in figures.approvals.items],
         f"{listed} --kind approval`"),
        ("Due today", figures.due_today,
         [item_line(i, zone, now) for i in figures.due_today.items], f"{listed}`"),
    ]
    shown = [s for s in sections if s[1].total]
    if not shown:
        return f"#{team} blocker digest, {day}: all clear, nothing blocked or late."
    out = [f"#{team} blocker digest, {day} (times in {zone.key})"]
    for title, listing, lines, more in shown:
        out += _section(title, listing, lines, more)
    return "\n".join(out)


def pages(text: str, limit: int = PAGE_CHARS) -> list[str]:
    """The text in pieces of at most `limit` characters, split between lines (a line longer
    than a page between words), each marked "(i/n)" when there is more than one."""
    marker = len(" (99/99)")
    room = max(limit - marker, 20)
    pieces: list[str] = []
    current = ""
    for line in _short_lines(text.split("\n"), room):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > room and current:
            pieces.append(current)
            current = line
        else:
            current = candidate
    pieces.append(current)
    if len(pieces) == 1:
        return pieces
    total = len(pieces)
    return [f"({n}/{total}) {piece}" for n, piece in enumerate(pieces, start=1)]


def _short_lines(lines: list[str], room: int) -> list[str]:
    out: list[str] = []
    for line in lines:
        while len(line) > room:
            cut = line.rfind(" ", 0, room)
            cut = cut if cut > room // 2 else room
            out.append(line[:cut])
            line = line[cut:].lstrip(" ")
        out.append(line)
    return out


def _end_of_day(now: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(now.astimezone(zone).date() + timedelta(days=1),
                            datetime.min.time(), tzinfo=zone)


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


async def post_digest(ctx: Ctx, team: str, channel: str, *, weekly: bool = False) -> str:
    """Compute a team's digest and queue it, paged, for its channel. A digest Baton's own timer
    posts is claimed per team and local day first, so of several replicas firing the same
    schedule exactly one posts it; a person asking gets one whenever they ask."""
    found = ctx.directory.team(team)
    zone = ZoneInfo(found.time_zone) if found else ZoneInfo("UTC")
    kind = "weekly" if weekly else "daily"
    if ctx.actor.id == "baton":
        period = ctx.now.astimezone(zone).date().isoformat()
        if not await ctx.uow.followups.claim(Claim(ctx.workspace, 0, f"digest:{kind}:{team}",
                                                   period, "digest", team, ctx.now)):
            raise DomainError(f"The {kind} digest of #{team} for {period} was already posted.")
    chart: dict[str, object] | None = None
    if weekly:
        figures = await ctx.uow.stats.weekly(ctx.workspace, team, ctx.now)
        text = weekly_digest(figures, ctx.now, zone)
        chart = chart_spec(figures, zone)
    else:
        daily = await ctx.uow.stats.daily(ctx.workspace, team, ctx.now,
                                          _end_of_day(ctx.now, zone), SECTION_LIMIT)
        text = daily_digest(team, daily, ctx.now, zone)
    event = await ctx.record("digest", None, None, extra={"team": team, "kind": kind})
    parts = pages(text)
    for n, part in enumerate(parts, start=1):
        first = n == 1 and chart is not None
        attachment = (f"charts/weekly-{_file_part(ctx.workspace)}-{_file_part(team)}-"
                      f"{event.seq}.png") if first else None
        await ctx.uow.outbox.put(Outgoing(
            ctx.workspace, Delivery.CHANNEL, channel, part,
            f"{ctx.workspace}:{event.seq}:{Delivery.CHANNEL}:{channel}:{n}",
            card={"chart": chart} if first else None, attachment=attachment))
    return text
