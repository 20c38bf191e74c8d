"""Redis state of each customer; every key of one customer shares the hash tag `{customer_id}`.

A customer is one Redis string `<prefix>:{<customer_id>}:rec` holding `<version>|<record>`, the
record being zlib-compressed JSON (plain JSON is read too). A string, not a hash: a hash with a
value over 64 bytes loses Redis's compact encoding and costs about 250 bytes more per customer.
Writes are compare-and-set on the version (a Lua script), so
two workers during a rebalance can never overwrite each other's update. Per-partition keys
(`due`, `wm`) share the hash tag `{p<partition>}`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.exceptions import BusyLoadingError, NoScriptError, ReadOnlyError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from scoring.alerts import AlertState
from scoring.health import score
from scoring.policy import BANDS, Policy
from scoring.segments import Fact
from scoring.serialize import (
    alerts_from_dict,
    alerts_to_dict,
    health_record,
    state_from_dict,
    state_to_dict,
)
from scoring.state import CustomerState, new_state
from scoring.timeline import Standing
from stream.metrics import BusinessSnapshot, SegmentSnapshot

log = logging.getLogger(__name__)
T = TypeVar("T")

OPERATION_TIMEOUT = 30.0
RETRYABLE = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, ReadOnlyError, OSError)

_CAS = """
local cur = redis.call('GET', KEYS[1])
local v = '0'
if cur then v = string.match(cur, '^(%d+)|') end
if v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], tostring(tonumber(v) + 1) .. '|' .. ARGV[2])
return 1
"""
_MAX = """
local c = redis.call('GET', KEYS[1])
if (not c) or tonumber(ARGV[1]) > tonumber(c) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


UNKNOWN_SEGMENT = "unknown"
SCORE_EDGES = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0)


def _fact_fields(fact: Fact) -> list[tuple[str, float]]:
    """Counter increments of one segment fact (see scoring.segments for the definitions)."""
    v = fact.value
    if fact.kind == "nps":
        return [("nps_p" if v >= 9 else "nps_pa" if v >= 7 else "nps_d", 1.0)]
    if fact.kind == "csat":
        return [("csat_n", 1.0), ("csat_sat", 1.0 if v >= 4 else 0.0)]
    if fact.kind == "ces":
        return [("ces_n", 1.0), ("ces_easy", 1.0 if v >= 5 else 0.0)]
    if fact.kind == "first_response":
        return [("frt_sum", v), ("frt_n", 1.0)]
    if fact.kind == "resolution":
        return [("res_sum", v), ("res_n", 1.0)]
    return [(fact.kind, 1.0)]  # ticket_opened, reopen, churned


def _segment_measures(t: dict[str, float], customers: int) -> SegmentSnapshot:
    def ratio(a: str, b: str, scale: float = 1.0) -> float | None:
        return scale * t.get(a, 0.0) / t[b] if t.get(b) else None

    answers = t.get("nps_p", 0.0) + t.get("nps_pa", 0.0) + t.get("nps_d", 0.0)
    return SegmentSnapshot(
        nps=100.0 * (t.get("nps_p", 0.0) - t.get("nps_d", 0.0)) / answers if answers else None,
        csat=ratio("csat_sat", "csat_n", 100.0),
        ces=ratio("ces_easy", "ces_n", 100.0),
        first_response_seconds=ratio("frt_sum", "frt_n"),
        resolution_seconds=ratio("res_sum", "res_n"),
        reopen_rate=ratio("reopen", "ticket_opened"),
        churn_rate=t.get("churned", 0.0) / customers if customers else None,
        customers=customers,
    )


# The score board orders customers by band, most at risk first, then by score:
# value = rank of the band * BOARD_STRIDE + score, so one sorted set answers both.
BOARD_RANK = {"critical": 0, "at_risk": 1, "healthy": 2}
BOARD_STRIDE = 1000.0


def board_value(band: str, score: float) -> float:
    """A customer's place on the score board."""
    return BOARD_RANK[band] * BOARD_STRIDE + score


def board_score(value: float) -> float:
    """The score back from a place on the board (scores carry two decimals)."""
    return round(value % BOARD_STRIDE, 2)


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


