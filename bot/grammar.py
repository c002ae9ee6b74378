"""Command text -> command. One parser and one help text for every surface."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.commands import (
    Act,
    Audit,
    Away,
    Back,
    Command,
    Create,
    Digest,
    Help,
    ListItems,
    Mine,
    Show,
    Target,
)
from bot.due import DueError, DueSpec, parse_due, parse_duration
from bot.items import Kind, Policy, Priority, State
from bot.rich import Rich, fmt, lines, text
from bot.rules import Verb


@dataclass(frozen=True)
class VerbHelp:
    usage: str
    summary: str


HELP: dict[str, VerbHelp] = {
    "handoff": VerbHelp(
        "handoff @user|#team <title> [--due 4h|2d|fri 17:00] [--p urgent|high|normal|low] "
        "[--details …]",
        "pass work to a person or a team queue; it is theirs once they accept",
    ),
    "exception": VerbHelp(
        "exception <title> [--team T] [--p …] [--owner @user] [--due …] [--details …]",
        "raise a case off the happy path into a team's triage queue",
    ),
    "approval": VerbHelp(
        "approval <title> --approvers @a @b [--policy any|all|quorum:2|sequence] [--due …] "
        "[--p …] [--details …]",
        "ask named approvers to decide; the policy says how their decisions combine",
    ),
    "mine": VerbHelp("mine", "my open items, and what waits on my decision"),
    "list": VerbHelp(
        "list [--team T] [--state open|active|blocked|overdue] [--kind handoff|exception|approval]",
        "open items, filtered",
    ),
    "show": VerbHelp("show #42", "the item, its decisions and its trail"),
    "accept": VerbHelp("accept #42", "take on a handoff passed to you (or to your team)"),
    "decline": VerbHelp("decline #42 <reason>", "hand a handoff back to its requester"),
    "take": VerbHelp("take #42", "make an exception yours"),
    "assign": VerbHelp("assign #42 @user", "give an item to someone else"),
    "ack": VerbHelp("ack #42", "acknowledge an exception: you are on it"),
    "block": VerbHelp(
        "block #42 <reason> [--on #41]", "mark an item blocked, optionally on another"
    ),
    "unblock": VerbHelp("unblock #42", "resume a blocked item"),
    "done": VerbHelp("done #42 [note]", "finish an accepted handoff"),
    "resolve": VerbHelp("resolve #42 <note>", "close an acknowledged exception"),
    "approve": VerbHelp("approve #42 [comment]", "approve a request waiting on you"),
    "reject": VerbHelp("reject #42 <reason>", "reject a request waiting on you"),
    "cancel": VerbHelp("cancel #42 [reason]", "withdraw an item"),
    "comment": VerbHelp("comment #42 <text>", "add a note to the item's trail"),
    "snooze": VerbHelp("snooze #42 <duration>", "hold this item's reminders (not its escalation)"),
    "away": VerbHelp(
        "away [until <date>] [--delegate @user]",
        "while away, new handoffs and decisions for me go to my delegate",
    ),
    "back": VerbHelp("back", "end my away period"),
    "digest": VerbHelp("digest [--team T] [--weekly]", "post a digest now"),
    "audit": VerbHelp("audit #42", "the item's full audit trail, with hashes"),
    "help": VerbHelp("help [verb]", "this text, or one verb's usage"),
}


class UsageError(ValueError):
    """Malformed command text: a one-line reason and the usage line of the verb."""

    def __init__(self, reason: str, verb: str | None = None) -> None:
        self.reason = reason
        self.verb = verb if verb in HELP else None
        super().__init__(reason)

    @property
    def usage(self) -> str:
        return f"Usage: {HELP[self.verb].usage}" if self.verb else "Type `help` for the verbs."

    def __str__(self) -> str:
        return f"{self.reason}\n{self.usage}"

    @property
    def message(self) -> Rich:
        """The reason (it may quote what was typed: text) and the verb's usage line."""
        usage = text(f"Usage: {HELP[self.verb].usage}") if self.verb \
            else fmt("Type `help` for the verbs.")
        return text(self.reason) + "\n" + usage


