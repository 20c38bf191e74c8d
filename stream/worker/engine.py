"""The runner: load customer records, fold a batch into them, publish, save. Thin by design.

Independent of Faust: the worker hands it decoded batches and a publisher. Per batch: one
pipelined read of the customers' records, the pure fold (`stream.worker.fold`), publish the outputs
(awaiting the broker's acks), one pipelined compare-and-set write. Only then may the caller ack
the offsets, so a crash at any point redelivers the batch, and redelivered messages are
recognised by their offsets (kept per customer and topic-partition) and skipped. Customers whose
write lost its compare-and-set (another worker wrote first, during a rebalance) are loaded and
folded again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

from scoring.alerts import Alert
from scoring.policy import Policy
from stream.codec import decode_batch
from stream.messages import DeadLetter, Decoded, Incoming
from stream.metrics import EngineMetrics, observe_many
from stream.settings import Settings
from stream.store import Record, retry_forever
from stream.store.cache import RecordCache
from stream.store.port import Store
from stream.store.views import AlertChanges
from stream.worker.fold import (
    FoldOptions,
    Outputs,
    advance_positions,
    advance_watermarks,
    by_customer,
    fold,
    fold_due,
    tally,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["BatchResult", "DeadLetter", "Decoded", "Engine", "Incoming", "Outputs", "Publisher"]


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
    alerts_held_out: list[Alert] = field(default_factory=list)  # of those raised: not delivered
    conflicts: int = 0


def fold_options(settings: Settings, shadow: Policy | None = None) -> FoldOptions:
    """The fold's options from the worker's settings."""
    return FoldOptions(
        refresh=settings.reevaluate_every_seconds,
        publish_min_step=settings.publish_min_step,
        topics=settings.input_topics,
        every_event=settings.evaluate_every_event,
        shadow=shadow,
        languages=settings.languages(),
    )


class Engine:
    """Apply batches and timer ticks to customer records."""

    def __init__(
        self,
        settings: Settings,
        policy: Policy,
        store: Store,
        publisher: Publisher,
        metrics: EngineMetrics | None = None,
        shadow: Policy | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.shadow = shadow  # a candidate policy scored beside the live one, published apart
        self.options = fold_options(settings, shadow)
        self.store = store
        # the records of this worker's customers, kept between batches (HEALTHSCORE_RECORD_
        # CACHE_SIZE; 0 reads every record from the store each batch)
        self.cache = RecordCache(settings.record_cache_size)
        self.publisher = publisher
        self.metrics = metrics
        self.positions: dict[tuple[str, int], int] = {}  # last offset processed per topic-partition
        self._contract_topic = settings.input_topics
        self.watermarks: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        # told of alerts opened, grown or resolved once stored (the Alertmanager forwarder)
        self.on_alert_changes: Callable[[AlertChanges], None] | None = None

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

    def decode(self, batch: Iterable[Incoming]) -> list[Decoded]:
        """Decode a batch: each message with its event or its dead letter
        (`stream.codec.decode_batch`, compiled)."""
        return decode_batch(batch, self._contract_topic, self.settings.max_message_bytes)

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

    async def _load(self, customer_ids: Iterable[str]) -> dict[str, Record]:
        """The customers' records: those kept in memory, and the others from the store."""
        found, missing = self.cache.take(customer_ids)
        if missing:
            found.update(await self._redis("load", self.store.load_many, missing))
        return found

    async def _aggregate(
        self, records: list[Record], marks: dict[int, float] | None = None
    ) -> None:
        """Update the views of stored records; tell the forwarder what changed in the alerts."""
        changes = await self._redis("segments", self.store.record_aggregates, records, marks)
        if changes and self.on_alert_changes is not None:
            self.on_alert_changes(changes)

    # --- the event path ------------------------------------------------------------------

    async def process(self, batch: Sequence[Incoming]) -> BatchResult:
        """Decode and apply one batch; return only once its effects are published and stored."""
        return await self.process_decoded(self.decode(batch))

    async def process_decoded(self, batch: Sequence[Decoded]) -> BatchResult:
        """Apply one decoded batch, in its order; return only once its effects are published
        and stored."""
        started = time.perf_counter()
        result = BatchResult()
        groups, dead = by_customer(batch)
        advance_watermarks(batch, self.watermarks)
        pending = groups
        first = True
        finished: list[Record] = []
        generation = self.cache.generation
        while pending or first:
            # the records are changed in place from here: any failure before they are stored
            # leaves them out of the cache (they are taken out of it), to be loaded again
            records = await self._load(pending)
            out = fold(records, pending, self.policy, self.options)
            if first:
                out.dead = [*dead, *out.dead]
            await self._publish(out)
            conflicts = await self._redis("save", self.store.save_many, out.changed)
            result.applied += out.applied
            result.duplicates += out.duplicates
            result.alerts_raised.extend(out.raised)
            result.alerts_held_out.extend(out.held_out)
            result.conflicts += len(conflicts)
            result.scores_published += len(out.scores)
            finished.extend(r for r in records.values() if r.customer_id not in conflicts)
            pending, first = {cid: groups[cid] for cid in conflicts}, False
        # and the events too late to tell from duplicates, which the fold dead-lettered
        result.dead_lettered += len(dead) + sum(
            o[2] == "dead_lettered" for r in finished for o in r.outcomes
        )
        await self._aggregate([r for r in finished if r.state is not None], dict(self.watermarks))
        self.cache.keep(finished, generation)
        advance_positions(batch, self.positions)
        self._observe(finished, dead, result, time.perf_counter() - started)
        return result

    def _observe(
        self, finished: list[Record], dead: list[DeadLetter], result: BatchResult, seconds: float
    ) -> None:
        m = self.metrics
        if m is None:
            return
        counts, latencies, ages, too_late = tally(finished, time.time())
        for (topic, kind, outcome), n in counts.items():
            m.events.labels(topic, kind, outcome).inc(n)
        for topic in too_late:  # too late to tell from a duplicate
            m.dead_letters.labels(topic, "occurred_at").inc()
        observe_many(m.latency, latencies)
        observe_many(m.event_age, ages)
        for letter in dead:
            topic = self._contract_topic.get(letter.source.topic, letter.source.topic)
            m.events.labels(topic, "unknown", "dead_lettered").inc()
            m.dead_letters.labels(topic, letter.field).inc()
        for alert in result.alerts_raised:
            m.alerts.labels(alert.rule, alert.severity).inc()
        for alert in result.alerts_held_out:
            m.alerts_held_out.labels(alert.rule).inc()
        m.scores_published.inc(result.scores_published)
        m.write_conflicts.inc(result.conflicts)
        m.batch_seconds.observe(seconds)
        for partition, mark in self.watermarks.items():
            m.watermark.labels(str(partition)).set(mark)

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
            until = mark - lateness
            # A look first, without the lock: taking it waits for the partition's batch in
            # flight and holds its next batch back, which live traffic should not pay once a
            # second per partition for the common answer, nothing due
            if not await self._redis("due", self.store.due, partition, until, 1):
                continue
            async with self.partition_lock(partition):
                while await self._tick_round(partition, until, limit, result):
                    pass
        return result

    async def _tick_round(
        self, partition: int, until: float, limit: int, result: BatchResult
    ) -> bool:
        """One round trip of the timer on one partition; False when there was nothing to do."""
        due = await self._redis("due", self.store.due, partition, until, limit)
        if not due:
            return False
        generation = self.cache.generation
        records = await self._load([c for c, _ in due])
        out, fixes = fold_due(records, until, self.policy, self.options)
        await self._redis("due", self.store.set_due, partition, fixes)
        await self._publish(out)
        conflicts = await self._redis("save", self.store.save_many, out.changed)
        result.conflicts += len(conflicts)  # the event path won; the next round looks again
        result.scores_published += len(out.scores)
        saved = [r for r in out.changed if r.customer_id not in conflicts]
        # their entries were at or before `until`: set them to the new due times exactly (after
        # the compare-and-set, so an entry never runs later than the record stored)
        await self._redis(
            "due", self.store.set_due, partition, {r.customer_id: r.due for r in saved}
        )
        await self._aggregate(saved)
        self.cache.keep((r for r in records.values() if r.customer_id not in conflicts), generation)
        if self.metrics is not None:
            self.metrics.reevaluations.inc(len(saved))
            self.metrics.scores_published.inc(len(out.scores))
            for alert in out.raised:
                self.metrics.alerts.labels(alert.rule, alert.severity).inc()
            for alert in out.held_out:
                self.metrics.alerts_held_out.labels(alert.rule).inc()
        return bool(saved or fixes)
