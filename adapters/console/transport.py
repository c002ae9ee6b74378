"""The console as a chat platform: the outbox worker delivers to the terminal."""

from __future__ import annotations

from typing import TextIO

from adapters.console.render import delivered
from bot.delivery import Transport
from bot.messages import Outgoing


class ConsoleTransport(Transport):
    """Prints each delivered message as `baton chat` shows it; thread lines and card refreshes
    are not shown (the card in the reply already is)."""

    surface = "console"

    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout

    async def deliver(self, message: Outgoing) -> None:
        shown = delivered(message)
        if shown is None:
            return
        lines = [shown]
        if message.attachment:
            lines.append(f"    📈 chart: {message.attachment}")
        self.stdout.write("\n".join(lines) + "\n")
        self.stdout.flush()
