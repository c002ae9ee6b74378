"""How fast one conversation may receive messages: a small pure policy, no I/O, no sleeping.

Each conversation (a channel, a DM, an item's card and thread) gets a slot at most every
`interval` (a new card takes one in its item's conversation and one in its channel's), with
up to `burst` messages at once after a quiet spell (the generic cell rate algorithm). A
platform's "slow down, retry after N s" holds the conversation until then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Pacing:
    interval: timedelta = timedelta(seconds=1)
    burst: int = 1

    @property
    def unlimited(self) -> bool:
        return self.interval <= timedelta()


#: What each surface allows per conversation. Slack: about one message a second per channel
#: ("short bursts above are allowed"); Teams: 7 a second per conversation, bursts discouraged;
#: the console prints as fast as it likes.
SURFACE_PACING: dict[str, Pacing] = {
    "slack": Pacing(timedelta(seconds=1), burst=1),
    "teams": Pacing(timedelta(milliseconds=150), burst=1),
    "console": Pacing(timedelta()),
}


@dataclass
class Pacer:
    """Books send slots per conversation key."""

    pacing: Pacing = Pacing()
    _next: dict[str, datetime] = field(default_factory=dict)  # theoretical arrival time
    _lined: dict[str, datetime] = field(default_factory=dict)  # the last put off, per key

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

    def line_up(self, key: str, start: datetime) -> datetime:
        """When a message to `key` put off past the booking horizon comes back: at `start`, or
        one interval after the last one put off there, so those put off return in turn rather
        than all at once, only for all but one to be put off again."""
        last = self._lined.get(key)
        turn = start if last is None else max(start, last + self.pacing.interval)
        self._lined[key] = turn
        return turn

    def forget_idle(self, now: datetime) -> None:
        """Drop conversations with no slot booked or line ahead (keeps the tables small)."""
        self._next = {k: t for k, t in self._next.items() if t > now}
        self._lined = {k: t for k, t in self._lined.items() if t > now}
