"""Redis state of each customer; every key of one customer shares the hash tag `{customer_id}`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
T = TypeVar("T")

# Count an event once per event_id: the SET NX marker and the counters change in one atomic step.
_COUNT_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  redis.call('HINCRBY', KEYS[2], 'total', 1)
  return 1
end
return 0
"""

RETRYABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def as_text(value: bytes | str) -> str:
    """Redis replies are bytes unless the client decodes them; give text either way."""
    return value.decode() if isinstance(value, bytes) else value


def customer_key(prefix: str, customer_id: str, name: str) -> str:
    """Name one of a customer's keys; the hash tag keeps them in one Redis Cluster slot."""
    return f"{prefix}:{{{customer_id}}}:{name}"


async def retry_forever(
    op: Callable[[], Awaitable[T]],
    *,
    what: str,
    max_delay: float,
    on_retry: Callable[[BaseException], None] | None = None,
) -> T:
    """Run `op` until it succeeds, backing off exponentially on Redis outages; never give up."""
    delay = 0.05
    while True:
        try:
            return await op()
        except RETRYABLE as exc:
            if on_retry is not None:
                on_retry(exc)
            log.warning("redis unavailable during %s (%s); retrying in %.2fs", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


class EventCounter:
    """Per-customer event counts by type, each event_id counted once."""

    def __init__(self, client: aioredis.Redis, *, prefix: str, dedupe_ttl: int) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl = dedupe_ttl
        self._script = client.register_script(_COUNT_ONCE)

    async def count(self, customer_id: str, event_id: str, event_type: str) -> bool:
        """Count the event unless its id was seen; True when it was new."""
        keys = [
            customer_key(self._prefix, customer_id, f"seen:{event_id}"),
            customer_key(self._prefix, customer_id, "counts"),
        ]
        return bool(await self._script(keys=keys, args=[event_type, self._ttl]))

    async def counts(self, customer_id: str) -> dict[str, int]:
        """Read a customer's counts by event type (with `total`)."""
        raw = await self._client.hgetall(customer_key(self._prefix, customer_id, "counts"))
        return {as_text(k): int(v) for k, v in raw.items()}
