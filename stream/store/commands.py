"""The Redis adapter: customer records by compare-and-set, the due index and watermarks, in
one pipelined round trip per step (on a Redis Cluster, one per primary, concurrently).

A customer is one Redis string (`stream.store.keys.Keys.record`) holding `<version>|<record>`
(`stream.store.codec`). A string, not a hash: a hash with a value over 64 bytes loses Redis's
compact encoding and costs about 250 bytes more per customer. Writes are compare-and-set on the
version (a Lua script), so two workers during a rebalance can never overwrite each other's
update.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    BusyLoadingError,
    ClusterDownError,
    MovedError,
    NoScriptError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from scoring.policy import Policy
from stream.i18n import Languages
from stream.metrics import BusinessSnapshot
from stream.store import views
from stream.store.client import Client
from stream.store.keys import Keys
from stream.store.record import Record
from stream.store.resp import Commands

log = logging.getLogger(__name__)
T = TypeVar("T")

OPERATION_TIMEOUT = 30.0
RETRYABLE = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, ReadOnlyError, OSError)
WAIT_MS = 1000  # one WAIT for replicas blocks at most this long, then is asked again


class ClusterNotConfiguredError(RedisConnectionError):
    """Redis answered MOVED: it is a cluster node but the worker was not told so. Retried (and
    logged) like an outage rather than failing the batch, so nothing is dead-lettered."""


# Compare-and-set of records, each set or refused on its own (a reply of 1 or 0 each): for
# record i, ARGV[2i - 1] is the version its writer read ("0": none) and ARGV[2i] the new value,
# `<that version + 1>|<record>`, made by the writer; only the head of the stored value is read
# (GETRANGE: the version is at most 20 digits). On a single server a batch's records go in calls
# of `CAS_CHUNK`, saving the worker a reply per record; on a cluster, where they are in
# different slots, one record a call.
_CAS = """
local out = {}
for i, key in ipairs(KEYS) do
  local head = redis.call('GETRANGE', key, 0, 31)
  local v = '0'
  if head ~= '' then v = string.match(head, '^(%d+)|') end
  if v == ARGV[2 * i - 1] then
    redis.call('SET', key, ARGV[2 * i])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""
