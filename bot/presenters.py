"""Every user-facing word Baton says about items, in one place, as neutral rich text: people,
items and teams are parts (bot.rich), and each surface renders them its own way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.approvals import pending_approvers
from bot.cards import Card, card_actions
from bot.events import Event
from bot.items import Item, Kind, State
from bot.rich import Rich, Span, code, fmt, join, lines, person, team, text
from bot.rich import item as item_ref
from bot.rules import Verb


def mention(who: str | None) -> Rich | Span:
    return person(who) if who else text("nobody")


def acting(person_id: str, via: str = "") -> Rich:
    """Who did something: a person, a system (an API client, an agent) on a person's behalf,
    or a system in its own name."""
    if not via:
        return Rich((person(person_id),))
    return text(via) if via == person_id else fmt("{via}, on behalf of {who}", via=via,
                                                 who=person(person_id))


def people(ids: Sequence[str], empty: str = "nobody") -> Rich:
    """@a, @b and @c."""
    parts = [person(p) for p in ids]
    if not parts:
        return text(empty)
    if len(parts) == 1:
        return Rich((parts[0],))
    return join(parts[:-1], ", ") + " and " + Rich((parts[-1],))


def when(instant: datetime | None, zone: ZoneInfo, *, labelled: bool = False,
         year: bool = False) -> str:
    """An instant in `zone`: "Fri 04 Dec 17:00"; with the zone's abbreviation when `labelled`
    (the reader's zone differs from the team's, or a stored note is read anywhere), and the
    year when it may not be this one."""
    if instant is None:
        return "—"
    local = instant.astimezone(zone)
    shown = local.strftime("%a %d %b %Y %H:%M" if year else "%a %d %b %H:%M")
    return f"{shown} {local.tzname()}" if labelled else shown


def stamp(instant: datetime, zone: ZoneInfo) -> str:
    """An instant written into a note kept on the trail: zone and year always shown."""
    return when(instant, zone, labelled=True, year=True)


def state_label(item: Item) -> str:
    if item.state is State.DONE and item.outcome and item.outcome.value != "done":
        return f"done ({item.outcome.value})"
    return item.state.value


def _owner(item: Item) -> Rich:
    if item.kind is Kind.APPROVAL:
        return "waiting on " + people(pending_approvers(item))
    return fmt("owner {who}", who=person(item.owner)) if item.owner else text("unassigned")


def item_line(item: Item, zone: ZoneInfo, now: datetime) -> Rich:
    """One line per item in lists: number, kind, state, title, owner, due."""
    late = " ⚠ overdue" if item.overdue(now) else ""
    prio = f" · {item.priority.value}" if item.priority.value != "normal" else ""
    # The card's words: its due time if it has one, else its SLA deadline.
    due_text = f" · due {when(item.due_at, zone)}" if item.due_at else \
        f" · SLA {when(item.resolve_deadline, zone)}" \
        if item.resolve_deadline and not item.state.final else ""
    return fmt("{ref} [{kind} · {state}{prio}] {title} — {who}{due}{late}",
               ref=item_ref(item.number), kind=item.kind.value, state=state_label(item),
               prio=prio, title=item.title, who=_owner(item), due=due_text, late=late)


def decision_lines(item: Item) -> list[Rich]:
    out = []
    for approver in item.approvers:
        decision = next((d for d in item.decisions if d.approver == approver), None)
        if decision is None:
            mark = "⏳ waiting" if approver in pending_approvers(item) else "· not asked yet"
            out.append(fmt("{who}: {mark}", who=person(approver), mark=mark))
            continue
        icon = "✅ approved" if decision.verdict.value == "approve" else "❌ rejected"
        by = fmt(" (by {by} on their behalf)", by=person(decision.by)) \
            if decision.by != approver else text("")
        note = f": {decision.comment}" if decision.comment else ""
        out.append(fmt("{who}: {icon}{by}{note}", who=person(approver), icon=icon, by=by,
                       note=note))
    return out


def card_for(item: Item, verbs: list[Verb], zone: ZoneInfo,
             team_zone: ZoneInfo | None = None) -> Card:
    """The item's card, with buttons for `verbs` (what the viewer may do); times in `zone`,
    labelled with it when the team keeps another."""
    labelled = team_zone is not None and team_zone.key != zone.key
    fields: list[tuple[str, Rich]] = [
        ("State", text(state_label(item))), ("Priority", text(item.priority.value)),
        ("Team", Rich((team(item.team),))),
        ("Requester", acting(item.requester, item.source.via)),
    ]
    if item.kind is Kind.APPROVAL:
        fields.append((f"Approvers ({item.policy})", lines(decision_lines(item))))
    else:
        fields.append(("Owner", Rich((person(item.owner),)) if item.owner
                       else text("unassigned")))
    if item.due_at:
        fields.append(("Due", text(when(item.due_at, zone, labelled=labelled))))
    if item.resolve_deadline and not item.state.final:
        fields.append(("SLA", text(when(item.resolve_deadline, zone, labelled=labelled))))
    if item.state is State.BLOCKED:
        on = fmt(" (on {ref})", ref=item_ref(item.blocked_on)) if item.blocked_on else text("")
        fields.append(("Blocked", text(item.blocked_reason) + on))
    return Card(item.number, item.kind.value, item.title, state_label(item), tuple(fields),
                card_actions(item.number, verbs), item.details, item.source.permalink)


def card_text(card: Card) -> Rich:
    """A card as plain lines (console, notifications, fallbacks)."""
    out: list[Rich] = [text(card.heading)]
    for label, value in card.fields:
        first, *more = value.lines()
        out.append(f"  {label}: " + first)
        out += ["    " + line for line in more]
    if card.details:
        out.append(text(f"  Details: {card.details}"))
    return lines(out)


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
    "remind": "sent a reminder on {ref}: {text}",
    "breach": "flagged {ref}: {text}",
    "escalate": "escalated {ref}: {text}",
    "stall": "nudged on {ref}: {text}",
    "unreachable": "could not reach {text} about {ref}",
}


def who(actor: str) -> Rich:
    return text("Baton") if actor == "baton" else Rich((person(actor),))


#: The chat platforms a change line names when it happened on one other than the item's own.
PLATFORMS = {"slack": "Slack", "teams": "Teams"}


def change_line(action: str, actor: str, item: Item | None, note: str | Rich = "", *,
                where: str = "") -> Rich:
    """One line telling what happened, for threads, DMs and the trail; `where`: the surface it
    happened on, named when it is a chat platform (an item raised on Slack, accepted on
    Teams: "… accepted #1 (in Teams).")."""
    template = _CHANGE.get(action, action + " {ref}")
    line = fmt(template, ref=item_ref(item.number) if item else "", text=note,
               owner=mention(item.owner) if item else "")
    if action in ("done", "approve", "cancel") and note:
        line += ": " + (note if isinstance(note, Rich) else text(note))
    if item is not None and action in ("approve", "reject") and item.outcome:
        line += fmt(". {ref} is {outcome}", ref=item_ref(item.number),
                    outcome=item.outcome.value)
    out = who(actor) + " " + line
    if where in PLATFORMS:
        out += f" (in {PLATFORMS[where]})"
    return out if str(out).endswith((".", "!", "?")) else out + "."


def created(item: Item) -> Rich:
    return fmt("Created {ref}.", ref=item_ref(item.number))


def handed_to_you(requester: str, item: Item) -> Rich:
    return fmt("{who} handed you {ref}: {title}", who=person(requester),
               ref=item_ref(item.number), title=item.title)


def raised_for_you(requester: str, item: Item) -> Rich:
    return fmt("{who} raised {ref} and made it yours: {title}", who=person(requester),
               ref=item_ref(item.number), title=item.title)


def asks_your_decision(item: Item, approver: str, target: str) -> Rich:
    behalf = fmt(" on behalf of {who}", who=person(approver)) if target != approver else ""
    return fmt("{who} asks for your decision{behalf} on {ref}: {title}",
               who=person(item.requester), behalf=behalf, ref=item_ref(item.number),
               title=item.title)


def now_yours(line: Rich, item: Item) -> Rich:
    return line + fmt(" It is yours now: {title}", title=item.title)


def stands_in(away: str, delegate: str) -> Rich:
    return fmt("{away} is away; {delegate} stands in", away=person(away),
               delegate=person(delegate))


def ended(item: Item) -> Rich:
    return fmt("{ref} is {state}", ref=item_ref(item.number), state=state_label(item))


# --- the replies of commands ------------------------------------------------------------------

def away_reply(until: datetime | None, delegate: str | None, zone: ZoneInfo) -> Rich:
    end = f" until {when(until, zone, labelled=True)}" if until else ""
    cover = fmt("; new work for you goes to {who}", who=person(delegate)) if delegate else ""
    return fmt("You are away{end}{cover}. {back} ends it.", end=end, cover=cover,
               back=code("back"))


def away_note(until: datetime | None, delegate: str | None, zone: ZoneInfo) -> Rich:
    """What the trail and the delegate's message say about an away period."""
    end = f" until {stamp(until, zone)}" if until else ""
    cover = fmt("; {who} stands in", who=person(delegate)) if delegate else ""
    return fmt("{end}{cover}", end=end, cover=cover)


