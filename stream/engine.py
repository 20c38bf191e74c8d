"""The engine: apply a batch of input messages to customer records, score, alert, publish.

Independent of Faust: the worker hands it batches and a publisher. Per batch: decode, one
pipelined read of the customers' records, pure scoring, publish the outputs (awaiting the
broker's acks), one pipelined compare-and-set write. Only then may the caller ack the offsets,
so a crash at any point redelivers the batch, and redelivered messages are recognised by their
offsets (kept per customer and topic-partition) and skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple, Protocol, TypeVar

from scoring.alerts import Alert, evaluate
from scoring.events import Event, TopicKind
from scoring.health import HealthScore, score
from scoring.policy import Policy
from scoring.segments import facts
from scoring.serialize import alert_record, health_record
from scoring.state import CustomerState
from scoring.timeline import Step, catch_up, on_event
from stream.codec import DecodeError, decode_event, encode
from stream.contract import INPUT_TOPICS
from stream.metrics import EngineMetrics
from stream.settings import Settings
from stream.store import Record, RecordStore, retry_forever

log = logging.getLogger(__name__)
# Applied offsets are stored per customer under "<code><partition>", by the topic's contract.
_CODES: dict[TopicKind, str] = {"usage": "u", "support": "s", "survey": "v", "account": "a"}
TOPIC_CODES = {INPUT_TOPICS[kind]: code for kind, code in _CODES.items()}
T = TypeVar("T")


class Incoming(NamedTuple):
    """One consumed message and where it came from (a tuple: one is made per message)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = None  # the Kafka record's timestamp (produce time), seconds


