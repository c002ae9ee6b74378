"""The core's front door: every surface and timer hands it a command and renders its reply."""

from __future__ import annotations

from collections.abc import Callable
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
    Unreachable,
)
from bot.context import Ctx, Request, build_actor
from bot.due import DueError
from bot.grammar import UsageError, help_text, parse
from bot.items import Item, State
from bot.people import Directory, Person
from bot.ports import Clock, ConcurrentChange, ItemQuery, UnitOfWork, UnitOfWorkFactory
from bot.rich import Rich, as_rich, join
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

    text: Rich
    ok: bool = True
    cards: tuple[Card, ...] = field(default_factory=tuple)
    allowed: tuple[str, ...] = ()
    more: bool = False  # a timer's batch was full: more work may be due
    duplicate: bool = False  # the delivery was acted on before: nothing done, nothing to say


class Baton:
    """Runs commands against the unit of work, one transaction each."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, directory: Directory, *,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.uow = uow
        self.clock = clock
        self.directory = directory
        # Told after each command that committed: it may have queued messages to deliver now.
        self.on_commit = on_commit

    async def run(self, request: Request, text: str) -> Reply:
        """Parse and handle one line of command text."""
        try:
            command = parse(text)
        except UsageError as exc:
            return Reply(exc.message, ok=False)
        return await self.handle(request, command)

    async def tick(self, workspace: str, now: datetime) -> list[Rich]:
        """Do the work fallen due by `now`: the one entry point of timers and `:time`. Due
        work is taken in batches, one transaction each, until none is left."""
        lines: list[Rich] = []
        for _ in range(_MAX_BATCHES):
            reply = await self.handle(Request(workspace, SYSTEM.id, "timer"), Tick(now))
            if not reply.ok:
                break
            lines += [line for line in reply.text.lines() if line]
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
                reply = await self._once(request, me, command)
                if reply.ok and self.on_commit is not None:
                    self.on_commit()
                return reply
            except ConcurrentChange:
                if attempt == _RETRIES - 1:
                    return Reply(say.busy_item(), ok=False)
            except DomainError as exc:
                return Reply(exc.message, ok=False, allowed=tuple(exc.allowed))
            except UsageError as exc:
                return Reply(exc.message, ok=False)
            except DueError as exc:
                return Reply(as_rich(str(exc)), ok=False)
        raise AssertionError("unreachable")

    async def _once(self, request: Request, me: Person, command: Command) -> Reply:
        request = replace(request, actor=me.id)

        async def work(uow: UnitOfWork) -> Reply:  # where the store runs it best
            now = self.clock.now()
            if request.delivery and not await uow.deliveries.first_time(
                    request.delivery, now, DELIVERY_REMEMBERED):
                return Reply(Rich(), ok=False, duplicate=True)
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
                return self._item_reply(ctx, item, say.created(item))
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
                return Reply(say.away_reply(absence.until, absence.delegate, ctx.zone()))
            case Back():
                was = await handlers.back(ctx, command)
                return Reply(say.welcome_back(was))
            case Digest():
                team = command.team or self.directory.home_team(ctx.actor.id)
                return Reply(await handlers.digest(ctx, team, weekly=command.weekly))
            case Help():
                return Reply(help_text(command.verb))
            case Tick():
                if ctx.actor.id != SYSTEM.id:
                    return Reply(say.only_timers(), ok=False)
                lines, more = await handlers.tick(ctx, command)
                return Reply(join(lines, "\n"), more=more)
            case Unreachable():
                if ctx.actor.id != SYSTEM.id:
                    return Reply(say.only_timers(), ok=False)
                return Reply(await handlers.unreachable(ctx, command))
        raise AssertionError(f"unhandled command {command!r}")

    def _item_reply(self, ctx: Ctx, item: Item, text: Rich) -> Reply:
        verbs = allowed(item, ctx.actor)
        return Reply(text, cards=(say.card_for(item, verbs, ctx.zone(),
                                               ctx.team_zone(item.team)),))

    async def _show(self, ctx: Ctx, number: int, *, hashes: bool) -> Reply:
        item = await ctx.load(number)
        events = await ctx.uow.events.for_item(ctx.workspace, number)
        trail = say.trail_lines(events, ctx.zone(), hashes=hashes)
        card = say.card_for(item, allowed(item, ctx.actor), ctx.zone(), ctx.team_zone(item.team))
        return Reply(say.trail_reply(hashes, trail), cards=(card,))

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
        if not any(items for _, items in sections):
            return Reply(say.nothing_mine())
        return Reply(say.mine_sections([(title, len(items), self._page(ctx, items))
                                        for title, items in sections if items]))

    async def _list(self, ctx: Ctx, command: ListItems) -> Reply:
        if command.team and self.directory.team(command.team) is None:
            raise DomainError(say.unknown_team(command.team,
                                               [t.name for t in self.directory.teams()]))
        states = (command.state,) if command.state else (State.OPEN, State.ACTIVE, State.BLOCKED)
        query = ItemQuery(team=command.team, kind=command.kind, states=states,
                          due_before=ctx.now if command.overdue else None, limit=500)
        items = await ctx.uow.items.find(ctx.workspace, query)
        return Reply(say.listing(len(items), self._page(ctx, items)))

    def _page(self, ctx: Ctx, items: list[Item]) -> list[Rich]:
        return say.paged([say.item_line(i, ctx.zone(), ctx.now) for i in items[:PAGE]],
                         len(items))