def to_delegate(person_away: str, note: Rich) -> Rich:
    return fmt("{who} is away{note}: their new handoffs and decisions come to you.",
               who=person(person_away), note=note)


def welcome_back(was_away: bool) -> Rich:
    return text("Welcome back." if was_away else "You were not away.")


def came_back(person_id: str) -> Rich:
    return fmt("{who} is back (away period ended).", who=person(person_id))


def nothing_mine() -> Rich:
    return text("Nothing open for you. 🎉")


def mine_sections(sections: list[tuple[str, int, list[Rich]]]) -> Rich:
    """`mine`: each section's title, how many, and its (paged) lines."""
    out: list[Rich] = []
    for title, total, rows in sections:
        out.append(text(f"{title} ({total}):"))
        out += rows
    return lines(out)


def listing(total: int, rows: list[Rich]) -> Rich:
    if not total:
        return text("No items match.")
    return lines([text(f"{total} item{'s' if total != 1 else ''}:"), *rows])


def paged(rows: list[Rich], total: int) -> list[Rich]:
    """Rows indented, with a line saying how many more there are and how to narrow them."""
    out = ["  " + row for row in rows]
    if total > len(rows):
        out.append(fmt("  … and {n} more: narrow with {team}, {state} or {kind}",
                       n=total - len(rows), team=code("--team"), state=code("--state"),
                       kind=code("--kind")))
    return out