@dataclass
class Record:
    """Everything stored for one customer.

    Stored compactly (about 500 bytes for a typical customer): the state, the alert memory,
    applied offsets, the last published score and the latest evaluation as numbers. The health
    record with its drivers is not stored: it is a pure function of the state and the time and
    band of the latest evaluation, so `health_record` computes it again when it is read.
    """

    customer_id: str
    version: int = 0
    state: CustomerState | None = None
    alerts: AlertState = field(default_factory=AlertState)
    offsets: dict[str, int] = field(default_factory=dict)  # "<topic code><partition>" -> offset
    partition: int | None = None
    published: tuple[float, str] | None = None  # last score and band sent to health-scores
    # the latest evaluation: event time, score, band, and the score published before it
    evaluated: tuple[float, float, str, float | None] | None = None
    due: float | None = None
    # False: `due` is a bound before which nothing can be due, the exact time to be worked out
    # from the evaluation at `due_from` (scoring.timeline.Standing)
    due_exact: bool = True
    due_from: float | None = None
    # the shadow policy's alert memory and last published score and band (HEALTHSCORE_SHADOW_...)
    shadow_memory: AlertState = field(default_factory=AlertState)
    shadow_published: tuple[float, str] | None = None
    facts: list[Fact] = field(default_factory=list)  # for segment aggregates; not stored
    # (topic, type, outcome, Kafka timestamp, occurred_at) of this attempt; not stored
    outcomes: list[tuple[str, str, str, float | None, float]] = field(default_factory=list)
    # what the cross-customer views last saw of this customer, to send only what changed
    loaded: tuple[str | None, str | None, float | None] = (None, None, None)  # segment, band, score
    loaded_due: float | None = None  # the due time stored with the record as loaded

    def segment(self) -> str:
        return (self.state.segment if self.state else None) or UNKNOWN_SEGMENT

    def band(self) -> str | None:
        return None if self.evaluated is None else self.evaluated[2]

    def score(self) -> float | None:
        return None if self.evaluated is None else self.evaluated[1]

    def current_state(self) -> CustomerState:
        return self.state if self.state is not None else new_state(self.customer_id)

    def standing(self) -> Standing:
        """What the scoring fold keeps of this customer."""
        return Standing(self.current_state(), self.alerts, self.due, self.due_exact, self.due_from)

    def settle(self, standing: Standing) -> None:
        """Take the fold's new standing."""
        self.state, self.alerts = standing.state, standing.memory
        self.due, self.due_exact, self.due_from = (
            standing.due,
            standing.exact,
            standing.evaluated_at,
        )

    def health_record(self, policy: Policy) -> dict[str, Any] | None:
        """The health record of the latest evaluation (the HTTP body), or None before one.

        Scoring is pure, so scoring the stored state at the evaluation's time, with its band as
        the previous band (hysteresis keeps a band for the value it was given), gives the
        record again; under a changed scoring policy it gives the new model's view."""
        if self.evaluated is None or self.state is None:
            return None
        at, _score, band, previous = self.evaluated
        health = score(self.state, policy, at, band)
        return None if health is None else health_record(health, previous)

    def dump(self) -> bytes:
        doc: dict[str, Any] = {
            "s": state_to_dict(self.current_state()),
            "a": alerts_to_dict(self.alerts),
            "o": self.offsets,
        }
        if self.partition is not None:
            doc["pt"] = self.partition
        if self.published is not None:
            doc["p"] = self.published
        if self.evaluated is not None:
            doc["e"] = self.evaluated
        if self.due is not None:
            doc["d"] = self.due
        if not self.due_exact:
            doc["dx"] = 0
        if self.due_from is not None:
            doc["df"] = self.due_from
        if self.shadow_memory.band is not None:
            doc["sh"] = [alerts_to_dict(self.shadow_memory), self.shadow_published]
        # zlib at its fastest level: the JSON's keys and epoch times shrink it by ~40% (about
        # 270 bytes a customer) for ~25 us of CPU per write and read
        return zlib.compress(orjson.dumps(doc), 1)

    @classmethod
    def parse(cls, customer_id: str, stored: bytes | str | None) -> Record:
        """A record from its stored `<version>|<JSON>` form (None: a customer not seen yet)."""
        if stored is None:
            return cls(customer_id)
        data = stored.encode() if isinstance(stored, str) else stored
        head, _, raw = data.partition(b"|")
        version = int(head)
        d = orjson.loads(raw if raw[:1] == b"{" else zlib.decompress(raw))
        published = d.get("p")
        evaluated = d.get("e")
        record = cls(
            customer_id=customer_id,
            version=version,
            state=state_from_dict(customer_id, d["s"]),
            alerts=alerts_from_dict(d.get("a")),
            offsets=d.get("o") or {},
            partition=d.get("pt"),
            published=(published[0], published[1]) if published else None,
            evaluated=(evaluated[0], evaluated[1], evaluated[2], evaluated[3])
            if evaluated
            else None,
            due=d.get("d"),
            due_exact=d.get("dx", 1) != 0,
            due_from=d.get("df"),
        )
        shadow = d.get("sh")
        if shadow:
            record.shadow_memory = alerts_from_dict(shadow[0])
            record.shadow_published = (shadow[1][0], shadow[1][1]) if shadow[1] else None
        record.loaded = (record.segment(), record.band(), record.score())
        record.loaded_due = record.due
        return record


