"""The worker's loops, as named objects `stream.app` starts: `Ingest` (the input topics, a
batch at a time per partition number) and `Reevaluation` (the stream-time timer). The third,
the Alertmanager forwarder, is `stream.worker.alertmanager.Forwarder`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from stream.messages import DeadLetter, Decoded
from stream.worker.batching import Batch
from stream.worker.engine import BatchResult, Outputs, Publisher

log = logging.getLogger(__name__)


class Batches(Protocol):
    """Where batches come from (`stream.worker.batching`): merged partitions, and the
    consumer's bookkeeping of the batches in flight."""

    new: asyncio.Queue[int]

    async def next_batch(self, partition: int, most: int, within: float) -> Batch: ...


class Acks(Protocol):
    def track_batch(self, batch: Batch) -> None: ...

    def ack_batch(self, batch: Batch) -> None: ...


class Processing(Protocol):
    """What the loop needs of the engine (`stream.worker.engine.Engine`)."""

    publisher: Publisher

    def partition_lock(self, partition: int) -> asyncio.Lock: ...

    async def process_decoded(self, batch: Sequence[Decoded]) -> BatchResult: ...


class Ingest:
    """The engine's agent: a task per partition number (the input topics are co-partitioned,
    so a customer's events all arrive on one partition number), overlapping their round trips.
    A batch is acknowledged only once published and stored."""

    def __init__(
        self, engine: Processing, merges: Batches, consumer: Acks, most: int, within: float
    ) -> None:
        self.engine = engine
        self.merges = merges
        self.consumer = consumer
        self.most = most
        self.within = within

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            while True:
                group.create_task(self.drain(await self.merges.new.get()))

    async def drain(self, partition: int) -> None:
        """One partition number's messages in merged event-time order, a batch at a time."""
        while True:
            batch = await self.merges.next_batch(partition, self.most, self.within)
            self.consumer.track_batch(batch)
            async with self.engine.partition_lock(partition):
                await self.handle(batch.items)
            self.consumer.ack_batch(batch)

    async def handle(self, batch: Sequence[Decoded]) -> None:
        """Process a batch; an unexpected error isolates the message that causes it, which
        goes to the dead-letter topic with the error as its reason."""
        try:
            await self.engine.process_decoded(batch)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("batch failed; retrying its messages one by one")
            for item in batch:
                msg = item[0]
                try:
                    await self.engine.process_decoded([item])
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("message %s[%s]@%s failed", msg.topic, msg.partition, msg.offset)
                    letter = DeadLetter(msg, f"internal: {exc!r}", "internal")
                    await self.engine.publisher.publish(Outputs(dead=[letter]))


class Ticking(Protocol):
    async def tick(self, partitions: Any, limit: int = 500) -> BatchResult: ...


class Reevaluation:
    """The timer: the customers that became due in the partitions this worker owns are scored
    again, even with no event at all. Skipped while partitions move; a failed tick is logged
    and the next one runs."""

    def __init__(
        self,
        engine: Ticking,
        rebalancing: Callable[[], bool],
        assigned: Callable[[], set[int]],
    ) -> None:
        self.engine = engine
        self.rebalancing = rebalancing
        self.assigned = assigned

    async def tick(self) -> None:
        if self.rebalancing():
            return
        try:
            await self.engine.tick(self.assigned())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("re-evaluation tick failed")
