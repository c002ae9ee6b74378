"""Every user-facing word Baton says about items, in one place. Mentions are written `<@id>`;
each surface renders them its own way."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.approvals import pending_approvers
from bot.cards import Card, card_actions
from bot.events import Event
from bot.items import Item, Kind, State
from bot.rules import Verb


def mention(person: str | None) -> str:
    return f"<@{person}>" if person else "nobody"


def acting(person: str, via: str = "") -> str:
    """Who did something: a person, a system (an API client, an agent) on a person's behalf,
    or a system in its own name."""
    if not via:
        return mention(person)
    return via if via == person else f"{via}, on behalf of {mention(person)}"


def when(instant: datetime | None, zone: ZoneInfo) -> str:
    if instant is None:
        return "—"
    return instant.astimezone(zone).strftime("%a %d %b %H:%M")


def state_label(item: Item) -> str:
    if item.state is State.DONE and item.outcome and item.outcome.value != "done":
        return f"done ({item.outcome.value})"
    return item.state.value


def item_line(item: Item, zone: ZoneInfo, now: datetime) -> str:
    """One line per item in lists: number, kind, state, title, owner, due."""
    late = " ⚠ overdue" if item.overdue(now) else ""
    prio = f" · {item.priority.value}" if item.priority.value != "normal" else ""
    who = f"waiting on {', '.join(mention(a) for a in pending_approvers(item))}" \
        if item.kind is Kind.APPROVAL else f"owner {mention(item.owner)}"
    due = item.due_at or item.resolve_deadline
    due_text = f" · due {when(due, zone)}" if due else ""
    return (f"#{item.number} [{item.kind.value} · {state_label(item)}{prio}] {item.title}"
            f" — {who}{due_text}{late}")


def decision_lines(item: Item) -> list[str]:
    lines = []
    for approver in item.approvers:
        decision = next((d for d in item.decisions if d.approver == approver), None)
        if decision is None:
            mark = "⏳ waiting" if approver in pending_approvers(item) else "· not asked yet"
            lines.append(f"{mention(approver)}: {mark}")
            continue
        icon = "✅ approved" if decision.verdict.value == "approve" else "❌ rejected"
        by = f" (by {mention(decision.by)} on their behalf)" if decision.by != approver else ""
        note = f": {decision.comment}" if decision.comment else ""
        lines.append(f"{mention(approver)}: {icon}{by}{note}")
    return lines


def card_for(item: Item, verbs: list[Verb], zone: ZoneInfo) -> Card:
    """The item's card, with buttons for `verbs` (what the viewer may do)."""
    fields: list[tuple[str, str]] = [
        ("State", state_label(item)), ("Priority", item.priority.value), ("Team", item.team),
        ("Requester", acting(item.requester, item.source.via)),
    ]
    if item.kind is Kind.APPROVAL:
        fields.append((f"Approvers ({item.policy})", "\n".join(decision_lines(item))))
    else:
        fields.append(("Owner", mention(item.owner) if item.owner else "unassigned"))
    if item.due_at:
        fields.append(("Due", when(item.due_at, zone)))
    if item.resolve_deadline and not item.state.final:
        fields.append(("SLA", when(item.resolve_deadline, zone)))
    if item.state is State.BLOCKED:
        on = f" (on #{item.blocked_on})" if item.blocked_on else ""
        fields.append(("Blocked", f"{item.blocked_reason}{on}"))
    return Card(item.number, item.kind.value, item.title, state_label(item), tuple(fields),
                card_actions(item.number, verbs), item.details, item.source.permalink)


def card_text(card: Card) -> str:
    """A card as plain lines (console, notifications, fallbacks)."""
    lines = [card.heading]
    for label, value in card.fields:
        first, *more = value.split("\n")
        lines.append(f"  {label}: {first}")
        lines += [f"    {line}" for line in more]
    if card.details:
        lines.append(f"  Details: {card.details}")
    return "\n".join(lines)


_CHANGE = {
    "created": "raised {ref}",
    "accept": "accepted {ref}",
    "ack": "acknowledged {ref}",
    "decline": "declined {ref}: {text}. It is back with {owner}",
    "take": "took {ref}",
    "assign": "assigned {ref} to {owner}",
    "block": "marked {ref} blocked: {text}",
    "unblock": "unblocked {ref}",
    "auto_unblock": "unblocked {ref}: {text}",
    "done": "finished {ref}",
    "resolve": "resolved {ref}: {text}",
    "approve": "approved {ref}",
    "reject": "rejected {ref}: {text}",
    "cancel": "cancelled {ref}",
    "comment": "commented on {ref}: {text}",
    "snooze": "snoozed reminders on {ref} until {text}",
    "delegated": "routed {ref} to {owner}: {text}",
    "away": "is away{text}",
    "back": "is back",
}


def change_line(action: str, actor: str, item: Item | None, text: str = "") -> str:
    """One line telling what happened, for threads, DMs and the trail."""
    template = _CHANGE.get(action, action + " {ref}")
    line = template.format(ref=f"#{item.number}" if item else "", text=text,
                           owner=mention(item.owner) if item else "")
    if action in ("done", "approve", "cancel") and text:
        line += f": {text}"
    if item is not None and action in ("approve", "reject") and item.outcome:
        line += f". {item.ref} is {item.outcome.value}"
    who = "Baton" if actor == "baton" else mention(actor)
    return f"{who} {line}".rstrip() + ("" if line.endswith((".", "!", "?")) else ".")