def trail_heading(hashes: bool) -> str:
    return "Audit trail (seq, hash)" if hashes else "Trail"


def trail_reply(hashes: bool, rows: list[Rich]) -> Rich:
    return lines([text(trail_heading(hashes) + ":"), *["  " + row for row in rows]])


def only_timers() -> Rich:
    return text("Only Baton's own timers do due work.")


def busy_item() -> Rich:
    return text("Someone changed that item at the same moment; try again.")


def digest_already_posted(kind: str, team_name: str, period: str) -> Rich:
    return fmt("The {kind} digest of {team} for {period} was already posted.", kind=kind,
               team=team(team_name), period=period)


def digest_sent_privately(team_name: str) -> Rich:
    return fmt("Only members of {team}, its lead and admins post its digest to its channel; "
               "here it is for you alone:", team=team(team_name))


def digest_posted(kind: str, team_name: str) -> Rich:
    return fmt("Posted the {kind} digest to {team}'s channel.", kind=kind, team=team(team_name))


# --- refusals ---------------------------------------------------------------------------------

#: Each verb as a person would say it after "can't".
_DOING = {
    Verb.ACCEPT: "accept", Verb.DECLINE: "decline", Verb.TAKE: "take", Verb.ASSIGN: "reassign",
    Verb.ACK: "acknowledge", Verb.BLOCK: "block", Verb.UNBLOCK: "unblock", Verb.DONE: "finish",
    Verb.RESOLVE: "resolve", Verb.APPROVE: "approve", Verb.REJECT: "reject",
    Verb.CANCEL: "cancel", Verb.COMMENT: "comment on", Verb.SNOOZE: "snooze",
}


