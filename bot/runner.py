"""Running a command from a surface: the one way every surface (Slack, Teams, the console, the
API) hands the core a command or a line of command text and gets a reply back, whatever goes
wrong on the way."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot import presenters as say
from bot.commands import Act, Command
from bot.context import Request
from bot.grammar import UsageError, parse
from bot.service import Baton, Reply

log = logging.getLogger(__name__)

#: (surface, command name, seconds taken): how /metrics sees each command.
Observe = Callable[[str, str, float], None]


def command_name(command: Command) -> str:
    return command.verb.value if isinstance(command, Act) else type(command).__name__.lower()


class Runner:
    def __init__(self, core: Baton, observe: Observe | None = None) -> None:
        self.core = core
        self.observe = observe

    async def text(self, request: Request, text: str,
                   adjust: Callable[[Command], Command] | None = None) -> Reply:
        """A line of command text, in Baton's own references (each surface turns its mentions
        into `@person` and `#team` first); `adjust` adds what the surface knows (the channel
        an item is raised in)."""
        try:
            command = parse(text)
        except UsageError as exc:
            return Reply(exc.message, ok=False)
        return await self.command(request, adjust(command) if adjust else command)

    async def command(self, request: Request, command: Command) -> Reply:
        """One command through the core; a failure of Baton's own is a reply, not a crash."""
        started = time.perf_counter()
        try:
            reply = await self.core.handle(request, command)
        except Exception:
            log.exception("the core failed on a %s from %s", type(command).__name__,
                          request.surface)
            reply = Reply(say.internal_error(), ok=False)
        if self.observe is not None:
            self.observe(request.surface, command_name(command), time.perf_counter() - started)
        return reply