@dataclass(frozen=True)
class DeadLetter:
    """Why a message could not be applied, and where it came from."""

    source: Incoming
    error: str
    field: str

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers that carry the source position and the error beside the original bytes."""
        return [
            ("dlq.topic", self.source.topic.encode()),
            ("dlq.partition", str(self.source.partition).encode()),
            ("dlq.offset", str(self.source.offset).encode()),
            ("dlq.field", self.field.encode()),
            ("dlq.error", self.error.encode()),
        ]


@dataclass
class Outputs:
    """What one batch sends: score updates, alerts and dead letters."""

    scores: list[tuple[str, bytes]] = field(default_factory=list)
    alerts: list[tuple[str, bytes]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    shadow_scores: list[tuple[str, bytes]] = field(default_factory=list)
    shadow_alerts: list[tuple[str, bytes]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.scores or self.alerts or self.dead or self.shadow_scores or self.shadow_alerts
        )


Decoded = tuple[Incoming, "Event | DeadLetter"]


class Publisher(Protocol):
    """Sends outputs and returns once the broker has acknowledged every message."""

    async def publish(self, outputs: Outputs) -> None: ...


@dataclass
class BatchResult:
    """Counts of what a batch did, for logs and metrics."""

    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    scores_published: int = 0
    alerts_raised: list[Alert] = field(default_factory=list)
    conflicts: int = 0


class Engine:
    """Apply batches and timer ticks to customer records."""

    def __init__(
        self,
        settings: Settings,
        policy: Policy,
        store: RecordStore,
        publisher: Publisher,
        metrics: EngineMetrics | None = None,
        shadow: Policy | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.shadow = shadow  # a candidate policy scored beside the live one, published apart
        self.store = store
        self.publisher = publisher
        self.metrics = metrics
        self.positions: dict[tuple[str, int], int] = {}  # last offset processed per topic-partition
        self._contract_topic = settings.input_topics
        self.watermarks: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def partition_lock(self, partition: int) -> asyncio.Lock:
        """Held while a partition's batch or its timer round is applied: within a worker the
        event path and the timer never race for a customer, so an attempt that loses a
        compare-and-set (and whose outputs were already published) only happens between
        workers during a rebalance."""
        lock = self._locks.get(partition)
        if lock is None:
            lock = self._locks[partition] = asyncio.Lock()
        return lock

    # --- decoding ------------------------------------------------------------------------

    def decode_one(self, msg: Incoming) -> Event | DeadLetter:
        """Decode one message into an event, or say why it cannot be applied."""
        try:
            return decode_event(
                msg.value or b"",
                topic=self._contract_topic.get(msg.topic),
                key=msg.key,
                max_bytes=self.settings.max_message_bytes,
            )
        except DecodeError as exc:
            return DeadLetter(msg, str(exc), exc.field)

    def decode(self, batch: Iterable[Incoming]) -> list[Decoded]:
        """Decode a batch: each message with its event or its dead letter."""
        return [(msg, self.decode_one(msg)) for msg in batch]

    async def _redis(self, what: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run a store operation, retrying through Redis outages and counting the errors."""
        metrics = self.metrics

        def on_retry(_exc: BaseException) -> None:
            if metrics is not None:
                metrics.on_redis_error(what)

        return await retry_forever(
            partial(fn, *args),
            what=what,
            max_delay=self.settings.redis_retry_max_seconds,
            on_retry=on_retry,
        )

    # --- the event path ------------------------------------------------------------------

    async def process(self, batch: Sequence[Incoming]) -> BatchResult:
        """Decode and apply one batch; return only once its effects are published and stored."""
        return await self.process_decoded(self.decode(batch))

    async def process_decoded(self, batch: Sequence[Decoded]) -> BatchResult:
        """Apply one decoded batch, in its order; return only once its effects are published
        and stored."""
        started = time.perf_counter()
        result = BatchResult()
        dead: list[DeadLetter] = []
        by_customer: dict[str, list[tuple[Incoming, Event]]] = {}
        for msg, event in batch:
            if isinstance(event, DeadLetter):
                dead.append(event)
                continue
            by_customer.setdefault(event.customer_id, []).append((msg, event))
            mark = self.watermarks.get(msg.partition)
            if mark is None or event.occurred_at > mark:
                self.watermarks[msg.partition] = event.occurred_at
        pending = set(by_customer)
        first = True
        finished: list[Record] = []
        while pending or first:
            records = await self._redis("load", self.store.load_many, pending)
            outputs = Outputs(dead=dead if first else [])
            attempt = [records[cid] for cid in pending]
            changed = [
                r
                for r in attempt
                if self._apply_events(r, by_customer[r.customer_id], outputs, result)
            ]
            await self._publish(outputs)
            conflicts = await self._redis("save", self.store.save_many, changed)
            result.conflicts += len(conflicts)
            result.scores_published += len(outputs.scores)
            finished.extend(r for r in attempt if r.customer_id not in conflicts)
            pending, first = conflicts, False
        result.dead_lettered += len(dead)
        await self._redis(
            "segments",
            self.store.record_aggregates,
            [r for r in finished if r.state is not None],
            dict(self.watermarks),
        )
        for msg, _ in batch:
            self.positions[(msg.topic, msg.partition)] = msg.offset
        self._observe(finished, dead, result, time.perf_counter() - started)
        return result

    def _observe(
        self, finished: list[Record], dead: list[DeadLetter], result: BatchResult, seconds: float
    ) -> None:
        m = self.metrics
        if m is None:
            return
        now = time.time()
        for rec in finished:
            for topic, type_, outcome, produced, occurred in rec.outcomes:
                m.events.labels(topic, type_, outcome).inc()
                if outcome == "applied":
                    if produced is not None:
                        m.latency.observe(max(0.0, now - produced))
                    m.event_age.observe(max(0.0, now - occurred))
        for letter in dead:
            topic = self._contract_topic.get(letter.source.topic, letter.source.topic)
            m.events.labels(topic, "unknown", "dead_lettered").inc()
            m.dead_letters.labels(topic, letter.field).inc()
        for alert in result.alerts_raised:
            m.alerts.labels(alert.rule, alert.severity).inc()
        m.scores_published.inc(result.scores_published)
        m.write_conflicts.inc(result.conflicts)
        m.batch_seconds.observe(seconds)
        for partition, mark in self.watermarks.items():
            m.watermark.labels(str(partition)).set(mark)

    def _apply_events(
        self, rec: Record, items: list[tuple[Incoming, Event]], out: Outputs, result: BatchResult
    ) -> bool:
        """Fold a customer's events of this batch, in order, into its record."""
        policy, refresh = self.policy, self.settings.reevaluate_every_seconds
        standing = rec.standing()
        changed = False
        last_health = None
        for msg, event in items:
            topic = self._contract_topic.get(msg.topic, msg.topic)
            tp = f"{TOPIC_CODES.get(topic, msg.topic + ':')}{msg.partition}"

            def outcome(
                name: str, msg: Incoming = msg, event: Event = event, topic: str = topic
            ) -> None:
                rec.outcomes.append((topic, event.TYPE, name, msg.timestamp, event.occurred_at))

            if msg.offset <= rec.offsets.get(tp, -1):
                result.duplicates += 1  # redelivered after a crash: already in this record
                outcome("redelivered")
                continue
            rec.offsets[tp] = msg.offset
            rec.partition = msg.partition
            changed = True
            # Stream time passed due moments before this event: evaluate them first, as the
            # timer would have when living through the stream, so a replay raises the same alerts
            caught = catch_up(standing, event.occurred_at, policy, refresh)
            self._raised(caught, out, result)
            self._shadow(rec, caught, out)
            standing, last_health = caught.standing, caught.health or last_health
            step = on_event(standing, event, policy, refresh)
            if step is None:
                result.duplicates += 1  # the same event again, or one for a forgotten ticket
                outcome("duplicate")
                continue
            result.applied += 1
            outcome("applied")
            rec.facts.extend(facts(standing.state, step.standing.state, event))
            self._raised(step, out, result)
            self._shadow(rec, step, out)
            standing, last_health = step.standing, step.health or last_health
        rec.settle(standing)
        if last_health is not None:
            self._record_health(rec, last_health, out)
        return changed

    def _raised(self, step: Step, out: Outputs, result: BatchResult) -> None:
        for alert in step.raised:
            out.alerts.append((alert.customer_id, encode(alert_record(alert))))
            result.alerts_raised.append(alert)

    def _record_health(self, rec: Record, health: HealthScore, out: Outputs) -> None:
        previous = rec.published[0] if rec.published else None
        rec.evaluated = (health.as_of, health.score, health.band, previous)
        if self._moved(rec.published, health):
            rec.published = (health.score, health.band)
            out.scores.append((rec.customer_id, encode(health_record(health, previous))))

    def _moved(self, published: tuple[float, str] | None, health: HealthScore) -> bool:
        """Is the score worth publishing against the last one published (score, band)?"""
        return (
            published is None
            or abs(health.score - published[0]) >= self.settings.publish_min_step
            or health.band != published[1]
        )

    def _shadow(self, rec: Record, step: Step, out: Outputs) -> None:
        """Score the candidate policy at each of the live policy's evaluations in `step`, from
        the same state, with its own alert memory; publish to the shadow topics only."""
        if self.shadow is not None:
            for at in step.evaluated:
                self._shadow_at(rec, step.standing.state, self.shadow, at, out)

    def _shadow_at(
        self, rec: Record, state: CustomerState, shadow: Policy, at: float, out: Outputs
    ) -> None:
        memory = rec.shadow_memory
        health = score(state, shadow, at, memory.band)
        if health is None:
            return
        previous = memory.score
        memory, raised = evaluate(memory, state, health, shadow, at)
        rec.shadow_memory = memory
        for alert in raised:
            out.shadow_alerts.append((alert.customer_id, encode(alert_record(alert))))
        if self._moved(rec.shadow_published, health):
            rec.shadow_published = (health.score, health.band)
            out.shadow_scores.append((rec.customer_id, encode(health_record(health, previous))))

    async def _publish(self, outputs: Outputs) -> None:
        if outputs:
            await self.publisher.publish(outputs)

    # --- the timer path ------------------------------------------------------------------

    async def tick(self, partitions: Iterable[int], limit: int = 500) -> BatchResult:
        """Re-evaluate customers whose due time stream time has passed, at their due time;
        keep going, `limit` customers a round trip, until none is due (a customer due again
        before stream time is evaluated again in a later round)."""
        result = BatchResult()
        lateness = self.settings.allowed_lateness_seconds
        for partition in sorted(set(partitions)):
            mark = await self._redis("watermark", self.store.watermark, partition)
            if mark is None:
                continue
            async with self.partition_lock(partition):
                while await self._tick_round(partition, mark - lateness, limit, result):
                    pass
        return result

    async def _tick_round(
        self, partition: int, until: float, limit: int, result: BatchResult
    ) -> bool:
        """One round trip of the timer on one partition; False when there was nothing to do."""
        due = await self._redis("due", self.store.due, partition, until, limit)
        if not due:
            return False
        records = await self._redis("load", self.store.load_many, [c for c, _ in due])
        outputs = Outputs()
        changed = []
        fixes: dict[str, float | None] = {}
        for cid, _entry in due:
            rec = records[cid]
            if rec.state is None or rec.due is None:
                fixes[cid] = None
            elif rec.due > until:
                fixes[cid] = rec.due  # the index ran early; the record holds the truth
            else:
                step = catch_up(
                    rec.standing(), until, self.policy, self.settings.reevaluate_every_seconds
                )
                rec.settle(step.standing)
                self._raised(step, outputs, result)
                self._shadow(rec, step, outputs)
                if step.health is not None:
                    self._record_health(rec, step.health, outputs)
                changed.append(rec)
        await self._redis("due", self.store.set_due, partition, fixes)
        await self._publish(outputs)
        conflicts = await self._redis("save", self.store.save_many, changed)
        result.conflicts += len(conflicts)  # the event path won; the next round looks again
        result.scores_published += len(outputs.scores)
        saved = [r for r in changed if r.customer_id not in conflicts]
        # their entries were at or before `until`: set them to the new due times exactly (after
        # the compare-and-set, so an entry never runs later than the record stored)
        await self._redis(
            "due", self.store.set_due, partition, {r.customer_id: r.due for r in saved}
        )
        await self._redis("segments", self.store.record_aggregates, saved)
        if self.metrics is not None:
            self.metrics.reevaluations.inc(len(saved))
            self.metrics.scores_published.inc(len(outputs.scores))
            for alert in result.alerts_raised:
                self.metrics.alerts.labels(alert.rule, alert.severity).inc()
        result.alerts_raised.clear()
        return bool(saved or fixes)
