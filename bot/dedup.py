"""In-process de-duplication for the embedded default (one replica, no Redis)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.ports import Clock, Deduplicator


class MemoryDeduplicator(Deduplicator):
    """Keys kept in a dict until they expire; enough when one process serves every request."""

    def __init__(self, clock: Clock, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max = max_keys
        self._seen: dict[str, datetime] = {}

    async def first_time(self, key: str, ttl: timedelta) -> bool:
        now = self._clock.now()
        expiry = self._seen.get(key)
        if expiry is not None and expiry > now:
            return False
        if len(self._seen) >= self._max:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        self._seen[key] = now + ttl
        return True
