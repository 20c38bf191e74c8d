"""The batch plumbing between Faust's consumer and the engine (no broker needed)."""

from __future__ import annotations

import asyncio
from typing import Any

from faust.types import TP

from stream.batching import BatchQueue, Fetched, PartitionQueues
from stream.engine import Incoming


class Marker:
    """Stands in for the Faust message that represents a batch of one partition."""

    def __init__(self, tp: TP) -> None:
        self.tp = tp


def fetched(topic: str, partition: int, offsets: list[int]) -> Fetched:
    tp = TP(topic, partition)
    batch = Fetched()
    batch.messages = [Incoming(topic, partition, o, b"k", b"{}", 1.0) for o in offsets]
    batch.offsets = {tp: list(offsets)}
    batch.markers = [Marker(tp)]  # type: ignore[list-item]
    return batch


def test_splitting_by_partition_keeps_each_partitions_messages_offsets_and_markers() -> None:
    batch = fetched("usage", 0, [1, 2])
    batch.extend(fetched("usage", 1, [7]))
    batch.extend(fetched("support", 0, [4]))
    parts = batch.by_partition()
    assert sorted(parts) == [0, 1]
    assert [(m.topic, m.offset) for m in parts[0].messages] == [
        ("usage", 1),
        ("usage", 2),
        ("support", 4),
    ]
    assert parts[0].offsets == {TP("usage", 0): [1, 2], TP("support", 0): [4]}
    assert [m.tp for m in parts[1].markers] == [TP("usage", 1)]
    assert sum(len(p) for p in parts.values()) == len(batch)


def test_extending_a_batch_appends_offsets_of_the_same_partition_in_order() -> None:
    batch = fetched("usage", 0, [1, 2])
    batch.extend(fetched("usage", 0, [3]))
    assert batch.offsets == {TP("usage", 0): [1, 2, 3]}
    assert len(batch.markers) == 2


def test_a_queue_joins_waiting_fetches_up_to_the_limit_and_keeps_their_order() -> None:
    async def run() -> list[list[int]]:
        queue = BatchQueue(maxsize=8)
        for start in (0, 3, 6, 9):
            await queue.put(fetched("usage", 0, [start, start + 1, start + 2]))
        first = await queue.get(max_messages=5, within=0.01)
        second = await queue.get(max_messages=100, within=0.01)
        return [[m.offset for m in first.messages], [m.offset for m in second.messages]]

    first, second = asyncio.run(run())
    assert first == [0, 1, 2, 3, 4, 5]  # whole fetches: at least the limit, never split
    assert second == [6, 7, 8, 9, 10, 11]


def test_a_queue_waits_at_most_within_for_more_fetches() -> None:
    async def run() -> tuple[int, float]:
        queue = BatchQueue(maxsize=2)
        await queue.put(fetched("usage", 0, [1]))
        loop = asyncio.get_running_loop()
        started = loop.time()
        batch = await queue.get(max_messages=100, within=0.05)
        return len(batch), loop.time() - started

    size, waited = asyncio.run(run())
    assert size == 1
    assert waited >= 0.04


def test_partition_queues_route_each_partition_to_its_own_queue_and_announce_it_once() -> None:
    async def run() -> tuple[list[int], dict[int, list[Any]]]:
        queues = PartitionQueues(maxsize=4)
        both = fetched("usage", 0, [1])
        both.extend(fetched("usage", 3, [5]))
        await queues.put(both)
        await queues.put(fetched("survey", 3, [9]))
        announced = [queues.new.get_nowait() for _ in range(queues.new.qsize())]
        got = {
            p: [(m.topic, m.offset) for m in (await q.get(100, 0.0)).messages]
            for p, q in queues.queues.items()
        }
        return announced, got

    announced, got = asyncio.run(run())
    assert announced == [0, 3]
    assert got == {0: [("usage", 1)], 3: [("usage", 5), ("survey", 9)]}
