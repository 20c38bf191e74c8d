"""The worker's loops (stream.worker.loops) on their own: what a batch goes through, how a
message that breaks the engine is isolated, and the timer's rules. The engine, the merges and
the consumer are stand-ins that record what the loop asked of them; the engine itself is
tested in test_fold.py and against the real services in tests/integration."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from stream.messages import DeadLetter, Decoded, Incoming
from stream.worker.batching import Batch
from stream.worker.engine import BatchResult, Outputs
from stream.worker.loops import Ingest, Reevaluation


def item(offset: int) -> Decoded:
    msg = Incoming("usage-events", 0, offset, b"acme", b"{}", None)
    return Decoded(msg, DeadLetter(msg, "stand-in", "event"))


class Publisher:
    def __init__(self) -> None:
        self.published: list[Outputs] = []

    async def publish(self, outputs: Outputs) -> None:
        self.published.append(outputs)


class Engine:
    """Fails any batch holding an offset in `poison`; records the batches it processed."""

    def __init__(self, poison: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.poison = poison
        self.processed: list[list[int]] = []
        self.publisher = Publisher()
        self.locks: dict[int, asyncio.Lock] = {}

    def partition_lock(self, partition: int) -> asyncio.Lock:
        return self.locks.setdefault(partition, asyncio.Lock())

    async def process_decoded(self, batch: Sequence[Decoded]) -> BatchResult:
        offsets = [d.message.offset for d in batch]
        if self.poison & set(offsets):
            raise RuntimeError("boom")
        self.processed.append(offsets)
        return BatchResult(applied=len(offsets))


class Merges:
    def __init__(self, batches: list[Batch]) -> None:
        self.new: asyncio.Queue[int] = asyncio.Queue()
        self.batches = batches

    async def next_batch(self, partition: int, most: int, within: float) -> Batch:
        if not self.batches:
            await asyncio.Event().wait()  # no more: wait as the real merge does
        return self.batches.pop(0)


class Consumer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.log: list[tuple[str, list[int], int]] = []

    def track_batch(self, batch: Batch) -> None:
        done = len(self.engine.processed)
        self.log.append(("track", [d.message.offset for d in batch.items], done))

    def ack_batch(self, batch: Batch) -> None:
        done = len(self.engine.processed)
        self.log.append(("ack", [d.message.offset for d in batch.items], done))


def test_a_batch_is_tracked_processed_and_only_then_acknowledged() -> None:
    engine = Engine()
    merges = Merges([Batch(items=[item(1), item(2)]), Batch(items=[item(3)])])
    consumer = Consumer(engine)
    ingest = Ingest(engine, merges, consumer, most=100, within=0.1)

    async def drain_two() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await ingest.drain(0)

    asyncio.run(drain_two())
    assert engine.processed == [[1, 2], [3]]
    assert consumer.log == [
        ("track", [1, 2], 0),
        ("ack", [1, 2], 1),
        ("track", [3], 1),
        ("ack", [3], 2),
    ]


def test_a_message_that_breaks_the_engine_is_dead_lettered_and_the_rest_processed() -> None:
    engine = Engine(poison={2})
    ingest = Ingest(engine, Merges([]), Consumer(engine), most=100, within=0.1)
    asyncio.run(ingest.handle([item(1), item(2), item(3)]))
    assert engine.processed == [[1], [3]]
    [outputs] = engine.publisher.published
    [letter] = outputs.dead
    assert letter.source.offset == 2
    assert letter.error == "internal: RuntimeError('boom')"
    assert letter.field == "internal"


class Ticks:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.partitions: list[set[int]] = []

    async def tick(self, partitions: set[int], limit: int = 500) -> BatchResult:
        if self.fail:
            raise RuntimeError("redis went away")
        self.partitions.append(partitions)
        return BatchResult()


def test_the_timer_scores_the_partitions_owned_now() -> None:
    engine = Ticks()
    asyncio.run(Reevaluation(engine, lambda: False, lambda: {0, 3}).tick())
    assert engine.partitions == [{0, 3}]


def test_the_timer_waits_while_partitions_move() -> None:
    engine = Ticks()
    asyncio.run(Reevaluation(engine, lambda: True, lambda: {0}).tick())
    assert engine.partitions == []


def test_a_failed_tick_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    engine = Ticks(fail=True)
    timer = Reevaluation(engine, lambda: False, lambda: {0})
    asyncio.run(timer.tick())
    engine.fail = False
    asyncio.run(timer.tick())
    assert "re-evaluation tick failed" in caplog.text
    assert engine.partitions == [{0}]