def help_text(verb: str | None = None) -> Rich:
    """The help for every surface: all verbs, or one verb in full."""
    if verb:
        name = verb.strip().lower()
        if name not in HELP:
            raise UsageError(f"no verb {verb!r}", "help")
        entry = HELP[name]
        return text(f"{entry.usage}\n  {entry.summary}")
    width = 9
    rows: list[Rich | str] = [fmt("Baton verbs (`help <verb>` for one):")]
    rows += [f"  {name:<{width}} {entry.summary}" for name, entry in HELP.items()]
    rows.append("Items are #numbers; people are @mentions; teams are #names.")
    rows.append("Due times: 4h, 2d, fri 17:00, tomorrow 9am, 2026-12-01 (in your time zone).")
    return lines(rows)


# --- tokens -------------------------------------------------------------------------------

_DASHES = ("\u2014", "\u2013")  # chat clients turn "--" into em or en dashes
_FLAG_ALIASES = {"priority": "p", "approver": "approvers", "owners": "owner"}
# Only ASCII digits are numbers: `#٣` or `𝟙h` are not 3 and 1h.
_ITEM = re.compile(r"#?([0-9]{1,9})")
_PERSON = re.compile(r"@([\w.\-':]+)")
_TEAM = re.compile(r"#([A-Za-z][\w\-.]*)")


def _tokens(text: str) -> list[str]:
    out = []
    for token in text.split():
        for dash in _DASHES:
            if token.startswith(dash) and len(token) > 1:
                token = "--" + token[1:]
        out.append(token)
    return out


@dataclass
class _Args:
    verb: str
    words: list[str]
    flags: dict[str, list[str]]

    def flag(self, name: str) -> str | None:
        values = self.flags.get(name)
        if values is None:
            return None
        if not values:
            raise UsageError(f"--{name} needs a value", self.verb)
        return " ".join(values)

    def no_flags_but(self, *allowed: str) -> None:
        for name in self.flags:
            if name not in allowed:
                raise UsageError(f"{self.verb} takes no --{name}", self.verb)


def _split(verb: str, tokens: list[str]) -> _Args:
    words: list[str] = []
    flags: dict[str, list[str]] = {}
    current: list[str] = words
    for token in tokens:
        if token.startswith("--") and len(token) > 2:
            name = token[2:].lower()
            name = _FLAG_ALIASES.get(name, name)
            if name in flags:
                raise UsageError(f"--{name} given twice", verb)
            flags[name] = current = []
        else:
            current.append(token)
    return _Args(verb, words, flags)


def person(token: str, verb: str) -> str:
    """'@alice' -> the person's handle or id, as typed (the directory folds case; platform ids
    keep theirs). Surfaces turn their own mentions into this form before parsing."""
    if match := _PERSON.fullmatch(token):
        return match[1]
    raise UsageError(f"{token!r} is not a person: mention them as @name", verb)


def item_number(token: str | None, verb: str) -> int:
    if token is None:
        raise UsageError("which item? give its number, as in #42", verb)
    match = _ITEM.fullmatch(token)
    if not match or int(match[1]) == 0:
        raise UsageError(f"{token!r} is not an item number (try #42)", verb)
    return int(match[1])


def _team(value: str, verb: str) -> str:
    name = value.strip()
    name = name[1:] if name.startswith("#") else name
    if not re.fullmatch(r"[A-Za-z][\w\-.]*", name):
        raise UsageError(f"{value!r} is not a team name", verb)
    return name.lower()


def _due(args: _Args) -> DueSpec | None:
    value = args.flag("due")
    if value is None:
        return None
    try:
        return parse_due(value)
    except DueError as exc:
        raise UsageError(str(exc), args.verb) from None


def _priority(args: _Args) -> Priority:
    value = args.flag("p")
    if value is None:
        return Priority.NORMAL
    try:
        return Priority(value.lower())
    except ValueError:
        raise UsageError(f"unknown priority {value!r}: use urgent, high, normal or low",
                         args.verb) from None


