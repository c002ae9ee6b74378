"""Per-token rate limits, counted by the `limits` library: in this process, or in Redis so
that every replica counts against the same budget."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


class RateLimit:
    """`rate` as the limits library writes it: "600/minute", "10/second"."""

    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        self.rate: RateLimitItem = parse(rate)
        storage: Storage = RedisStorage(_async_uri(redis_url), implementation="redispy") \
            if redis_url else MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)

    async def retry_after(self, key: str) -> int | None:
        """Count one request for `key`: None if it is within the rate, else the seconds to
        wait before the next one would be."""
        if await self._limiter.hit(self.rate, "baton-api", key):
            return None
        stats = await self._limiter.get_window_stats(self.rate, "baton-api", key)
        return max(1, math.ceil(stats.reset_time - time.time()))


def _async_uri(url: str) -> str:
    return url if url.startswith("async+") else "async+" + url
