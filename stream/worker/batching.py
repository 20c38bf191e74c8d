"""Whole fetches from Faust's consumer, merged in event time, for the engine's input topics.

Faust hands every message to its streams one at a time: for each message the consumer's drain
loop awaits ``wait_first(callback(message), suspend_flow.wait())``, which wraps both in tasks and
waits on them; the topic decodes the message into an ``Event`` and queues it; the stream wraps it
again before ``take`` gathers it into a list; and each message is tracked, reported to every
sensor and acknowledged on its own. On a 2-core machine that path tops out near 13,000
messages per second with an agent that does nothing, about 2.5% of what the Kafka client
delivers (``python -m bench.faust_ceiling`` measures it; ``docs/benchmarks.md`` has the numbers).

The health engine works on batches anyway, so for its input topics the consumer below hands each
fetch, decoded, to a :class:`stream.worker.alignment.Merge` per partition number, which releases the
co-partitioned topics' messages in event-time order; the rest of Faust stays: group membership
and rebalancing, flow control, offset bookkeeping and commits, the producer, timers and the web
server. Each batch taken from a merge is one Faust ``Message`` per topic-partition in Faust's
set of unacknowledged messages while the engine works on it, so a rebalance waits for batches
in flight (``stream_wait_empty``); acknowledging it records all its offsets in Faust's own
ledger, from which Faust commits as it does for a stream's acks. Messages still buffered in a
merge are not acknowledged: a rebalance drops them (``stop_flow``), and they are fetched again
from the committed offsets. Faust's sensors see one message per batch and topic-partition;
the engine's Prometheus metrics count every event.

Overrides of Faust's internals, written against faust-streaming 0.15.3 (pinned in
``pyproject.toml``: ``FAUST_VERSION``) and aiokafka 0.14 (``tests/unit/test_batching.py``
checks them, and that the installed Faust is the pinned one): ``Consumer._drain_messages``
(the fetch loop),
``Consumer.stop_flow`` (also drops merged buffers), the fetch position and highwater read
from aiokafka's subscription state (``fetch_lag``), and the fetch wait and size Faust gives
aiokafka's consumer (``AIOKafkaConsumerThread._create_worker_consumer``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import faust
from aiokafka.errors import CorruptRecordException, UnsupportedCodecError
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

from stream.messages import Decoded, Incoming
from stream.settings import Settings
from stream.worker.alignment import Merge, MergeLimits

log = logging.getLogger(__name__)
# The faust-streaming release whose `Consumer._drain_messages` and `stop_flow` are replaced here
FAUST_VERSION = "0.15.3"
# What a fetch raises when its records cannot be decoded.
UNDECODABLE = (UnsupportedCodecError, CorruptRecordException)


@dataclass
class Batch:
    """Messages taken from one partition number's merge, with what acknowledging them needs."""

    items: list[Decoded] = field(default_factory=list)
    markers: list[Message] = field(default_factory=list)
    _offsets: dict[tuple[str, int], list[int]] | None = None  # once taken: see `offsets`

    def __len__(self) -> int:
        return len(self.items)

    def offsets(self) -> dict[tuple[str, int], list[int]]:
        """The offsets of each topic-partition, in order (worked out once: tracking and
        acknowledging both need them, and a batch is not added to once it is tracked)."""
        out = self._offsets
        if out is None:
            out = self._offsets = {}
            for msg, _ in self.items:
                at = (msg.topic, msg.partition)
                found = out.get(at)
                if found is None:
                    out[at] = [msg.offset]
                else:
                    found.append(msg.offset)
        return out


class BatchingConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, whose fetches the broker holds until the app's
    `fetch_min_bytes` have gathered or `fetch_max_wait` has passed, rather than Faust's one
    byte and 1.5 s.

    aiokafka keeps one fetch in flight per broker, and a partition whose fetched records are
    still being consumed is left out of the next one. Live, the next fetch then often asks
    only for partitions with nothing new (a quiet topic): the broker holds it for the whole
    wait, and the busy partitions are not fetched again until it returns. With Faust's 1.5 s,
    one worker offered 10,000 events/s scored them in bursts every 2 s, 1.6-1.9 s after they
    were produced. Answered at the first byte, on the other hand, fetches came back as fast as
    the worker could send them, each with a few records of each partition: at 5,000 events/s
    the worker spent about 89% of a core, against about 64% with fetches held for 256 KiB or
    0.1 s (docs/benchmarks.md)."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        app = cast(BatchingApp, self.app)
        consumer._fetch_max_wait_ms = max(1, round(app.fetch_max_wait * 1000))
        consumer._fetch_min_bytes = app.fetch_min_bytes
        return consumer


class BatchingConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer; topics with a batch sink get whole fetches, others as usual."""

    batch_sinks: dict[str, PartitionMerges]
    fetch_problem: str | None  # why the last fetch could not be decoded, until one succeeds
    on_fetch_error: Callable[[Exception], None] | None
    on_rebalance: Callable[[], None] | None  # told when a rebalance starts (or the flow stops)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_sinks = {}
        self.fetch_problem = None
        self.on_fetch_error = None
        self.on_rebalance = None
        self._fetch_backoff = 0.0

    def _new_consumer_thread(self) -> BatchingConsumerThread:
        return BatchingConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _drain_messages(self, fetcher: Any) -> None:
        callback = self.callback
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        read_offset = self._read_offset
        acks_enabled_for = self.app.topics.acks_enabled_for
        to_message = self._to_message
        monitor = self.app.monitor
        sinks = self.batch_sinks
        new_tuple = tuple.__new__  # one message per call: a named tuple's own __new__ is Python
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                try:
                    records, active = await self._wait_next_records(1.0)
                except UNDECODABLE as exc:
                    await self._undecodable(exc)
                    continue
                self.fetch_problem = None
                self._fetch_backoff = 0.0
                await self.sleep(0)
                if not records or self.should_stop or not self.flow_active:
                    continue
                generation = self.app.consumer_generation_id
                singles: list[Message] = []
                for tp, recs in records.items():
                    if (
                        active is not None
                        and tp not in active
                        and tp not in self._buffered_partitions
                        and tp not in self._paused_partitions
                    ):
                        continue
                    if self.app.consumer_generation_id != generation:
                        break  # a rebalance began: what was fetched is fetched again
                    monitor.track_tp_end_offset(tp, self.highwater(tp))
                    topic, partition = tp.topic, tp.partition
                    last = read_offset[tp]
                    gaps = acks_enabled_for(topic)
                    sink = sinks.get(topic)
                    if sink is None:
                        for record in recs:
                            if last is None or record.offset >= last:
                                singles.append(to_message(tp, record))
                                last = record.offset
                        read_offset[tp] = last
                        continue
                    fetched: list[Incoming] = []
                    for record in recs:
                        offset = record.offset
                        if last is not None and offset < last:
                            continue  # read before: Faust drops these too
                        if gaps and last and offset - last > 1:
                            await self._add_gap(tp, last + 1, offset)
                        stamp = record.timestamp
                        fetched.append(
                            new_tuple(  # Incoming(...) without its Python-level __new__
                                Incoming,
                                (
                                    topic,
                                    partition,
                                    offset,
                                    record.key,
                                    record.value,
                                    stamp / 1000.0 if stamp is not None else None,
                                ),
                            )
                        )
                        last = offset
                    read_offset[tp] = last
                    sink.add(tp, fetched)
                for message in singles:
                    self.track_message(message)
                    await self.wait_first(callback(message), self.suspend_flow.wait())
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise

    async def _undecodable(self, exc: Exception) -> None:
        """A fetch the client cannot decode must not kill the worker: say so, count it, and
        try again with backoff. Nothing is skipped (that would lose its messages): the
        partition resumes once the cause is fixed (the codec installed, the worker restarted)."""
        self.fetch_problem = f"{type(exc).__name__}: {exc}"
        self._fetch_backoff = min(30.0, max(0.5, self._fetch_backoff * 2))
        log.error(
            "cannot decode a fetched batch (%s); retrying in %.1fs, the worker goes on",
            self.fetch_problem,
            self._fetch_backoff,
        )
        if self.on_fetch_error is not None:
            self.on_fetch_error(exc)
        await self.sleep(self._fetch_backoff)

    def stop_flow(self) -> None:
        """Faust stops the flow when a rebalance starts and before it stops: merged messages
        not yet taken are dropped, to be fetched again from the committed offsets once the
        partitions are assigned (Faust then seeks every partition to its committed offset)."""
        super().stop_flow()
        for sink in {id(s): s for s in self.batch_sinks.values()}.values():
            sink.clear()
        if self.on_rebalance is not None:
            self.on_rebalance()

    def fetch_lag(self, tp: TP) -> int | None:
        """Messages of `tp` on the broker not yet handed over by the fetcher (its highwater
        less its position, from aiokafka's subscription state); None while not known."""
        try:
            consumer = self._thread._ensure_consumer()
            state = consumer._subscription.subscription.assignment.state_value(tp)
        except Exception:  # noqa: BLE001 - not started, no subscription, or rebalancing
            return None
        if state is None or state.highwater is None or not state.has_valid_position:
            return None
        return max(0, int(state.highwater) - int(state.position))

    def track_batch(self, batch: Batch) -> None:
        """Track a taken batch as unacknowledged, one Faust message per topic-partition."""
        for (topic, partition), offsets in batch.offsets().items():
            tp = TP(topic, partition)
            marker = Message(topic, partition, offsets[-1], 0.0, 0, None, None, None, None, tp=tp)
            self.track_message(marker)
            batch.markers.append(marker)

    def ack_batch(self, batch: Batch) -> None:
        """Acknowledge a processed batch: Faust may now commit past its offsets."""
        with ack_lock:
            for (topic, partition), offsets in batch.offsets().items():
                tp = TP(topic, partition)
                committed = self._committed_offset[tp]
                if committed is not None:
                    offsets = [o for o in offsets if o >= committed]
                index = self._acked_index[tp]
                fresh = [o for o in offsets if o not in index]
                index.update(fresh)
                self._acked[tp].extend(fresh)
                self._n_acked += len(fresh)
            for marker in batch.markers:
                marker.acked = True
                self._unacked_messages.discard(marker)
        notify(self._waiting_for_ack)


class BatchingTransport(faust_aiokafka.Transport):
    """The aiokafka transport with the batching consumer."""

    Consumer = BatchingConsumer


class BatchingApp(faust.App):
    """A Faust app whose consumer can hand whole fetches to batch agents."""

    # how long the broker may hold a fetch (seconds) for how much data to gather (bytes);
    # `create_app` sets them from the settings, whose defaults they start from
    fetch_max_wait: float = Settings.model_fields["fetch_max_wait_seconds"].default
    fetch_min_bytes: int = Settings.model_fields["fetch_min_bytes"].default

    def _new_transport(self) -> Any:
        return BatchingTransport(self.conf.broker_consumer, self)

    @property
    def batching_consumer(self) -> BatchingConsumer:
        return cast(BatchingConsumer, self.consumer)

    def merged_batch_topics(
        self,
        topics: Mapping[str, int],
        decode: Callable[[list[Incoming]], list[Decoded]],
        limits: MergeLimits,
    ) -> PartitionMerges:
        """Subscribe to co-partitioned `topics` (name -> rank at equal event times); their
        messages arrive decoded and merged in event time, one merge per partition number."""
        merges = PartitionMerges(self.batching_consumer, topics, decode, limits)
        self.topics.add(self.topic(*topics, key_type=bytes, value_type=bytes))
        for name in topics:
            self.batching_consumer.batch_sinks[name] = merges
        return merges


class PartitionMerges:
    """The merges of every partition number, fed by the consumer and drained by one task per
    partition number, so each partition's batches are processed in order while the
    partitions' Redis and Kafka round trips overlap."""

    POLL = 0.05  # seconds between looks at fetch positions while waiting on a lagging input

    def __init__(
        self,
        consumer: BatchingConsumer,
        topics: Mapping[str, int],
        decode: Callable[[list[Incoming]], list[Decoded]],
        limits: MergeLimits,
    ) -> None:
        self.consumer = consumer
        self.topics = dict(topics)
        self.decode = decode
        self.limits = limits
        self.merges: dict[int, Merge] = {}
        self.changed: dict[int, asyncio.Event] = {}
        self.new: asyncio.Queue[int] = asyncio.Queue()

    def merge(self, partition: int) -> Merge:
        found = self.merges.get(partition)
        if found is None:
            consumer = self.consumer

            def lag(topic: str) -> int | None:
                return consumer.fetch_lag(TP(topic, partition))

            def assigned() -> list[str]:
                try:
                    owned = consumer.assignment()
                except Exception:  # noqa: BLE001 - not started or rebalancing: nothing owned
                    return []
                return [
                    tp.topic
                    for tp in owned
                    if tp.partition == partition and tp.topic in self.topics
                ]

            def pause(topic: str, paused: bool) -> None:
                tp = TP(topic, partition)
                if paused:
                    consumer.pause_partitions([tp])
                else:
                    consumer.resume_partitions([tp])

            found = self.merges[partition] = Merge(
                partition,
                self.topics.__getitem__,
                lag,
                assigned,
                self.limits,
                pause,
            )
            self.changed[partition] = asyncio.Event()
            self.new.put_nowait(partition)
        return found

    def add(self, tp: TP, fetched: list[Incoming]) -> None:
        """A fetch of one topic-partition, decoded into its merge."""
        if not fetched:
            return
        self.merge(tp.partition).add(
            tp.topic, self.decode(fetched), asyncio.get_running_loop().time()
        )
        self.changed[tp.partition].set()

    def clear(self) -> None:
        for merge in self.merges.values():
            merge.clear()

    async def next_batch(self, partition: int, most: int, within: float) -> Batch:
        """The next messages of a partition number in merged order: at least one, and up to
        `most`, joined by more arriving within `within` seconds."""
        merge = self.merge(partition)
        changed = self.changed[partition]
        loop = asyncio.get_running_loop()
        batch = Batch()
        deadline: float | None = None
        generation = merge.generation
        while True:
            changed.clear()
            now = loop.time()
            if merge.generation != generation:  # a rebalance dropped the merge's buffers
                batch, deadline, generation = Batch(), None, merge.generation
            taken, waiting = merge.take(most - len(batch), now)
            batch.items.extend(taken)
            if len(batch) >= most:
                return batch
            if batch.items:
                deadline = deadline if deadline is not None else now + within
                if now >= deadline:
                    return batch
                pause = deadline - now
            elif waiting is not None and waiting.until is not None:
                pause = max(0.0, waiting.until - now)
            else:
                pause = 1.0
            if waiting is not None:
                pause = min(pause, self.POLL)  # the lagging input's position moves silently
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), pause)
