"""The batch plumbing between Faust's consumer and the engine (no broker needed)."""

from __future__ import annotations

import asyncio
from typing import Any

from faust.types import TP

from scoring import events as ev
from stream.messages import DeadLetter, Decoded, Incoming
from stream.worker.alignment import MergeLimits
from stream.worker.batching import Batch, BatchingConsumer, PartitionMerges

USAGE, SUPPORT = "usage-events", "support-events"


class FakeConsumer:
    """The parts of the batching consumer a merge uses: assignment, lag, pause and resume."""

    def __init__(self, assigned: set[TP]) -> None:
        self.assigned = assigned
        self.lags: dict[TP, int | None] = {}
        self.paused: set[TP] = set()

    def assignment(self) -> set[TP]:
        return self.assigned

    def fetch_lag(self, tp: TP) -> int | None:
        return self.lags.get(tp, 0)

    def pause_partitions(self, tps: list[TP]) -> None:
        self.paused.update(tps)

    def resume_partitions(self, tps: list[TP]) -> None:
        self.paused.difference_update(tps)


def decode(msg: Incoming) -> ev.Event | DeadLetter:
    return ev.Session(f"{msg.topic}-{msg.offset}", "c", float(msg.value or b"0"), "u")


def decode_all(msgs: list[Incoming]) -> list[Decoded]:
    """A fetch decoded, as `Engine.decode` does it."""
    return [Decoded(m, decode(m)) for m in msgs]


def messages(topic: str, partition: int, times: list[int], first: int = 0) -> list[Incoming]:
    return [
        Incoming(topic, partition, first + i, b"c", str(t).encode()) for i, t in enumerate(times)
    ]


def merges(consumer: FakeConsumer) -> PartitionMerges:
    return PartitionMerges(
        consumer,  # type: ignore[arg-type]
        {USAGE: 1, SUPPORT: 2},
        decode_all,
        MergeLimits(idle=10.0, tolerance=60.0, most=100),
    )


def test_a_batch_lists_each_topic_partitions_offsets_in_order() -> None:
    batch = Batch(
        [Decoded(m, decode(m)) for m in messages(USAGE, 0, [1, 2]) + messages(SUPPORT, 0, [3])]
    )
    assert {(USAGE, 0): [0, 1], (SUPPORT, 0): [0]} == batch.offsets()


def test_each_partition_number_gets_its_own_merge_announced_once() -> None:
    async def run() -> list[int]:
        pm = merges(FakeConsumer({TP(USAGE, 0), TP(USAGE, 3)}))
        pm.add(TP(USAGE, 0), messages(USAGE, 0, [1]))
        pm.add(TP(USAGE, 3), messages(USAGE, 3, [1]))
        pm.add(TP(USAGE, 3), messages(USAGE, 3, [2], first=1))
        return [pm.new.get_nowait() for _ in range(pm.new.qsize())]

    assert [0, 3] == asyncio.run(run())


def test_a_batch_comes_out_in_event_time_across_the_topics_of_a_partition() -> None:
    async def run() -> list[tuple[str, int]]:
        pm = merges(FakeConsumer({TP(USAGE, 0), TP(SUPPORT, 0)}))
        pm.add(TP(USAGE, 0), messages(USAGE, 0, [10, 30]))
        pm.add(TP(SUPPORT, 0), messages(SUPPORT, 0, [20]))
        batch = await pm.next_batch(0, most=10, within=0.01)
        return [(m.topic, m.offset) for m, _ in batch.items]

    assert [(USAGE, 0), (SUPPORT, 0), (USAGE, 1)] == asyncio.run(run())


def test_a_batch_waits_for_an_input_still_fetching_and_then_merges_it() -> None:
    async def run() -> list[tuple[str, int]]:
        consumer = FakeConsumer({TP(USAGE, 0), TP(SUPPORT, 0)})
        consumer.lags[TP(SUPPORT, 0)] = 1
        pm = merges(consumer)
        pm.add(TP(USAGE, 0), messages(USAGE, 0, [10, 30]))

        async def arrive() -> None:
            await asyncio.sleep(0.1)
            consumer.lags[TP(SUPPORT, 0)] = 0
            pm.add(TP(SUPPORT, 0), messages(SUPPORT, 0, [20]))

        late = asyncio.create_task(arrive())
        batch = await pm.next_batch(0, most=10, within=0.01)
        await late
        return [(m.topic, m.offset) for m, _ in batch.items]

    assert [(USAGE, 0), (SUPPORT, 0), (USAGE, 1)] == asyncio.run(run())


def test_a_batch_waits_at_most_within_for_more_messages() -> None:
    async def run() -> tuple[int, float]:
        pm = merges(FakeConsumer({TP(USAGE, 0)}))
        pm.add(TP(USAGE, 0), messages(USAGE, 0, [1]))
        loop = asyncio.get_running_loop()
        started = loop.time()
        batch = await pm.next_batch(0, most=100, within=0.05)
        return len(batch), loop.time() - started

    size, waited = asyncio.run(run())
    assert 1 == size
    assert waited >= 0.04


class FakeState:
    def __init__(self, highwater: int | None, position: int | None) -> None:
        self.highwater = highwater
        self._position = position

    @property
    def has_valid_position(self) -> bool:
        return self._position is not None

    @property
    def position(self) -> int:
        assert self._position is not None
        return self._position


