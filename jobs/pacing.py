"""How fast one place may receive messages: a small pure policy, no I/O, no sleeping.

Each place (a channel, a DM, an item's card and thread: whatever a transport names) gets a slot
at most every `interval` of its surface's Pacing, with up to `burst` messages at once after a
quiet spell (the generic cell rate algorithm). A platform's "slow down, retry after N s" holds
the place until then. What each platform allows is its transport's (bot.delivery.Pacing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.delivery import UNPACED, Pacing


@dataclass
class Pacer:
    """Books send slots per place."""

    pacing: Pacing = UNPACED
    _next: dict[str, datetime] = field(default_factory=dict)  # theoretical arrival time
    _lined: dict[str, datetime] = field(default_factory=dict)  # the last put off, per place
    _held: dict[str, datetime] = field(default_factory=dict)  # a platform's Retry-After

    def peek(self, key: str, now: datetime) -> datetime:
        """The earliest instant a message to `key` may go, not booked."""
        if self.pacing.unlimited:
            return now
        tat = max(self._next.get(key, now), now)
        return max(now, tat - self.pacing.interval * (self.pacing.burst - 1))

    def reserve(self, key: str, now: datetime) -> datetime:
        """The earliest instant a message to `key` may go, booked for it."""
        slot = self.peek(key, now)
        if not self.pacing.unlimited:
            self._next[key] = max(self._next.get(key, now), now) + self.pacing.interval
        return slot

    def hold(self, key: str, until: datetime) -> None:
        """Nothing to `key` before `until` (the platform asked to wait)."""
        held = until + self.pacing.interval * (self.pacing.burst - 1)
        self._next[key] = max(self._next.get(key, held), held)
        self._held[key] = max(self._held.get(key, until), until)

    def held(self, key: str, now: datetime) -> datetime | None:
        """Until when the platform asked `key` to wait, if that is still ahead: a slot booked
        before it asked is not to be used."""
        until = self._held.get(key)
        return until if until is not None and until > now else None

    def line_up(self, key: str, start: datetime) -> datetime:
        """When a message to `key` put off past the booking horizon comes back: at `start`, or
        one interval after the last one put off there, so those put off return in turn rather
        than all at once, only for all but one to be put off again."""
        last = self._lined.get(key)
        turn = start if last is None else max(start, last + self.pacing.interval)
        self._lined[key] = turn
        return turn

    def forget_idle(self, now: datetime) -> None:
        """Drop places with no slot booked or line ahead (keeps the tables small)."""
        self._next = {k: t for k, t in self._next.items() if t > now}
        self._lined = {k: t for k, t in self._lined.items() if t > now}
        self._held = {k: t for k, t in self._held.items() if t > now}
