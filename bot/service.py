"""The core's front door: every surface and timer hands it a command and renders its reply."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot import handlers
from bot import presenters as say
from bot.approvals import pending_approvers
from bot.cards import Card
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
    Tick,
)
from bot.context import Ctx, Request, build_actor
from bot.due import DueError
from bot.grammar import UsageError, help_text, parse
from bot.items import Item, State
from bot.people import Directory, Person
from bot.ports import Clock, ConcurrentChange, ItemQuery, UnitOfWork, UnitOfWorkFactory
from bot.rules import Actor, allowed
from bot.transitions import DomainError

PAGE = 25
SYSTEM = Person("baton", "Baton")
_RETRIES = 3
# How long a delivery's key is kept: platforms retry for minutes, and a replayed request must
# still carry a signature under five minutes old.
DELIVERY_REMEMBERED = timedelta(hours=1)
_MAX_BATCHES = 100  # per tick; whatever is left waits for the next one


@dataclass(frozen=True)
class Reply:
    """What the asker sees: text, and cards with the buttons they may press."""

    text: str
    ok: bool = True
    cards: tuple[Card, ...] = field(default_factory=tuple)
    allowed: tuple[str, ...] = ()
    more: bool = False  # a timer's batch was full: more work may be due
    duplicate: bool = False  # the delivery was acted on before: nothing done, nothing to say


class Baton:
    """Runs commands against the unit of work, one transaction each."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, directory: Directory) -> None:
        self.uow = uow
        self.clock = clock
        self.directory = directory

    async def run(self, request: Request, text: str) -> Reply:
        """Parse and handle one line of command text."""
        try:
            command = parse(text)
        except UsageError as exc:
            return Reply(str(exc), ok=False)
        return await self.handle(request, command)

    async def tick(self, workspace: str, now: datetime) -> list[str]:
        """Do the work fallen due by `now`: the one entry point of timers and `:time`. Due
        work is taken in batches, one transaction each, until none is left."""
        lines: list[str] = []
        for _ in range(_MAX_BATCHES):
            reply = await self.handle(Request(workspace, SYSTEM.id, "timer"), Tick(now))
            if not reply.ok:
                break
            lines += [line for line in reply.text.splitlines() if line]
            if not reply.more:
                break
        return lines

    async def handle(self, request: Request, command: Command) -> Reply:
        if request.via and request.actor == request.via:  # a client acting in its own name
            me: Person | None = Person(request.via, request.via)
        else:
            me = SYSTEM if request.actor == SYSTEM.id else self.directory.person(request.actor)
        if me is None:
            return Reply(say.unknown_person(request.actor), ok=False)
        for attempt in range(_RETRIES):
            try:
                return await self._once(request, me, command)
            except ConcurrentChange:
                if attempt == _RETRIES - 1:
                    return Reply("Someone changed that item at the same moment; try again.",
                                 ok=False)
            except DomainError as exc:
                return Reply(str(exc), ok=False, allowed=tuple(exc.allowed))
            except (UsageError, DueError) as exc:
                return Reply(str(exc), ok=False)
        raise AssertionError("unreachable")

    async def _once(self, request: Request, me: Person, command: Command) -> Reply:
        request = replace(request, actor=me.id)

        async def work(uow: UnitOfWork) -> Reply:  # where the store runs it best
            now = self.clock.now()
            if request.delivery and not await uow.deliveries.first_time(
                    request.delivery, now, DELIVERY_REMEMBERED):
                return Reply("", ok=False, duplicate=True)
            actor = await build_actor(uow, self.directory, request.workspace, me.id, now)
            if me is SYSTEM:
                actor = Actor(SYSTEM.id, admin=True)
            elif request.via == me.id:  # a client alone holds no one's rights, only its own
                actor = Actor(me.id)
            ctx = Ctx(uow, request, now, self.directory, me, actor)
            reply = await self._dispatch(ctx, command)
            if reply.ok:
                await uow.commit()
            return reply

        return await self.uow.run(work)

    async def _dispatch(self, ctx: Ctx, command: Command) -> Reply:
        match command:
            case Create():
                item = await handlers.create(ctx, command)
                return self._item_reply(ctx, item, f"Created {item.ref}.")
            case Act():
                item = await handlers.act(ctx, command)
                line = say.change_line(command.verb.value, ctx.actor.id, item, command.text)
                return self._item_reply(ctx, item, line)
            case Show():
                return await self._show(ctx, command.number, hashes=False)
            case Audit():
                return await self._show(ctx, command.number, hashes=True)
            case Mine():
                return await self._mine(ctx)
            case ListItems():
                return await self._list(ctx, command)
            case Away():
                absence = await handlers.away(ctx, command)
                until = f" until {say.when(absence.until, ctx.zone())}" if absence.until else ""
                who = f"; new work for you goes to <@{absence.delegate}>" \
                    if absence.delegate else ""
                return Reply(f"You are away{until}{who}. `back` ends it.")
            case Back():
                was = await handlers.back(ctx, command)
                return Reply("Welcome back." if was else "You were not away.")
            case Digest():
                team = command.team or self.directory.home_team(ctx.actor.id)
                return Reply(await handlers.digest(ctx, team, weekly=command.weekly))
            case Help():
                return Reply(help_text(command.verb))
            case Tick():
                if ctx.actor.id != SYSTEM.id:
                    return Reply("Only Baton's own timers do due work.", ok=False)
                lines, more = await handlers.tick(ctx, command)
                return Reply("\n".join(lines), more=more)
        raise AssertionError(f"unhandled command {command!r}")

    def _item_reply(self, ctx: Ctx, item: Item, text: str) -> Reply:
        verbs = allowed(item, ctx.actor)
        return Reply(text, cards=(say.card_for(item, verbs, ctx.zone()),))

    async def _show(self, ctx: Ctx, number: int, *, hashes: bool) -> Reply:
        item = await ctx.load(number)
        events = await ctx.uow.events.for_item(ctx.workspace, number)
        trail = say.trail_lines(events, ctx.zone(), hashes=hashes)
        card = say.card_for(item, allowed(item, ctx.actor), ctx.zone())
        title = "Audit trail (seq, hash)" if hashes else "Trail"
        return Reply(f"{title}:\n" + "\n".join(f"  {line}" for line in trail), cards=(card,))

    async def _mine(self, ctx: Ctx) -> Reply:
        me, ws = ctx.actor.id, ctx.workspace
        owned = await ctx.uow.items.find(ws, ItemQuery(owner=me))
        asked = [i for i in await ctx.uow.items.find(ws, ItemQuery(approver=me))
                 if me in pending_approvers(i)]
        for person in ctx.actor.covers:
            asked += [i for i in await ctx.uow.items.find(ws, ItemQuery(approver=person))
                      if person in pending_approvers(i) and i.requester != me]
        requested = [i for i in await ctx.uow.items.find(ws, ItemQuery(requester=me))
                     if i.owner != me]
        sections = [("Yours", owned), ("Waiting on your decision", asked),
                    ("You asked for", requested)]
        lines: list[str] = []
        for title, items in sections:
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += self._page(ctx, items)
        return Reply("\n".join(lines) or "Nothing open for you. 🎉")

    async def _list(self, ctx: Ctx, command: ListItems) -> Reply:
        if command.team and self.directory.team(command.team) is None:
            raise DomainError(say.unknown_team(command.team,
                                               [t.name for t in self.directory.teams()]))
        states = (command.state,) if command.state else (State.OPEN, State.ACTIVE, State.BLOCKED)
        query = ItemQuery(team=command.team, kind=command.kind, states=states,
                          due_before=ctx.now if command.overdue else None, limit=500)
        items = await ctx.uow.items.find(ctx.workspace, query)
        if not items:
            return Reply("No items match.")
        return Reply(f"{len(items)} item{'s' if len(items) != 1 else ''}:\n"
                     + "\n".join(self._page(ctx, items)))

    def _page(self, ctx: Ctx, items: list[Item]) -> list[str]:
        lines = [f"  {say.item_line(i, ctx.zone(), ctx.now)}" for i in items[:PAGE]]
        if len(items) > PAGE:
            lines.append(f"  … and {len(items) - PAGE} more: narrow with --team, --state or "
                         f"--kind")
        return lines
