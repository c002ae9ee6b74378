"""In-process locks for the embedded default (one replica, no Redis)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from bot.ports import Clock, Locks


class MemoryLocks(Locks):
    """Named locks with an expiry, held in a dict: enough when one process does every job."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._held: dict[str, tuple[str, datetime]] = {}

    async def acquire(self, name: str, ttl: timedelta) -> str | None:
        now = self._clock.now()
        held = self._held.get(name)
        if held is not None and held[1] > now:
            return None
        token = secrets.token_hex(8)
        self._held[name] = (token, now + ttl)
        return token

    async def release(self, name: str, token: str) -> None:
        held = self._held.get(name)
        if held is not None and held[0] == token:
            del self._held[name]
