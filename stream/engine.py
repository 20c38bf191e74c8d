"""The engine: apply a batch of input messages to customer records, score, alert, publish.

Independent of Faust: the worker hands it batches and a publisher. Per batch: decode, one
pipelined read of the customers' records, pure scoring, publish the outputs (awaiting the
broker's acks), one pipelined compare-and-set write. Only then may the caller ack the offsets,
so a crash at any point redelivers the batch, and redelivered messages are recognised by their
offsets (kept per customer and topic-partition) and skipped.
"""

from __future__ import annotations

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
from scoring.schedule import next_due
from scoring.segments import facts
from scoring.serialize import alert_record, health_record, rfc3339
from scoring.state import apply, too_late
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

    def __bool__(self) -> bool:
        return bool(self.scores or self.alerts or self.dead)


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
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.store = store
        self.publisher = publisher
        self.metrics = metrics
        self.positions: dict[tuple[str, int], int] = {}  # last offset processed per topic-partition
        self._contract_topic = settings.input_topics
        self.watermarks: dict[int, float] = {}

    # --- decoding ------------------------------------------------------------------------

    def decode(
        self, batch: Iterable[Incoming]
    ) -> tuple[list[tuple[Incoming, Event]], list[DeadLetter]]:
        """Split a batch into decoded events and dead letters."""
        good: list[tuple[Incoming, Event]] = []
        dead: list[DeadLetter] = []
        for msg in batch:
            try:
                event = decode_event(
                    msg.value or b"",
                    topic=self._contract_topic.get(msg.topic),
                    key=msg.key,
                    max_bytes=self.settings.max_message_bytes,
                )
            except DecodeError as exc:
                dead.append(DeadLetter(msg, str(exc), exc.field))
                continue
            good.append((msg, event))
        return good, dead

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
        """Apply one batch; return only once its effects are published and stored."""
        started = time.perf_counter()
        result = BatchResult()
        good, dead = self.decode(batch)
        by_customer: dict[str, list[tuple[Incoming, Event]]] = {}
        for msg, event in good:
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
        for msg in batch:
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
        state = rec.current_state()
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
            # Stream time passed due checks before this event: make them first, as the timer
            # would have when living through the stream, so a replay raises the same alerts.
            while (
                rec.due is not None
                and state.clock is not None
                and state.clock < rec.due <= event.occurred_at
            ):
                rec.state = state
                last_health = self._evaluate_at(rec, rec.due, out, result) or last_health
            if too_late(state, event, self.policy):
                out.dead.append(self._too_late(msg, event, state.clock or 0.0))
                result.dead_lettered += 1
                outcome("too_late")
                continue
            after = apply(state, event, self.policy)
            if after is state:
                result.duplicates += 1  # the same event_id again
                outcome("duplicate")
                continue
            result.applied += 1
            outcome("applied")
            rec.facts.extend(facts(state, after, event))
            state = after
            now = state.clock if state.clock is not None else event.occurred_at
            health = score(state, self.policy, now, rec.alerts.band)
            if health is None:
                continue
            rec.alerts, raised = evaluate(rec.alerts, state, health, self.policy, now)
            for alert in raised:
                out.alerts.append((alert.customer_id, encode(alert_record(alert))))
                result.alerts_raised.append(alert)
            last_health = health
        rec.state = state
        if last_health is not None:
            self._record_health(rec, last_health, out)
        if changed:
            now = state.clock if state.clock is not None else 0.0
            rec.due = next_due(state, self.policy, now, self.settings.reevaluate_every_seconds)
        return changed

    def _too_late(self, msg: Incoming, event: Event, clock: float) -> DeadLetter:
        days = self.policy.dedupe_window / 86_400
        return DeadLetter(
            msg,
            f"occurred_at: must be within {days:g} days of the customer's latest event "
            f"({rfc3339(clock)}) to be applied exactly once, got {rfc3339(event.occurred_at)}",
            "occurred_at",
        )

    def _record_health(self, rec: Record, health: HealthScore, out: Outputs) -> None:
        previous = rec.published[0] if rec.published else None
        rec.evaluated = (health.as_of, health.score, health.band, previous)
        moved = (
            rec.published is None
            or abs(health.score - rec.published[0]) >= (self.settings.publish_min_step)
            or health.band != rec.published[1]
        )
        if moved:
            rec.published = (health.score, health.band)
            out.scores.append((rec.customer_id, encode(health_record(health, previous))))

    async def _publish(self, outputs: Outputs) -> None:
        if outputs:
            await self.publisher.publish(outputs)

    # --- the timer path ------------------------------------------------------------------

    async def tick(self, partitions: Iterable[int], limit: int = 500) -> BatchResult:
        """Re-evaluate customers whose due time stream time has passed, at their due time."""
        result = BatchResult()
        lateness = self.settings.allowed_lateness_seconds
        for partition in sorted(set(partitions)):
            mark = await self._redis("watermark", self.store.watermark, partition)
            if mark is None:
                continue
            due = await self._redis("due", self.store.due, partition, mark - lateness, limit)
            if not due:
                continue
            records = await self._redis("load", self.store.load_many, [c for c, _ in due])
            outputs = Outputs()
            changed = []
            fixes: dict[str, float | None] = {}
            for cid, _entry in due:
                rec = records[cid]
                if rec.state is None or rec.due is None:
                    fixes[cid] = None
                elif rec.due > mark - lateness:
                    fixes[cid] = rec.due  # the index ran early; the record holds the truth
                else:
                    self._evaluate_at(rec, rec.due, outputs, result, record=True)
                    changed.append(rec)
            await self._redis("due", self.store.set_due, partition, fixes)
            await self._publish(outputs)
            conflicts = await self._redis("save", self.store.save_many, changed)
            result.conflicts += len(conflicts)  # the event path won; the next tick looks again
            result.scores_published += len(outputs.scores)
            saved = [r for r in changed if r.customer_id not in conflicts]
            await self._redis("segments", self.store.record_aggregates, saved)
            if self.metrics is not None:
                self.metrics.reevaluations.inc(len(saved))
                self.metrics.scores_published.inc(len(outputs.scores))
                for alert in result.alerts_raised:
                    self.metrics.alerts.labels(alert.rule, alert.severity).inc()
                result.alerts_raised.clear()
        return result

    def _evaluate_at(
        self, rec: Record, at: float, out: Outputs, result: BatchResult, record: bool = False
    ) -> HealthScore | None:
        """Evaluate a customer at event time `at` without an event; schedule the next check."""
        state = rec.current_state()
        now = max(at, state.clock or at)
        health = score(state, self.policy, now, rec.alerts.band)
        if health is not None:
            rec.alerts, raised = evaluate(rec.alerts, state, health, self.policy, now)
            for alert in raised:
                out.alerts.append((alert.customer_id, encode(alert_record(alert))))
                result.alerts_raised.append(alert)
            if record:
                self._record_health(rec, health, out)
        rec.due = next_due(state, self.policy, now, self.settings.reevaluate_every_seconds)
        return health
