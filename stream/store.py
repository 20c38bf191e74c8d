"""Redis state of each customer; every key of one customer shares the hash tag `{customer_id}`.

A customer is one Redis hash `<prefix>:{<customer_id>}:rec` with a version `v` and a JSON
document `d`. Writes are compare-and-set on the version (a Lua script), so two workers during a
rebalance can never overwrite each other's update. Per-partition keys (`due`, `wm`) share the
hash tag `{p<partition>}`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.exceptions import BusyLoadingError, ReadOnlyError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from scoring.alerts import AlertState
from scoring.serialize import alerts_from_dict, alerts_to_dict, state_from_dict, state_to_dict
from scoring.state import CustomerState, new_state

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, ReadOnlyError, OSError)

_CAS = """
local v = redis.call('HGET', KEYS[1], 'v')
if not v then v = '0' end
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(v) + 1), 'd', ARGV[2])
return 1
"""
_MAX = """
local c = redis.call('GET', KEYS[1])
if (not c) or tonumber(ARGV[1]) > tonumber(c) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


def customer_record_key(prefix: str, customer_id: str) -> str:
    """The key of a customer's record; the hash tag keeps a customer in one cluster slot."""
    return f"{prefix}:{{{customer_id}}}:rec"


def as_text(value: bytes | str) -> str:
    """Redis replies are bytes unless the client decodes them; give text either way."""
    return value.decode() if isinstance(value, bytes) else value


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


@dataclass
class Record:
    """Everything stored for one customer."""

    customer_id: str
    version: int = 0
    state: CustomerState | None = None
    alerts: AlertState = field(default_factory=AlertState)
    offsets: dict[str, int] = field(default_factory=dict)  # "topic:partition" -> last applied
    partition: int | None = None
    published: tuple[float, str] | None = None  # last score and band sent to health-scores
    health: dict[str, Any] | None = None  # the latest health record (the HTTP body)
    due: float | None = None

    def current_state(self) -> CustomerState:
        return self.state if self.state is not None else new_state(self.customer_id)

    def dump(self) -> bytes:
        return orjson.dumps(
            {
                "s": state_to_dict(self.current_state()),
                "a": alerts_to_dict(self.alerts),
                "o": self.offsets,
                "pt": self.partition,
                "p": list(self.published) if self.published else None,
                "h": self.health,
                "due": self.due,
            }
        )

    @classmethod
    def load(cls, customer_id: str, version: int, raw: bytes | None) -> Record:
        if raw is None:
            return cls(customer_id)
        d = orjson.loads(raw)
        published = d.get("p")
        return cls(
            customer_id=customer_id,
            version=version,
            state=state_from_dict(d["s"]),
            alerts=alerts_from_dict(d.get("a")),
            offsets=d.get("o") or {},
            partition=d.get("pt"),
            published=(float(published[0]), str(published[1])) if published else None,
            health=d.get("h"),
            due=d.get("due"),
        )


class RecordStore:
    """Load and compare-and-set customer records, the due set and watermarks, in pipelines."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._cas = client.register_script(_CAS)
        self._max = client.register_script(_MAX)

    def record_key(self, customer_id: str) -> str:
        return customer_record_key(self.prefix, customer_id)

    def due_key(self, partition: int) -> str:
        return f"{self.prefix}:due:{{p{partition}}}"

    def watermark_key(self, partition: int) -> str:
        return f"{self.prefix}:wm:{{p{partition}}}"

    def board_key(self) -> str:
        return f"{self.prefix}:board"

    async def load_many(self, customer_ids: Iterable[str]) -> dict[str, Record]:
        """Read the records of many customers in one round trip."""
        ids = list(customer_ids)
        if not ids:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.hmget(self.record_key(cid), "v", "d")
            replies = await pipe.execute()
        return {
            cid: Record.load(cid, int(v or 0), d) for cid, (v, d) in zip(ids, replies, strict=True)
        }

    async def save_many(self, records: Iterable[Record]) -> set[str]:
        """Write records with compare-and-set in one round trip; return the ids that conflicted.

        The due set is an index that may run early, never late: before each record, its due
        time is added or *lowered* (`ZADD LT`), so a record on disk always has an entry at or
        before its true due time (kept in the record). The timer corrects early entries.
        """
        recs = list(records)
        if not recs:
            return set()
        async with self.client.pipeline(transaction=False) as pipe:
            for r in recs:
                if r.partition is not None:
                    due = r.due if r.due is not None else float("inf")
                    pipe.zadd(self.due_key(r.partition), {r.customer_id: due}, lt=True)
                await self._cas(
                    keys=[self.record_key(r.customer_id)], args=[r.version, r.dump()], client=pipe
                )
                if r.health is not None:
                    pipe.zadd(self.board_key(), {r.customer_id: float(r.health["score"])})
            replies = await pipe.execute()
        conflicts: set[str] = set()
        i = 0
        for r in recs:
            i += 1 if r.partition is not None else 0
            if replies[i] != 1:
                conflicts.add(r.customer_id)
            i += 1 + (1 if r.health is not None else 0)
        return conflicts

    async def set_due(self, partition: int, entries: dict[str, float | None]) -> None:
        """Set due entries exactly (None removes): the timer's correction of early entries."""
        if not entries:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for cid, due in entries.items():
                if due is None:
                    pipe.zrem(self.due_key(partition), cid)
                else:
                    pipe.zadd(self.due_key(partition), {cid: due})
            await pipe.execute()

    async def raise_watermarks(self, marks: dict[int, float]) -> None:
        """Move each partition's stream time forward (never back)."""
        if not marks:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for partition, t in marks.items():
                await self._max(keys=[self.watermark_key(partition)], args=[repr(t)], client=pipe)
            await pipe.execute()

    async def watermark(self, partition: int) -> float | None:
        raw = await self.client.get(self.watermark_key(partition))
        return None if raw is None else float(raw)

    async def due(self, partition: int, until: float, limit: int) -> list[tuple[str, float]]:
        """Customers of a partition due at or before `until`, earliest first."""
        rows: Any = await self.client.zrangebyscore(
            self.due_key(partition), "-inf", until, start=0, num=limit, withscores=True
        )
        return [(as_text(member), float(score)) for member, score in rows]

    async def health(self, customer_id: str) -> dict[str, Any] | None:
        """The latest health record of a customer, or None when unknown."""
        raw = await self.client.hget(self.record_key(customer_id), "d")
        if raw is None:
            return None
        h: dict[str, Any] | None = orjson.loads(raw).get("h")
        return h

    async def most_at_risk(self, n: int) -> list[tuple[str, float]]:
        rows: Any = await self.client.zrange(self.board_key(), 0, n - 1, withscores=True)
        return [(as_text(m), float(s)) for m, s in rows]