def who_may(verb: Verb, item: Item) -> Rich:
    """Who holds the right for `verb` on `item`, as the rules (bot.rules.has_right) say."""
    lead = fmt("the {team} lead", team=team(item.team))
    owner = fmt("its owner {who}", who=person(item.owner)) if item.owner else None
    requester = fmt("its requester {who}", who=person(item.requester))
    members = fmt("a member of {team}", team=team(item.team))
    match verb:
        case Verb.ACCEPT | Verb.DECLINE:
            return fmt("{owner} (or whoever stands in for them)", owner=owner) if owner \
                else members
        case Verb.ACK | Verb.DONE | Verb.RESOLVE:
            return _either([owner or members, lead, text("an admin")])
        case Verb.TAKE:
            return _either([members, lead, text("an admin")])
        case Verb.ASSIGN | Verb.BLOCK | Verb.UNBLOCK:
            return _either([*([owner] if owner else []), requester, lead, text("an admin")])
        case Verb.CANCEL:
            return _either([requester, lead, text("an admin")])
        case Verb.SNOOZE:
            return _either([owner or members, text("its approvers"), lead, text("an admin")])
    return text("anyone")


def _either(parts: list[Rich]) -> Rich:
    """a, b or c."""
    return join(parts[:-1], ", ") + " or " + parts[-1] if len(parts) > 1 else parts[0]


def you_can(verbs: list[Verb]) -> Rich:
    """What the person may do instead, in plain words."""
    doable = [_DOING[v] for v in verbs if v is not Verb.COMMENT]
    if not doable:
        return text("You can only comment on it.")
    if Verb.COMMENT in verbs:
        doable.append("comment on")
    listed = ", ".join(doable[:-1]) + " or " + doable[-1] if len(doable) > 1 else doable[0]
    return text(f"You can {listed} it.")


def refused(verb: Verb, item: Item, verbs: list[Verb], reason: Rich | str) -> Rich:
    return fmt("Can't {doing} {ref}: {reason}. {options}", doing=_DOING[verb],
               ref=item_ref(item.number), reason=reason, options=you_can(verbs))


def not_in_state(item: Item) -> Rich:
    return text(f"it is {state_label(item)}")


def own_request() -> Rich:
    return text("nobody may decide on their own request")


def decided_already() -> Rich:
    return text("you have already decided")


def not_your_turn(item: Item) -> Rich:
    return fmt("under {policy} it is {waiting}'s turn first", policy=code(str(item.policy)),
               waiting=people(pending_approvers(item)))


def not_an_approver() -> Rich:
    return text("you are not one of its approvers")


def only_for(verb: Verb, item: Item) -> Rich:
    return fmt("that is for {who}", who=who_may(verb, item))


def not_found(number: int) -> Rich:
    return fmt("There is no item {ref} here. {list} shows the open ones.", ref=item_ref(number),
               list=code("list"))


def unknown_person(handle: str) -> Rich:
    return fmt("I don't know anyone called @{handle}. People are listed in baton.yaml.",
               handle=handle)


def unknown_team(name: str, known: list[str]) -> Rich:
    return fmt("There is no team #{name}. Teams: {teams}.", name=name,
               teams=join([team(t) for t in known], ", "))