def _arg(value: bytes | str | int | float) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


class Commands:
    """Commands for one round trip, packed as RESP by hand.

    redis-py's pipeline spends about twice the client CPU per command (argument encoding, a
    response callback each, and a `SCRIPT EXISTS` round trip before any pipeline with scripts);
    the engine sends a few commands per customer per batch, so that is most of its Redis cost."""

    __slots__ = ("packed",)

    def __init__(self) -> None:
        self.packed: list[bytes] = []

    def __len__(self) -> int:
        return len(self.packed)

    def add(self, *args: bytes | str | int | float) -> int:
        """Queue a command; return the index of its reply."""
        enc = [_arg(a) for a in args]
        self.packed.append(
            b"*%d\r\n" % len(enc) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in enc)
        )
        return len(self.packed) - 1


class Script:
    """A Lua script called by its SHA; loaded on first use and again after a Redis restart."""

    def __init__(self, source: str) -> None:
        self.source = source
        # Redis names scripts by their SHA-1; an identifier, not a security measure
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    def call(self, cmds: Commands, keys: list[str], args: list[bytes | str | int | float]) -> int:
        return cmds.add("EVALSHA", self.sha, len(keys), *keys, *args)


async def round_trip(client: aioredis.Redis, cmds: Commands) -> list[Any]:
    """Send the commands on one pooled connection and read every reply (error replies are
    returned as exceptions, in place); a broken connection is dropped and the error raised."""
    pool = client.connection_pool
    conn = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        await conn.send_packed_command(b"".join(cmds.packed), check_health=False)
        replies: list[Any] = []
        for _ in range(len(cmds)):
            try:
                replies.append(await conn.read_response(disable_decoding=True))
            except ResponseError as exc:
                replies.append(exc)
        return replies
    except BaseException:
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)


class RecordStore:
    """Load and compare-and-set customer records, the due set and watermarks, in pipelines."""

    def __init__(self, client: aioredis.Redis, prefix: str, policy: Policy) -> None:
        self.client = client
        self.prefix = prefix
        self.policy = policy
        self._cas = Script(_CAS)
        self._max = Script(_MAX)
        self._scripts = (self._cas, self._max)

    async def _execute(self, cmds: Commands) -> list[Any]:
        """One round trip; commands refused because Redis lost the scripts (NOSCRIPT, after a
        restart) are sent again once the scripts are loaded, and only those (some of the others
        are not idempotent). Any other error reply is raised."""
        if not cmds:
            return []
        replies = await round_trip(self.client, cmds)
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            for script in self._scripts:
                await self.client.script_load(script.source)
            again = Commands()
            again.packed = [cmds.packed[i] for i in missing]
            for i, reply in zip(missing, await round_trip(self.client, again), strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies

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
        cmds = Commands()
        for cid in ids:
            cmds.add("GET", self.record_key(cid))
        replies = await self._execute(cmds)
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
        writes: list[int] = []  # the index of each record's compare-and-set reply
        for r in recs:
            if r.partition is not None and (r.version == 0 or r.due != r.loaded_due):
                due = r.due if r.due is not None else float("inf")
                cmds.add("ZADD", self.due_key(r.partition), "LT", due, r.customer_id)
            writes.append(
                self._cas.call(cmds, [self.record_key(r.customer_id)], [r.version, r.dump()])
            )
            score, band = r.score(), r.band()
            _, loaded_band, loaded_score = r.loaded
            if (
                score is not None
                and band is not None
                and (score, band) != (loaded_score, loaded_band)
            ):
                cmds.add("ZADD", self.board_key(), board_value(band, score), r.customer_id)
        replies = await self._execute(cmds)
        conflicts: set[str] = set()
        for r, i in zip(recs, writes, strict=True):
            if replies[i] == 1:
                r.version += 1
                r.loaded_due = r.due
                r.loaded = (r.loaded[0], r.band(), r.score())
            else:
                conflicts.add(r.customer_id)
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

    def _raise(self, cmds: Commands, marks: dict[int, float]) -> None:
        """Queue moving each partition's stream time, and the global clock, forward (never back)."""
        for partition, t in marks.items():
            self._max.call(cmds, [self.watermark_key(partition)], [t])
        self._max.call(cmds, [f"{self.prefix}:clock"], [max(marks.values())])

    async def record_aggregates(
        self, records: Iterable[Record], marks: dict[int, float] | None = None
    ) -> None:
        """Update the cross-customer views after records were stored: segment membership and
        per-segment daily counters, and with `marks` the watermarks, in one round
        trip. Only what changed since the record was loaded
        is sent; a crash between the record write and this leaves the views behind until the
        customer's segment changes again (counters: at most once, never twice)."""
        cmds = Commands()
        for r in records:
            segment = r.segment()
            old_segment = r.loaded[0]
            if segment != old_segment:
                if old_segment is not None:
                    cmds.add("SREM", f"{self.prefix}:segcust:{old_segment}", r.customer_id)
                cmds.add("SADD", f"{self.prefix}:segments", segment)
                cmds.add("SADD", f"{self.prefix}:segcust:{segment}", r.customer_id)
            for fact in r.facts:
                key = f"{self.prefix}:seg:{segment}:{math.floor(fact.at / 86_400)}"
                for name, amount in _fact_fields(fact):
                    cmds.add("HINCRBYFLOAT", key, name, amount)
            r.facts = []
            r.loaded = (segment, r.loaded[1], r.loaded[2])
        if marks:
            self._raise(cmds, marks)
        await self._execute(cmds)

    async def business_snapshot(self, window_days: int = 30) -> BusinessSnapshot:
        """Read customers per band, the score distribution and segment measures."""
        snap = BusinessSnapshot()
        board = self.board_key()
        async with self.client.pipeline(transaction=False) as pipe:
            for band in BANDS:
                low = board_value(band, 0.0)
                pipe.zcount(board, low, low + 100.0)
                for le in SCORE_EDGES:
                    pipe.zcount(board, low, low + le)
            pipe.smembers(f"{self.prefix}:segments")
            pipe.get(f"{self.prefix}:clock")
            replies = await pipe.execute()
        per = 1 + len(SCORE_EDGES)
        blocks = [replies[i * per : (i + 1) * per] for i in range(len(BANDS))]
        snap.bands = {band: int(block[0]) for band, block in zip(BANDS, blocks, strict=True)}
        snap.score_buckets = [
            (le, sum(int(block[1 + j]) for block in blocks)) for j, le in enumerate(SCORE_EDGES)
        ]
        segments = sorted(as_text(x) for x in replies[-2])
        clock = replies[-1]
        if clock is None or not segments:
            return snap
        today = math.floor(float(clock) / 86_400)
        days = range(today - window_days + 1, today + 1)
        async with self.client.pipeline(transaction=False) as pipe:
            for seg in segments:
                pipe.scard(f"{self.prefix}:segcust:{seg}")
                for day in days:
                    pipe.hgetall(f"{self.prefix}:seg:{seg}:{day}")
            replies = await pipe.execute()
        per = 1 + len(days)
        for i, seg in enumerate(segments):
            block = replies[i * per : (i + 1) * per]
            totals: dict[str, float] = {}
            for h in block[1:]:
                for k, v in h.items():
                    totals[as_text(k)] = totals.get(as_text(k), 0.0) + float(v)
            snap.segments[seg] = _segment_measures(totals, int(block[0]))
        return snap

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
        raw = await self.client.get(self.record_key(customer_id))
        if raw is None:
            return None
        return Record.parse(customer_id, raw).health_record(self.policy)