# Redis runs a script to its end: a call of 256 records holds it about 2.5 ms (9.8 us a record)
CAS_CHUNK = 256
_MAX = """
local c = redis.call('GET', KEYS[1])
if (not c) or tonumber(ARGV[1]) > tonumber(c) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


async def retry_forever(
    op: Callable[[], Awaitable[T]],
    *,
    what: str,
    max_delay: float,
    on_retry: Callable[[BaseException], None] | None = None,
    deadline: float = OPERATION_TIMEOUT,
) -> T:
    """Run `op` until it succeeds, backing off exponentially on Redis outages; never give up.

    Each attempt has `deadline` seconds (a hung connection counts as an outage: TimeoutError is
    an OSError); the client itself has no per-reply timeout, which would cost a timer for every
    command of a pipeline."""
    delay = 0.05
    while True:
        try:
            async with asyncio.timeout(deadline):
                return await op()
        except RETRYABLE as exc:
            if on_retry is not None:
                on_retry(exc)
            log.warning("redis unavailable during %s (%s); retrying in %.2fs", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


class Script:
    """A Lua script called by its SHA; loaded on first use and again after a Redis restart."""

    def __init__(self, source: str) -> None:
        self.source = source
        # Redis names scripts by their SHA-1; an identifier, not a security measure
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    def call(self, cmds: Commands, keys: list[str], args: list[bytes | str | int | float]) -> int:
        return cmds.add("EVALSHA", self.sha, len(keys), *keys, *args)


async def _exchange(conn: Any, packed: list[bytes], wait: int, cluster: bool) -> list[Any]:
    """Send commands on one connection and read every reply (error replies returned in place).

    With `wait`, a `WAIT` follows and is repeated until that many replicas hold this
    connection's writes: only then are they acknowledged. A connection that breaks meanwhile
    raises, so the caller reloads from whichever node is then the primary."""
    await conn.send_packed_command(
        b"".join(packed) + (b"WAIT %d %d\r\n" % (wait, WAIT_MS) if wait else b""),
        check_health=False,
    )
    replies: list[Any] = []
    for _ in range(len(packed)):
        try:
            replies.append(await conn.read_response(disable_decoding=True))
        except ResponseError as exc:
            if isinstance(exc, MovedError) and not cluster:
                raise ClusterNotConfiguredError(
                    "Redis answered MOVED: it is a Redis Cluster node; set "
                    "HEALTHSCORE_REDIS_CLUSTER=true"
                ) from None
            replies.append(exc)
    if wait:
        acked = await conn.read_response()
        while acked < wait:
            log.warning("a write is held by %d of %d replicas; waiting", acked, wait)
            await conn.send_packed_command(b"WAIT %d %d\r\n" % (wait, WAIT_MS))
            acked = await conn.read_response()
    return replies


async def round_trip(client: Client, cmds: Commands, wait: int = 0) -> list[Any]:
    """Send the commands and read every reply, in order (error replies are returned as
    exceptions, in place); a broken connection is dropped and the error raised.

    One pooled connection on a single Redis; on a cluster, one per primary concerned."""
    if isinstance(client, RedisCluster):
        return await _cluster_round_trip(client, cmds, wait)
    pool = client.connection_pool
    conn = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        return await _exchange(conn, cmds.packed, wait, cluster=False)
    except BaseException:
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)


async def _node_trip(node: ClusterNode, packed: list[bytes], wait: int, asking: bool) -> list[Any]:
    conn = node.acquire_connection()
    try:
        if asking:  # a slot being migrated: the target takes the command after ASKING
            packed = [p for cmd in packed for p in (b"*1\r\n$6\r\nASKING\r\n", cmd)]
            replies = await _exchange(conn, packed, wait, cluster=True)
            return replies[1::2]
        return await _exchange(conn, packed, wait, cluster=True)
    except BaseException:
        await conn.disconnect()
        raise
    finally:
        node.release(conn)


async def _cluster_round_trip(client: RedisCluster, cmds: Commands, wait: int) -> list[Any]:
    """Route each command to the primary of its key's slot and send each node's share
    concurrently, in order. A command the cluster did not run (MOVED, ASK, TRYAGAIN,
    CLUSTERDOWN) is sent again where it now belongs; any other failure is raised, and the slot
    map is read afresh before the next attempt."""
    await client.initialize()
    manager = client.nodes_manager
    replies: list[Any] = [None] * len(cmds)
    todo = list(range(len(cmds)))
    ask: dict[int, ClusterNode] = {}
    delay = 0.05
    while todo:
        groups: dict[tuple[str, bool], tuple[ClusterNode, list[int]]] = {}
        for i in todo:
            node = ask.get(i) or manager.get_node_from_slot(key_slot(cmds.routes[i]))
            groups.setdefault((node.name, i in ask), (node, []))[1].append(i)
        ask.clear()
        keys = list(groups)
        results = await asyncio.gather(
            *(
                _node_trip(node, [cmds.packed[i] for i in idx], wait, asking)
                for (_, asking), (node, idx) in groups.items()
            ),
            return_exceptions=True,
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        for key, result in zip(keys, results, strict=True):
            if not isinstance(result, BaseException):
                for i, reply in zip(groups[key][1], result, strict=True):
                    replies[i] = reply
        if failed:
            client._initialize = True  # read the slot map again: a primary may have failed
            raise failed[0]
        todo = []
        for i in sorted(i for _, idx in groups.values() for i in idx):
            reply = replies[i]
            if isinstance(reply, MovedError):
                await manager.move_slot(reply)
            elif isinstance(reply, AskError):
                ask[i] = manager.get_node(host=reply.host, port=reply.port) or ClusterNode(
                    reply.host, reply.port, **manager.connection_kwargs
                )
            elif not isinstance(reply, TryAgainError | ClusterDownError):
                continue
            todo.append(i)
        if todo and not ask:
            log.warning("redis cluster is changing hands (%s); sending again", replies[todo[0]])
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
            client._initialize = True
            await client.initialize()
    return replies


def _pairs(reply: list[bytes] | dict[bytes, bytes]) -> dict[str, bytes]:
    """An HGETALL reply (RESP2: a flat list; RESP3: a map) as a dict with text keys."""
    if isinstance(reply, dict):
        return {views.as_text(k): v for k, v in reply.items()}
    return {views.as_text(k): v for k, v in zip(reply[::2], reply[1::2], strict=True)}


class RecordStore:
    """Load and compare-and-set customer records, the due set and watermarks, in pipelines."""

    def __init__(
        self,
        client: Client,
        prefix: str,
        policy: Policy,
        wait_replicas: int = 0,
        languages: Languages | None = None,
    ) -> None:
        self.client = client
        # the language of the alerts kept for Alertmanager (the open and resolved views)
        self.languages = languages if languages is not None else Languages()
        self.wait_replicas = wait_replicas  # replicas that must hold a write (Redis WAIT)
        self.prefix = prefix
        self.keys = Keys(prefix)
        self.policy = policy
        self._cas = Script(_CAS)
        self._max = Script(_MAX)
        self._scripts = (self._cas, self._max)
        # records per compare-and-set call: a cluster spreads a batch's records over slots
        self._cas_chunk = 1 if isinstance(client, RedisCluster) else CAS_CHUNK
        self._views_migrated = False  # earlier segment sets counted (once per process)

    async def _execute(self, cmds: Commands, write: bool = True) -> list[Any]:
        """One round trip; commands refused because Redis lost the scripts (NOSCRIPT, after a
        restart or on a promoted replica) are sent again once the scripts are loaded, and only
        those (some of the others are not idempotent). Any other error reply is raised. A
        write returns once `wait_replicas` replicas hold it."""
        if not cmds:
            return []
        wait = self.wait_replicas if write else 0
        replies = await round_trip(self.client, cmds, wait)
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            for script in self._scripts:
                await self.client.script_load(script.source)
            again = Commands()
            again.packed = [cmds.packed[i] for i in missing]
            again.routes = [cmds.routes[i] for i in missing]
            for i, reply in zip(missing, await round_trip(self.client, again, wait), strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies

    async def load_many(self, customer_ids: Iterable[str]) -> dict[str, Record]:
        """Read the records of many customers in one round trip."""
        ids = list(customer_ids)
        if not ids:
            return {}
        cmds = Commands()
        record = self.keys.record
        for cid in ids:  # GET, not MGET: a key of another type is an error, not a new customer
            cmds.add("GET", record(cid))
        replies = await self._execute(cmds, write=False)
        return {cid: Record.parse(cid, raw) for cid, raw in zip(ids, replies, strict=True)}

    async def save_many(self, records: Iterable[Record]) -> set[str]:
        """Write records with compare-and-set in one round trip; return the ids that conflicted.

        The due set is an index that may run early, never late: before each record whose due
        time changed, that time is added or *lowered* (`ZADD LT`), so a record on disk always
        has an entry at or before its true due time (kept in the record). The timer corrects
        early entries. An unchanged due time already has its entry.
        """
        recs = list(records)
        if not recs:
            return set()
        cmds = Commands()
        keys = self.keys
        due = views.Tally()
        for r in recs:
            if r.partition is not None and (r.version == 0 or r.due != r.loaded_due):
                when = r.due if r.due is not None else float("inf")
                due.zadd(keys.due(r.partition), when, r.customer_id, lower_only=True)
        for command in due.commands():  # before the records: an entry never runs late
            cmds.add(*command)
        writes: list[int] = []  # the index of each compare-and-set call's reply
        boards = views.Tally()
        chunk = self._cas_chunk
        for i in range(0, len(recs), chunk):
            names: list[str] = []
            args: list[bytes | str | int | float] = []
            for r in recs[i : i + chunk]:
                names.append(keys.record(r.customer_id))
                args += (r.version, b"%d|" % (r.version + 1) + r.dump())
                views.board_into(boards, keys, r)
            writes.append(self._cas.call(cmds, names, args))
        for command in boards.commands():
            cmds.add(*command)
        replies = await self._execute(cmds)
        done = [v for i in writes for v in replies[i]]
        conflicts: set[str] = set()
        for r, stored in zip(recs, done, strict=True):
            if stored == 1:
                r.mark_stored()
            else:
                conflicts.add(r.customer_id)
        return conflicts

    async def set_due(self, partition: int, entries: dict[str, float | None]) -> None:
        """Set due entries exactly (None removes): the timer's correction of early entries."""
        if not entries:
            return
        key = self.keys.due(partition)
        cmds = Commands()
        for cid, due in entries.items():
            if due is None:
                cmds.add("ZREM", key, cid)
            else:
                cmds.add("ZADD", key, due, cid)
        await self._execute(cmds)

    def _raise(self, cmds: Commands, marks: dict[int, float]) -> None:
        """Queue moving each partition's stream time, and the global clock, forward (never back)."""
        for partition, t in marks.items():
            self._max.call(cmds, [self.keys.watermark(partition)], [t])
        self._max.call(cmds, [self.keys.clock()], [max(marks.values())])

    async def record_aggregates(
        self, records: Iterable[Record], marks: dict[int, float] | None = None
    ) -> views.AlertChanges:
        """Update the cross-customer views after records were stored: segment membership and
        per-segment daily counters, the open and resolved alerts, and with `marks` the
        watermarks, in one round trip; return the alert changes. Only what changed since the
        record was loaded is sent; a crash between the record write and this leaves the views
        behind until the customer's segment (or alert) changes again (counters: at most once,
        never twice)."""
        if not self._views_migrated:
            await views.migrate_segment_sets(self.client, self.keys)
            self._views_migrated = True
        recs = list(records)
        cmds = Commands()
        tally = views.Tally()
        views.segments_into(tally, self.keys, recs)
        for command in tally.commands():
            cmds.add(*command)
        alert_cmds, changes = views.alert_commands(self.keys, recs, self.languages)
        for command in alert_cmds:
            cmds.add(*command)
        if marks:
            self._raise(cmds, marks)
        await self._execute(cmds)
        views.alerts_seen(recs)
        return changes

    async def open_alerts(self, partitions: Iterable[int]) -> dict[int, dict[str, bytes]]:
        """Each partition's open alerts: customer id -> the alert (JSON)."""
        parts = sorted(partitions)
        cmds = Commands()
        for p in parts:
            cmds.add("HGETALL", self.keys.open_alerts(p))
        replies = await self._execute(cmds, write=False)
        return {p: _pairs(reply) for p, reply in zip(parts, replies, strict=True)}

    async def resolved_alerts(
        self, partitions: Iterable[int], limit: int = 500
    ) -> list[tuple[int, bytes]]:
        """Resolved alerts not yet forwarded, oldest first: (partition, the alert JSON)."""
        parts = sorted(partitions)
        cmds = Commands()
        for p in parts:
            cmds.add("ZRANGE", self.keys.resolved_alerts(p), 0, limit - 1)
        replies = await self._execute(cmds, write=False)
        return [(p, raw) for p, reply in zip(parts, replies, strict=True) for raw in reply]

    async def forget_resolved(self, forwarded: Iterable[tuple[int, bytes]]) -> None:
        """Drop resolved alerts once forwarded."""
        cmds = Commands()
        for p, raw in forwarded:
            cmds.add("ZREM", self.keys.resolved_alerts(p), raw)
        await self._execute(cmds)

    async def business_snapshot(self, window_days: int = 30) -> BusinessSnapshot:
        """Read customers per band, the score distribution and segment measures."""
        return await views.business_snapshot(
            self.client, self.keys, window_days, margin=self.policy.gross_margin
        )

    async def watermark(self, partition: int) -> float | None:
        raw = await self.client.get(self.keys.watermark(partition))
        return None if raw is None else float(raw)

    async def due(self, partition: int, until: float, limit: int) -> list[tuple[str, float]]:
        """Customers of a partition due at or before `until`, earliest first."""
        rows: Any = await self.client.zrangebyscore(
            self.keys.due(partition), "-inf", until, start=0, num=limit, withscores=True
        )
        return [(views.as_text(member), float(score)) for member, score in rows]

    async def portfolio(
        self, owner: str | None, offset: int, limit: int
    ) -> tuple[int, list[Record]]:
        """Customers by risk (an owner's, or everyone's), most at risk first: how many there
        are, and the records of `limit` of them from `offset`."""
        key = self.keys.owner_board(owner) if owner else self.keys.board()
        cmds = Commands()
        cmds.add("ZCARD", key)
        cmds.add("ZRANGE", key, offset, offset + limit - 1)
        total, members = await self._execute(cmds, write=False)
        ids = [views.as_text(m) for m in members]
        records = await self.load_many(ids)
        return int(total), [records[c] for c in ids]

    async def record(self, customer_id: str) -> Record | None:
        """A customer's stored record, or None when unknown."""
        raw = await self.client.get(self.keys.record(customer_id))
        return None if raw is None else Record.parse(customer_id, raw)