def handoff_to_self() -> Rich:
    return text("A handoff goes to someone else; you already own your work.")


def delegate_to_self() -> Rich:
    return text("That person is away and you are their delegate; do it yourself.")


def cannot_raise(problem: str) -> Rich:
    return text(f"Can't raise this approval: {problem}.")


def due_passed(instant: datetime, zone: ZoneInfo) -> Rich:
    return text(f"The due time {when(instant, zone, labelled=True, year=True)} has already "
                f"passed.")


def already_theirs(item: Item, owner: str) -> Rich:
    return fmt("{ref} is already {who}'s.", ref=item_ref(item.number), who=person(owner))


def blocked_on_itself(item: Item) -> Rich:
    return fmt("{ref} can't be blocked on itself.", ref=item_ref(item.number))


def blocks_nothing(blocker: Item) -> Rich:
    return fmt("{ref} is already {state}; it blocks nothing.", ref=item_ref(blocker.number),
               state=state_label(blocker))


def deadlock(on: int, item: Item) -> Rich:
    return fmt("{on} already waits on {ref}: that would be a deadlock.", on=item_ref(on),
               ref=item_ref(item.number))


def delegate_is_self() -> Rich:
    return text("Your delegate must be someone else.")


def passed_already(instant: datetime, zone: ZoneInfo) -> Rich:
    return text(f"{when(instant, zone, labelled=True, year=True)} has already passed.")


def delegate_away(delegate: str) -> Rich:
    return fmt("{who} is away too; pick someone who is in.", who=person(delegate))


# --- follow-ups: reminders, breaches, escalations, nudges ------------------------------------

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


def _title(item: Item) -> Rich:
    return fmt("{ref} “{title}”", ref=item_ref(item.number), title=item.title)


def reminder(item: Item, target: str, deadline: datetime, zone: ZoneInfo,
             now: datetime) -> Rich:
    return fmt("⏳ Reminder: {item} — {noun} due {due} (in {left}).", item=_title(item),
               noun=target_noun(item, target), due=when(deadline, zone, labelled=True),
               left=span(deadline - now))


def reminder_note(item: Item, target: str, deadline: datetime, zone: ZoneInfo,
                  told: list[str]) -> Rich:
    return fmt("{noun} due {due}; reminded {told}", noun=target_noun(item, target),
               due=stamp(deadline, zone), told=people(told, "nobody to remind"))


def breach_note(item: Item, target: str, deadline: datetime, zone: ZoneInfo) -> Rich:
    return fmt("{noun} target missed (due {due})", noun=target_noun(item, target),
               due=stamp(deadline, zone))


def _told(names: list[str], team_name: str | None) -> Rich:
    parts: list[Rich | Span] = [person(n) for n in names]
    if team_name:
        parts.append(fmt("{team}'s channel", team=team(team_name)))
    return join(parts, ", ") if parts else text("nobody")


def escalation_note(item: Item, target: str, deadline: datetime, now: datetime, number: int,
                    total: int, told: list[str], channel_of: str | None,
                    reassigned_to: str | None) -> Rich:
    moved = fmt("; reassigned to {who}", who=person(reassigned_to)) if reassigned_to else ""
    return fmt("step {n} of {total}, {noun} {late} overdue; told {told}{moved}", n=number,
               total=total, noun=target_noun(item, target), late=span(now - deadline),
               told=_told(told, channel_of), moved=moved)


def escalation(item: Item, target: str, deadline: datetime, zone: ZoneInfo, now: datetime,
               number: int, total: int, reassigned_to: str | None) -> Rich:
    moved = fmt(" It is now {who}'s.", who=person(reassigned_to)) if reassigned_to else ""
    return fmt("🚨 Escalation {n}/{total}: {item} is {late} past its {noun} target (due {due}); "
               "{owner}.{moved}", n=number, total=total, item=_title(item),
               late=span(now - deadline), noun=target_noun(item, target),
               due=when(deadline, zone, labelled=True), owner=_owner(item), moved=moved)