def consumer_with(state: FakeState | None) -> Any:
    """A BatchingConsumer shell whose aiokafka subscription holds one partition's state."""
    assignment = type("Assignment", (), {"state_value": lambda self, tp: state})()
    subscription = type("Sub", (), {"subscription": type("S", (), {"assignment": assignment})()})
    aiokafka_consumer = type("C", (), {"_subscription": subscription})()
    thread = type("Thread", (), {"_ensure_consumer": lambda self: aiokafka_consumer})()
    shell = BatchingConsumer.__new__(BatchingConsumer)
    shell._thread = thread  # type: ignore[assignment]
    return shell


def test_fetch_lag_is_the_highwater_less_the_position() -> None:
    assert 7 == consumer_with(FakeState(highwater=10, position=3)).fetch_lag(TP(USAGE, 0))
    assert 0 == consumer_with(FakeState(highwater=10, position=10)).fetch_lag(TP(USAGE, 0))


def test_fetch_lag_is_unknown_before_the_first_fetch_or_without_a_position() -> None:
    assert consumer_with(FakeState(highwater=None, position=0)).fetch_lag(TP(USAGE, 0)) is None
    assert consumer_with(FakeState(highwater=5, position=None)).fetch_lag(TP(USAGE, 0)) is None
    assert consumer_with(None).fetch_lag(TP(USAGE, 0)) is None


def ledger_consumer(committed: dict[TP, int | None]) -> Any:
    """A BatchingConsumer shell with Faust's offset ledger, as faust's own consumer tests use."""
    from collections import defaultdict

    shell = BatchingConsumer.__new__(BatchingConsumer)
    shell._committed_offset = defaultdict(lambda: None, committed)  # type: ignore[assignment]
    shell._acked = defaultdict(list)  # type: ignore[assignment]
    shell._acked_index = defaultdict(set)  # type: ignore[assignment]
    shell._n_acked = 0
    shell._unacked_messages = set()  # type: ignore[assignment]
    shell._waiting_for_ack = None
    shell._on_message_in = lambda tp, offset, message: None  # type: ignore[assignment]
    return shell


def test_a_tracked_batch_holds_one_unacked_message_per_topic_partition_until_acked() -> None:
    consumer = ledger_consumer({})
    batch = Batch(
        [Decoded(m, decode(m)) for m in messages(USAGE, 0, [1, 2, 3]) + messages(SUPPORT, 0, [4])]
    )
    consumer.track_batch(batch)
    assert {TP(USAGE, 0), TP(SUPPORT, 0)} == {m.tp for m in consumer._unacked_messages}
    consumer.ack_batch(batch)
    assert set() == consumer._unacked_messages
    assert all(m.acked for m in batch.markers)


def test_acking_a_batch_records_every_offset_in_faust_s_ledger_once() -> None:
    consumer = ledger_consumer({TP(USAGE, 0): 1})
    batch = Batch([Decoded(m, decode(m)) for m in messages(USAGE, 0, [1, 2, 3])])
    consumer.track_batch(batch)
    consumer.ack_batch(batch)
    consumer.ack_batch(batch)  # acked again (a retried batch): nothing is counted twice
    assert [1, 2] == sorted(consumer._acked[TP(USAGE, 0)])  # offset 0 was committed already
    assert 2 == consumer._n_acked


def test_the_installed_faust_is_the_release_whose_drain_loop_is_replaced() -> None:
    import faust

    from stream.worker.batching import FAUST_VERSION

    assert FAUST_VERSION == faust.__version__


def test_the_replaced_faust_methods_still_exist_with_the_signatures_overridden() -> None:
    import inspect

    from faust.transport.consumer import Consumer

    from stream.worker.batching import BatchingConsumer

    for name in ("_drain_messages", "stop_flow"):
        ours, theirs = getattr(BatchingConsumer, name), getattr(Consumer, name)
        assert ours is not theirs
        assert list(inspect.signature(ours).parameters) == list(
            inspect.signature(theirs).parameters
        )


def test_the_worker_s_fetches_are_held_for_fetch_min_bytes_or_fetch_max_wait() -> None:
    """Faust hard-codes 1.5 s and one byte; aiokafka keeps one fetch in flight per broker, so
    a fetch of quiet partitions held that long kept the busy ones from being fetched again,
    and fetches answered at the first byte cost a live worker CPU (89% of a core at 5,000
    events/s, against 64% held)."""
    import inspect

    from aiokafka import AIOKafkaConsumer

    from stream.worker.batching import BatchingApp, BatchingConsumerThread

    async def built() -> tuple[int, int]:
        app = BatchingApp("t", broker="kafka://127.0.0.1:1", autodiscover=False, store="memory://")
        app.fetch_max_wait, app.fetch_min_bytes = 0.25, 4096
        thread = app.consumer._new_consumer_thread()
        assert isinstance(thread, BatchingConsumerThread)
        consumer = thread._create_worker_consumer(app.transport)
        try:
            return int(consumer._fetch_max_wait_ms), int(consumer._fetch_min_bytes)
        finally:
            await consumer.stop()

    assert (250, 4096) == asyncio.run(built())
    # and aiokafka still hands those attributes to its fetcher when the consumer starts
    start = inspect.getsource(AIOKafkaConsumer.start)
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in start
    assert "fetch_min_bytes=self._fetch_min_bytes" in start