_PAST = {
    "created": "raised it", "accept": "accepted", "ack": "acknowledged", "decline": "declined",
    "take": "took it", "assign": "assigned it", "block": "blocked it", "unblock": "unblocked it",
    "auto_unblock": "unblocked it", "done": "finished it", "resolve": "resolved it",
    "approve": "approved", "reject": "rejected", "cancel": "cancelled it",
    "comment": "commented", "snooze": "snoozed reminders", "delegated": "routed it",
}
#: The fields a trail line shows changing; `audit` and `export` carry all of them.
_TRAIL_FIELDS = ("state", "owner", "outcome", "priority")


def _shown(field: str, value: object) -> str:
    if value in (None, ""):
        return "—"
    return f"@{value}" if field == "owner" else str(value)


def trail_lines(events: list[Event], zone: ZoneInfo, *, hashes: bool = False) -> list[str]:
    lines = []
    for event in events:
        note = event.after.get("note", "")
        changes = ", ".join(
            f"{k} {_shown(k, event.before.get(k))}→{_shown(k, event.after[k])}"
            for k in _TRAIL_FIELDS if k in event.after and k in event.before)
        tail = f" [{changes}]" if changes else ""
        text = f": {note}" if note else ""
        who = "Baton" if event.actor == "baton" else acting(event.actor,
                                                             event.after.get("via", ""))
        what = _PAST.get(event.action, event.action)
        line = f"{when(event.at, zone)}  {who} {what}{text}{tail} · {event.surface}"
        if hashes:
            line = f"{event.seq:>5} {event.hash[:12]} {line}"
        lines.append(line)
    return lines


def refused(verb: str, item: Item, allowed: list[Verb], reason: str) -> str:
    options = ", ".join(v.value for v in allowed if v is not Verb.COMMENT) or "only comment"
    return f"Can't {verb} #{item.number}: {reason}. You can: {options}."


def not_found(number: int) -> str:
    return f"There is no item #{number} here. `list` shows the open ones."


def unknown_person(handle: str) -> str:
    return f"I don't know anyone called @{handle}. People are listed in baton.yaml."


def unknown_team(name: str, known: list[str]) -> str:
    return f"There is no team #{name}. Teams: {', '.join('#' + t for t in known)}."


# --- follow-ups: reminders, breaches, escalations, nudges ------------------------------------

_CHANGE.update({
    "remind": "sent a reminder on {ref}: {text}",
    "breach": "flagged {ref}: {text}",
    "escalate": "escalated {ref}: {text}",
    "stall": "nudged on {ref}: {text}",
})


def span(delta: timedelta) -> str:
    """A duration as people say it: 45m, 3h, 1d 4h."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return " ".join(parts[:2]) or "0m"


def target_noun(item: Item, target: str) -> str:
    """What an SLA target asks for: acknowledgement or resolution (decisions for approvals)."""
    if item.kind is Kind.APPROVAL:
        return "first decision" if target == "ack" else "decision"
    return {"ack": "acknowledgement", "resolve": "resolution"}.get(target, target)


def _title(item: Item) -> str:
    return f"{item.ref} “{item.title}”"


def reminder(item: Item, target: str, deadline: datetime, zone: ZoneInfo,
             now: datetime) -> str:
    return (f"⏳ Reminder: {_title(item)} — {target_noun(item, target)} due "
            f"{when(deadline, zone)} (in {span(deadline - now)}).")


def reminder_note(item: Item, target: str, deadline: datetime, zone: ZoneInfo,
                  people: list[str]) -> str:
    told = ", ".join(mention(p) for p in people) or "nobody to remind"
    return f"{target_noun(item, target)} due {when(deadline, zone)}; reminded {told}"


def breach_note(item: Item, target: str, deadline: datetime, zone: ZoneInfo) -> str:
    return f"{target_noun(item, target)} target missed (due {when(deadline, zone)})"


def _told(names: list[str]) -> str:
    return ", ".join(n if n.startswith("#") else mention(n) for n in names) or "nobody"


def escalation_note(item: Item, target: str, deadline: datetime, now: datetime, number: int,
                    total: int, told: list[str], reassigned_to: str | None) -> str:
    moved = f"; reassigned to {mention(reassigned_to)}" if reassigned_to else ""
    return (f"step {number} of {total}, {target_noun(item, target)} {span(now - deadline)} "
            f"overdue; told {_told(told)}{moved}")


def escalation(item: Item, target: str, deadline: datetime, zone: ZoneInfo, now: datetime,
               number: int, total: int, reassigned_to: str | None) -> str:
    if item.kind is Kind.APPROVAL:
        owner = "waiting on " + ", ".join(mention(a) for a in pending_approvers(item))
    else:
        owner = f"owner {mention(item.owner)}" if item.owner else "unassigned"
    moved = f" It is now {mention(reassigned_to)}'s." if reassigned_to else ""
    return (f"🚨 Escalation {number}/{total}: {_title(item)} is {span(now - deadline)} past its "
            f"{target_noun(item, target)} target (due {when(deadline, zone)}); {owner}.{moved}")


def nudge(item: Item, zone: ZoneInfo) -> str:
    return (f"💤 {_title(item)} has not moved since {when(item.updated_at, zone)}. Any news? "
            f"`comment {item.ref} …`, `block {item.ref} …` or `done {item.ref}`.")


def nudge_note(item: Item, zone: ZoneInfo, people: list[str]) -> str:
    return f"no change since {when(item.updated_at, zone)}; asked {_told(people)} for news"