def _title(args: _Args, words: list[str]) -> str:
    title = " ".join(words).strip()
    if not title:
        raise UsageError("a title is missing", args.verb)
    if len(title) > 200:
        raise UsageError(f"the title is {len(title)} characters; 200 at most", args.verb)
    return title


def _details(args: _Args) -> str:
    details = args.flag("details") or ""
    if len(details) > 3000:
        raise UsageError("the details are over 3000 characters", args.verb)
    return details


# --- verbs --------------------------------------------------------------------------------

def _handoff(args: _Args) -> Command:
    args.no_flags_but("due", "p", "details")
    if not args.words:
        raise UsageError("whom to? start with @user or #team", "handoff")
    head = args.words[0]
    if _TEAM.fullmatch(head) and not _ITEM.fullmatch(head):
        to = Target(_team(head, "handoff"), team=True)
    else:
        to = Target(person(head, "handoff"))
    return Create(Kind.HANDOFF, _title(args, args.words[1:]), to=to, priority=_priority(args),
                  due=_due(args), details=_details(args))


def _exception(args: _Args) -> Command:
    args.no_flags_but("team", "p", "owner", "due", "details")
    team = args.flag("team")
    owner = args.flag("owner")
    return Create(
        Kind.EXCEPTION, _title(args, args.words), team=_team(team, "exception") if team else None,
        owner=person(owner, "exception") if owner else None, priority=_priority(args),
        due=_due(args), details=_details(args),
    )


def _approval(args: _Args) -> Command:
    args.no_flags_but("approvers", "policy", "due", "p", "details", "team")
    raw = args.flag("approvers")
    if raw is None:
        raise UsageError("name the approvers with --approvers @a @b", "approval")
    approvers = tuple(person(tok, "approval") for tok in raw.replace(",", " ").split())
    policy = Policy()
    if (text := args.flag("policy")) is not None:
        try:
            policy = Policy.parse(text)
        except ValueError as exc:
            raise UsageError(str(exc), "approval") from None
    team = args.flag("team")
    return Create(
        Kind.APPROVAL, _title(args, args.words), approvers=approvers, policy=policy,
        team=_team(team, "approval") if team else None, priority=_priority(args),
        due=_due(args), details=_details(args),
    )


def _list(args: _Args) -> Command:
    args.no_flags_but("team", "state", "kind")
    if args.words:
        raise UsageError(f"unexpected {args.words[0]!r}", "list")
    team = args.flag("team")
    state_text = (args.flag("state") or "").lower()
    kind_text = (args.flag("kind") or "").lower()
    states = {"open", "active", "blocked", "overdue", "done", "cancelled"}
    if state_text and state_text not in states:
        raise UsageError(f"unknown state {state_text!r}: use open, active, blocked or overdue",
                         "list")
    if kind_text and kind_text not in {k.value for k in Kind}:
        raise UsageError(f"unknown kind {kind_text!r}: use handoff, exception or approval", "list")
    return ListItems(
        team=_team(team, "list") if team else None,
        state=State(state_text) if state_text and state_text != "overdue" else None,
        overdue=state_text == "overdue",
        kind=Kind(kind_text) if kind_text else None,
    )


def _bare(verb: str, command: Command) -> Callable[[_Args], Command]:
    def parse(args: _Args) -> Command:
        args.no_flags_but()
        if args.words:
            raise UsageError(f"{verb} takes nothing more, got {args.words[0]!r}", verb)
        return command
    return parse


def _numbered(kind: type[Show] | type[Audit]) -> Callable[[_Args], Command]:
    def parse(args: _Args) -> Command:
        args.no_flags_but()
        if len(args.words) > 1:
            raise UsageError(f"unexpected {args.words[1]!r}", args.verb)
        return kind(item_number(args.words[0] if args.words else None, args.verb))
    return parse


