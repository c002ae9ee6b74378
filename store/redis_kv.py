"""Redis for what replicas share briefly: platform retries already seen (SET NX EX) and short
named locks (SET NX PX with a token, released only by its holder)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from redis.asyncio import Redis

from bot.ports import Deduplicator, Locks

PREFIX = "baton:"

# Delete the key only if it still holds our token: a lock that expired and was taken by
# another replica is not ours to release.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def connect(url: str) -> Redis:
    """A client for BATON_REDIS_URL (redis://host:port/db); connections are made lazily."""
    client: Redis = Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                   socket_connect_timeout=5, health_check_interval=30)
    return client


def _millis(ttl: timedelta) -> int:
    return max(int(ttl.total_seconds() * 1000), 1)


class RedisDeduplicator(Deduplicator):
    """The first SET NX of a key wins; repeats within the ttl find it there."""

    def __init__(self, redis: Redis, prefix: str = PREFIX + "seen:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def first_time(self, key: str, ttl: timedelta) -> bool:
        return bool(await self._redis.set(self._prefix + key, "1", nx=True, px=_millis(ttl)))


class RedisLocks(Locks):
    def __init__(self, redis: Redis, prefix: str = PREFIX + "lock:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def acquire(self, name: str, ttl: timedelta) -> str | None:
        token = secrets.token_hex(16)
        taken = await self._redis.set(self._prefix + name, token, nx=True, px=_millis(ttl))
        return token if taken else None

    async def release(self, name: str, token: str) -> None:
        await self._redis.eval(_RELEASE, 1, self._prefix + name, token)  # type: ignore[misc]
