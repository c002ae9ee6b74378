"""An interactive (or piped) console session speaking to the core as one person at a time."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TextIO

from adapters.console.lines import Lines
from adapters.console.render import card_block, plain
from bot.cards import CardAction
from bot.context import Request
from bot.due import DueError, parse_duration
from bot.people import Directory
from bot.presenters import span
from bot.rich import Rich
from bot.runner import Runner

META_HELP = """Console commands:
  :as <person>   act as someone else          :time +3h   move the clock forward
  :time          show the console's clock     :quit       leave (or Ctrl-D)
  <number>       press that button on the last card shown
Anything else is a Baton command; `help` lists them."""


class ConsoleClock:
    """Real time plus whatever `:time` has added (since this database's first `:time`)."""

    def __init__(self, now: Callable[[], datetime], offset: timedelta = timedelta()) -> None:
        self._now = now
        self.offset = offset

    def now(self) -> datetime:
        return self._now() + self.offset


class ConsoleSession:
    def __init__(self, runner: Runner, directory: Directory, clock: ConsoleClock, *,
                 workspace: str, user: str, stdin: TextIO, stdout: TextIO,
                 due_work: Callable[[datetime], Awaitable[list[Rich]]],
                 interactive: bool = False,
                 outbox: Callable[[], Awaitable[object]] | None = None,
                 keep_offset: Callable[[timedelta], Awaitable[None]] | None = None,
                 travel_refused: str = "") -> None:
        self.runner, self.directory, self.clock = runner, directory, clock
        self.workspace, self.user = workspace, user
        self.stdin, self.stdout = stdin, stdout
        self.lines = Lines(stdin)
        self.due_work, self.interactive = due_work, interactive
        # Delivers what is ready (the outbox worker, printing to this terminal); None when a
        # chat platform delivers instead.
        self.outbox = outbox
        self.choices: list[CardAction] = []
        # `:time +3h`: the offset is handed to `keep_offset` (kept with the database), or,
        # where `travel_refused` says why (a database that serves a chat platform), refused.
        self.keep_offset, self.travel_refused = keep_offset, travel_refused

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def read(self, prompt: str) -> str | None:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = await self.lines.next()
        if line is None:
            return None
        line = line.removesuffix("\r")
        if not self.interactive:
            self.stdout.write(line + "\n")
        return line

    async def run(self) -> None:
        self.say(f"Baton console — you are @{self.user}. `help` for commands, `:help` for the "
                 f"console, `:quit` to leave.")
        if self.clock.offset:
            self.say(f"🕒 The clock runs {span(self.clock.offset)} ahead of real time: `:time` "
                     f"moved it, on this database. {self._now()}")
        await self.flush_outbox()
        try:
            while (line := await self.read(f"{self.user}> ")) is not None:
                line = line.strip()
                if not line or line.startswith("//"):
                    continue
                if line in (":quit", ":q", ":exit"):
                    break
                await self.dispatch(line)
        except asyncio.CancelledError:  # Ctrl-C: leave at once, on a line of its own
            self.say("\nBye.")
            raise
        self.say("Bye.")

    async def dispatch(self, line: str) -> None:
        if line.startswith(":"):
            await self.meta(line)
        elif line.isdigit():
            await self.press(int(line))
        else:
            await self.command(line)

    async def meta(self, line: str) -> None:
        name, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if name == "as" and not arg:
            self.say(f"Name the person to act as, e.g. `:as bob`{self._people()}.")
        elif name == "as" and re.fullmatch(r"@?[\w.\-']+", arg):
            person = self.directory.person(arg.lstrip("@"))
            if person is None:
                self.say(f"No one called {arg} is in baton.yaml.")
                return
            self.user, self.choices = person.id, []
            self.say(f"You are now @{self.user}.")
        elif name == "time":
            await self.time(arg)
        elif name == "help":
            self.say(META_HELP)
        else:
            self.say(f"Unknown console command {line!r}.\n{META_HELP}")

    def _people(self) -> str:
        """': one of alice, bob, …' from the teams, or '' when anyone may take part."""
        teams = self.directory.teams()
        if any(team.open for team in teams):
            return ""
        names = sorted({n for t in teams for n in (t.lead, *t.members) if n is not None})
        return f"; one of {', '.join(names)}" if names else ""

    async def time(self, arg: str) -> None:
        if arg and self.travel_refused:
            self.say(f"The clock stays real here: {self.travel_refused}. `:time` alone shows "
                     f"it.")
            return
        if arg:
            try:
                delta = parse_duration(arg.lstrip("+"))
            except DueError as exc:
                self.say(f"{exc}. Usage: :time +3h")
                return
            self.clock.offset += delta
            if self.keep_offset is not None:
                await self.keep_offset(self.clock.offset)
        now = self.clock.now()
        self.say(f"🕒 {self._now()}")
        if arg:
            for line in await self.due_work(now):
                self.say("  ⏰ " + plain(line))
            await self.flush_outbox()

    def _now(self) -> str:
        return self.clock.now().strftime("%a %d %b %Y %H:%M %Z")

    async def press(self, choice: int) -> None:
        if not 1 <= choice <= len(self.choices):
            self.say("No such choice: press a number shown on the last card.")
            return
        action = self.choices[choice - 1]
        text = f"{action.verb} #{action.number}"
        if action.needs_reason:
            reason = await self.read("  reason: ")
            if reason is None or not reason.strip():
                self.say("Nothing done: a reason is needed.")
                return
            text += " " + reason.strip()
        await self.command(text)

    async def command(self, text: str) -> None:
        reply = await self.runner.text(Request(self.workspace, self.user, "console"), text)
        self.say(("" if reply.ok else "✗ ") + plain(reply.text))
        self.choices = []
        for card in reply.cards:
            block, choices = card_block(card, len(self.choices) + 1)
            self.choices += choices
            self.say(block)
        await self.flush_outbox()

    async def flush_outbox(self) -> None:
        """Deliver queued messages by printing them: the console is the chat platform here."""
        if self.outbox is not None:
            await self.outbox()