def nudge(item: Item, zone: ZoneInfo) -> Rich:
    ref = f"#{item.number}"
    return fmt("💤 {item} has not moved since {since}. Any news? {comment}, {block} or {done}.",
               item=_title(item), since=when(item.updated_at, zone, labelled=True),
               comment=code(f"comment {ref} …"), block=code(f"block {ref} …"),
               done=code(f"done {ref}"))


def nudge_note(item: Item, zone: ZoneInfo, asked: list[str]) -> Rich:
    return fmt("no change since {since}; asked {who} for news", since=stamp(item.updated_at, zone),
               who=people(asked))


def unreachable_note(person_id: str, reasons: Sequence[str] = ()) -> Rich:
    """Whom Baton could reach nowhere, and each surface's reason."""
    if not reasons:
        return fmt("{who} (no chat surface knows them yet)", who=person(person_id))
    return fmt("{who} on any chat platform ({why})", who=person(person_id),
               why="; ".join(reasons))


# --- the trail --------------------------------------------------------------------------------

_PAST = {
    "created": "raised it", "accept": "accepted", "ack": "acknowledged", "decline": "declined",
    "take": "took it", "assign": "assigned it", "block": "blocked it", "unblock": "unblocked it",
    "auto_unblock": "unblocked it", "done": "finished it", "resolve": "resolved it",
    "approve": "approved", "reject": "rejected", "cancel": "cancelled it",
    "comment": "commented", "snooze": "snoozed reminders", "delegated": "routed it",
    "unreachable": "could not reach",
}
#: The fields a trail line shows changing; `audit` and `export` carry all of them.
_TRAIL_FIELDS = ("state", "owner", "outcome", "priority")


def _shown(field: str, value: object) -> Rich | Span:
    if value in (None, ""):
        return text("—")
    return person(str(value)) if field == "owner" else text(str(value))


def _note(value: object) -> Rich:
    """A note kept on an event: rich text as stored, or plain text from before."""
    if isinstance(value, list):
        return Rich.from_json(value)
    return text(str(value or ""))


def note_json(note: Rich | str) -> object:
    """How an event keeps a note: rich text as JSON parts (people stay people)."""
    return note.to_json() if isinstance(note, Rich) else note


def trail_lines(events: list[Event], zone: ZoneInfo, *, hashes: bool = False) -> list[Rich]:
    out = []
    for event in events:
        note = _note(event.after.get("note", ""))
        changes = join([fmt("{field} {old}→{new}", field=k, old=_shown(k, event.before.get(k)),
                            new=_shown(k, event.after[k]))
                        for k in _TRAIL_FIELDS if k in event.after and k in event.before], ", ")
        tail = "" if not changes else " [" + changes + "]"
        via = f" · {event.surface}"
        line = fmt("{when}  {who} {what}{note}{tail}{via}", when=when(event.at, zone),
                   who=text("Baton") if event.actor == "baton" else acting(
                       event.actor, str(event.after.get("via", ""))),
                   what=_PAST.get(event.action, event.action),
                   note=(": " + note) if note else "", tail=tail, via=via)
        if hashes:
            line = f"{event.seq:>5} {event.hash[:12]} " + line
        out.append(line)
    return out


def digest_heading(team_name: str, day: str, zone: str) -> Rich:
    return fmt("{team} blocker digest, {day} (times in {zone})", team=team(team_name), day=day,
               zone=zone)


def all_clear(team_name: str, day: str) -> Rich:
    return fmt("{team} blocker digest, {day}: all clear, nothing blocked or late.",
               team=team(team_name), day=day)


def section(title: str, total: int) -> Rich:
    return fmt("*{title}* ({total})", title=title, total=total)


def internal_error() -> Rich:
    return text("Baton could not do that just now (an internal error); nothing was changed.")


def cannot_use(problem: str) -> Rich:
    return text(f"Baton can't use that: {problem}.")