_TEXT_RULES: dict[Verb, bool | None] = {
    # True: text required; False: optional; None: no text allowed
    Verb.ACCEPT: None, Verb.TAKE: None, Verb.ACK: None, Verb.UNBLOCK: None,
    Verb.DECLINE: True, Verb.REJECT: True, Verb.RESOLVE: True, Verb.BLOCK: True,
    Verb.COMMENT: True, Verb.DONE: False, Verb.APPROVE: False, Verb.CANCEL: False,
}
_TEXT_NAME = {Verb.DECLINE: "a reason", Verb.REJECT: "a reason", Verb.RESOLVE: "a note",
              Verb.BLOCK: "a reason", Verb.COMMENT: "the comment text"}


def _act(verb: Verb) -> Callable[[_Args], Command]:
    def parse(args: _Args) -> Command:
        args.no_flags_but("on") if verb is Verb.BLOCK else args.no_flags_but()
        number = item_number(args.words[0] if args.words else None, verb.value)
        rest = args.words[1:]
        if verb is Verb.ASSIGN:
            if len(rest) != 1:
                raise UsageError("assign to whom? one @user", verb.value)
            return Act(verb, number, person=person(rest[0], verb.value))
        if verb is Verb.SNOOZE:
            if not rest:
                raise UsageError("for how long? as in 2h", verb.value)
            try:
                return Act(verb, number, duration=parse_duration(" ".join(rest)))
            except DueError as exc:
                raise UsageError(str(exc), verb.value) from None
        text = " ".join(rest).strip()
        rule = _TEXT_RULES[verb]
        if rule is None and text:
            raise UsageError(f"{verb.value} takes only the item number, got {rest[0]!r}",
                             verb.value)
        if rule and not text:
            raise UsageError(f"{verb.value} needs {_TEXT_NAME[verb]}", verb.value)
        if len(text) > 3000:
            raise UsageError("the text is over 3000 characters", verb.value)
        on = args.flag("on")
        return Act(verb, number, text=text,
                   on=item_number(on, verb.value) if on is not None else None)
    return parse


def _away(args: _Args) -> Command:
    args.no_flags_but("delegate")
    until = None
    if args.words:
        if args.words[0].lower() != "until" or len(args.words) == 1:
            raise UsageError("write `away until <date>`, or just `away`", "away")
        try:
            until = parse_due(" ".join(args.words[1:]))
        except DueError as exc:
            raise UsageError(str(exc), "away") from None
    delegate = args.flag("delegate")
    return Away(until=until, delegate=person(delegate, "away") if delegate else None)


def _digest(args: _Args) -> Command:
    args.no_flags_but("team", "weekly")
    if args.words or args.flags.get("weekly"):
        extra = args.words[0] if args.words else args.flags["weekly"][0]
        raise UsageError(f"unexpected {extra!r}", "digest")
    team = args.flag("team")
    return Digest(team=_team(team, "digest") if team else None, weekly="weekly" in args.flags)


def _help(args: _Args) -> Command:
    args.no_flags_but()
    if len(args.words) > 1:
        raise UsageError("help takes one verb at most", "help")
    verb = args.words[0].lower() if args.words else None
    if verb is not None and verb not in HELP:
        raise UsageError(f"no verb {args.words[0]!r}", "help")
    return Help(verb)


_PARSERS: dict[str, Callable[[_Args], Command]] = {
    "handoff": _handoff, "exception": _exception, "approval": _approval,
    "mine": _bare("mine", Mine()), "list": _list, "show": _numbered(Show),
    "audit": _numbered(Audit), "back": _bare("back", Back()), "away": _away,
    "digest": _digest, "help": _help,
    **{verb.value: _act(verb) for verb in Verb},
}


def parse(text: str) -> Command:
    """Parse one command line; raise UsageError (and nothing else) for anything malformed."""
    tokens = _tokens(text)
    if tokens and tokens[0].lower() in ("/baton", "baton", "@baton"):
        tokens = tokens[1:]
    if not tokens:
        return Help()
    verb = tokens[0].lower()
    if verb not in _PARSERS:
        raise UsageError(f"unknown verb {tokens[0]!r}")
    if len(text) > 4000:
        raise UsageError("the command is over 4000 characters", verb)
    return _PARSERS[verb](_split(verb, tokens[1:]))
