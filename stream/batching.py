"""Whole fetches from Faust's consumer, for topics whose agent works on batches.

Faust hands every message to its streams one at a time: for each message the consumer's drain
loop awaits ``wait_first(callback(message), suspend_flow.wait())``, which wraps both in tasks and
waits on them; the topic decodes the message into an ``Event`` and queues it; the stream wraps it
again before ``take`` gathers it into a list; and each message is tracked, reported to every
sensor and acknowledged on its own. On a 2-core machine that path tops out near 13,000
messages per second with an agent that does nothing, about 2.5% of what the Kafka client
delivers (``python -m bench.faust_ceiling`` measures it; ``docs/benchmarks.md`` has the numbers).

The health engine works on batches anyway, so for its input topics the consumer below hands each
fetch over as one :class:`Fetched` batch of plain tuples, and keeps the rest of Faust: group
membership and rebalancing, flow control, offset bookkeeping and commits, the producer, timers
and the web server. Per batch and partition one Faust ``Message`` stands for the batch in
Faust's set of unacknowledged messages, so a rebalance still waits for batches in flight
(``stream_wait_empty``); acknowledging a batch records all its offsets in Faust's own ledger,
from which Faust commits as it does for a stream's acks. Faust's sensors (its own monitor) see
one message per batch and partition; the engine's Prometheus metrics count every event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

from stream.engine import Incoming


@dataclass
class Fetched:
    """Messages of one or more fetches, in fetch order within each partition."""

    messages: list[Incoming] = field(default_factory=list)
    offsets: dict[TP, list[int]] = field(default_factory=dict)
    markers: list[Message] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.messages)

    def by_partition(self) -> dict[int, Fetched]:
        """Split into one batch per partition number (co-partitioned topics share a number)."""
        parts: dict[int, Fetched] = {}
        for message in self.messages:
            part = parts.get(message.partition)
            if part is None:
                part = parts[message.partition] = Fetched()
            part.messages.append(message)
        for tp, offsets in self.offsets.items():
            parts[tp.partition].offsets[tp] = offsets
        for marker in self.markers:
            parts[marker.tp.partition].markers.append(marker)
        return parts

    def extend(self, other: Fetched) -> None:
        self.messages.extend(other.messages)
        for tp, offsets in other.offsets.items():
            self.offsets.setdefault(tp, []).extend(offsets)
        self.markers.extend(other.markers)


BatchSink = Callable[[Fetched], Awaitable[None]]


class BatchingConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer; topics with a batch sink get whole fetches, others as usual."""

    batch_sinks: dict[str, BatchSink]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_sinks = {}

    async def _drain_messages(self, fetcher: Any) -> None:
        callback = self.callback
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        read_offset = self._read_offset
        acks_enabled_for = self.app.topics.acks_enabled_for
        to_message = self._to_message
        monitor = self.app.monitor
        sinks = self.batch_sinks
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                records, active = await self._wait_next_records(1.0)
                await self.sleep(0)
                if not records or self.should_stop or not self.flow_active:
                    continue
                generation = self.app.consumer_generation_id
                batches: dict[str, Fetched] = {}
                singles: list[Message] = []
                for tp, recs in records.items():
                    if (
                        active is not None
                        and tp not in active
                        and tp not in self._buffered_partitions
                    ):
                        continue
                    if self.app.consumer_generation_id != generation:
                        break  # a rebalance began: what was fetched is fetched again
                    monitor.track_tp_end_offset(tp, self.highwater(tp))
                    topic, partition = tp.topic, tp.partition
                    last = read_offset[tp]
                    gaps = acks_enabled_for(topic)
                    if topic not in sinks:
                        for record in recs:
                            if last is None or record.offset >= last:
                                singles.append(to_message(tp, record))
                                last = record.offset
                        read_offset[tp] = last
                        continue
                    fetched = batches.setdefault(topic, Fetched())
                    append = fetched.messages.append
                    offsets: list[int] = []
                    tail = None
                    for record in recs:
                        offset = record.offset
                        if last is not None and offset < last:
                            continue  # read before: Faust drops these too
                        if gaps and last and offset - last > 1:
                            await self._add_gap(tp, last + 1, offset)
                        stamp = record.timestamp
                        append(
                            Incoming(
                                topic,
                                partition,
                                offset,
                                record.key,
                                record.value,
                                stamp / 1000.0 if stamp is not None else None,
                            )
                        )
                        offsets.append(offset)
                        last, tail = offset, record
                    if tail is not None:
                        marker = to_message(tp, tail)
                        self.track_message(marker)
                        fetched.markers.append(marker)
                        fetched.offsets[tp] = offsets
                    read_offset[tp] = last
                for topic, batch in batches.items():
                    if batch.messages:
                        await self.wait_first(sinks[topic](batch), self.suspend_flow.wait())
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

    def ack_batch(self, batch: Fetched) -> None:
        """Acknowledge a processed batch: Faust may now commit past its offsets."""
        with ack_lock:
            for tp, offsets in batch.offsets.items():
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

    def _new_transport(self) -> Any:
        return BatchingTransport(self.conf.broker_consumer, self)

    @property
    def batching_consumer(self) -> BatchingConsumer:
        return cast(BatchingConsumer, self.consumer)

    def batch_topics(self, topics: Sequence[str], maxsize: int = 4) -> BatchQueue:
        """Subscribe to `topics`; their fetches arrive, whole, on the returned queue."""
        queue = BatchQueue(maxsize)
        self._subscribe(topics, queue.put)
        return queue

    def partitioned_batch_topics(self, topics: Sequence[str], maxsize: int = 4) -> PartitionQueues:
        """Subscribe to co-partitioned `topics`; their fetches arrive split by partition."""
        queues = PartitionQueues(maxsize)
        self._subscribe(topics, queues.put)
        return queues

    def _subscribe(self, topics: Sequence[str], sink: BatchSink) -> None:
        self.topics.add(self.topic(*topics, key_type=bytes, value_type=bytes))
        for name in topics:
            self.batching_consumer.batch_sinks[name] = sink


class PartitionQueues:
    """One queue of fetched batches per partition number, so each partition's batches are
    processed in order by one task while the partitions' Redis and Kafka round trips overlap."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.queues: dict[int, BatchQueue] = {}
        self.new: asyncio.Queue[int] = asyncio.Queue()

    async def put(self, batch: Fetched) -> None:
        for partition, part in batch.by_partition().items():
            queue = self.queues.get(partition)
            if queue is None:
                queue = self.queues[partition] = BatchQueue(self.maxsize)
                self.new.put_nowait(partition)
            await queue.put(part)


class BatchQueue:
    """Fetched batches waiting for the agent; bounded, so a slow agent slows the fetcher."""

    def __init__(self, maxsize: int) -> None:
        self._queue: asyncio.Queue[Fetched] = asyncio.Queue(maxsize)

    async def put(self, batch: Fetched) -> None:
        await self._queue.put(batch)

    async def get(self, max_messages: int, within: float) -> Fetched:
        """The next batch: one fetch, joined by more arriving within `within` seconds, until
        it holds at least `max_messages`."""
        batch = await self._queue.get()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(batch) < max_messages:
            try:
                batch.extend(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.extend(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch
