"""The record store against a real redis-server and a real Redis Cluster: compare-and-set, the
indexes, and a Redis that lost its scripts (a restart without persistence, or SCRIPT FLUSH)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from redis.exceptions import ResponseError

from scoring.events import AccountUpdated
from scoring.serialize import rfc3339
from scoring.state import apply, new_state
from stream.contract import INPUT_TOPICS
from stream.resources import load_policy
from stream.settings import Settings
from stream.store import RETRYABLE, Commands, Evaluation, Record, RecordStore, board_value
from stream.store.client import Client, connect_async
from stream.store.commands import CAS_CHUNK, ClusterNotConfiguredError
from stream.worker.engine import Engine, Incoming, Outputs

from .conftest import Stack

POLICY = load_policy()


def record(cid: str, version: int = 0, due: float | None = 100.0) -> Record:
    state = new_state(cid)
    return Record(
        cid,
        version=version,
        state=state,
        partition=2,
        evaluated=Evaluation(50.0, 42.5, "at_risk", None),
        due=due,
    )


@dataclass(frozen=True)
class Target:
    """The Redis the store runs on, and the settings that name it."""

    settings: Settings
    bootstrap: str


@pytest.fixture(params=["redis-server", "redis-cluster"])
def target(request: pytest.FixtureRequest, stack: Stack) -> Target:
    cluster = request.param == "redis-cluster"
    url = request.getfixturevalue("redis_cluster") if cluster else stack.redis_url
    return Target(Settings(redis_url=url, redis_cluster=cluster), stack.bootstrap)


def run_store(target: Target, body) -> object:  # type: ignore[no-untyped-def]
    async def main() -> object:
        client = connect_async(target.settings)
        try:
            return await body(RecordStore(client, f"t{uuid.uuid4().hex[:6]}", POLICY), client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_a_write_with_a_stale_version_is_refused_and_the_indexes_are_written(
    target: Target,
) -> None:
    async def body(store: RecordStore, client: Client) -> None:
        first = record("c1")
        assert await store.save_many([first]) == set()
        assert first.version == 1  # a saved record carries its new version
        again = await store.load_many(["c1", "c2"])
        assert again["c1"].version == 1
        assert again["c2"].version == 0  # never stored
        assert await store.save_many([record("c1", version=0)]) == {"c1"}  # stale
        assert await store.save_many([again["c1"]]) == set()
        assert (await store.load_many(["c1"]))["c1"].version == 2
        assert await client.zscore(store.keys.due(2), "c1") == 100.0
        assert await client.zscore(store.keys.board(), "c1") == board_value("at_risk", 42.5)

    run_store(target, body)


def test_a_batch_larger_than_a_call_refuses_exactly_its_stale_records(target: Target) -> None:
    """Records go to Redis in calls of `CAS_CHUNK` (one per record on a cluster): each is still
    set or refused on its own."""
    n = 2 * CAS_CHUNK + 3
    ids = [f"c{i}" for i in range(n)]
    stale = {ids[0], ids[CAS_CHUNK - 1], ids[CAS_CHUNK], ids[-1]}

    async def body(store: RecordStore, client: Client) -> None:
        assert await store.save_many([record(cid) for cid in ids]) == set()
        loaded = await store.load_many([*ids, "never"])
        assert len(loaded) == n + 1
        assert loaded["never"].version == 0
        assert {loaded[cid].version for cid in ids} == {1}
        batch = [record(cid) if cid in stale else loaded[cid] for cid in ids]
        assert await store.save_many(batch) == stale
        assert [r.version for r in batch] == [0 if cid in stale else 2 for cid in ids]
        again = await store.load_many(ids)
        assert [again[cid].version for cid in ids] == [1 if cid in stale else 2 for cid in ids]
        state = again[ids[5]].state
        assert state is not None
        assert state.customer_id == ids[5]

    run_store(target, body)


def test_the_store_loads_its_scripts_again_when_redis_lost_them(target: Target) -> None:
    async def body(store: RecordStore, client: Client) -> None:
        assert await store.save_many([record("c1")]) == set()
        await client.script_flush()
        assert await store.save_many([(await store.load_many(["c1"]))["c1"]]) == set()
        await client.script_flush()
        await store.record_aggregates([record("c2")], {2: 123.0})
        assert await store.watermark(2) == 123.0
        assert (await store.load_many(["c1"]))["c1"].version == 2

    run_store(target, body)


def test_an_error_reply_is_raised_and_the_connection_stays_usable(target: Target) -> None:
    async def body(store: RecordStore, client: Client) -> None:
        await client.hset(store.keys.record("bad"), "v", "1")  # wrong type for a record
        with pytest.raises(ResponseError):
            await store.load_many(["ok", "bad"])
        cmds = Commands()
        cmds.add("PING")
        assert await store._execute(cmds) == [b"PONG"]
        assert (await store.load_many(["ok"]))["ok"].version == 0

    run_store(target, body)


class FailingOncePublisher:
    """Sends score updates to the stack's broker; its second call fails as a bug would, after
    the batch's records were changed in memory and before they were stored."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer, self.topic, self.calls = producer, topic, 0

    async def publish(self, outputs: Outputs) -> None:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("unexpected failure half-way through a batch")
        for cid, payload in outputs.scores:
            await self.producer.send_and_wait(self.topic, payload, key=cid.encode())


def sessions(cid: str, first: int, n: int) -> list[Incoming]:
    topic = INPUT_TOPICS["usage"]
    out = []
    for i in range(first, first + n):
        doc = {
            "event_id": f"{cid}-e{i}",
            "customer_id": cid,
            "type": "session",
            "occurred_at": rfc3339(1_767_225_600.0 + 60.0 * i),
            "user_id": "u1",
        }
        out.append(Incoming(topic, 0, i, cid.encode(), orjson.dumps(doc)))
    return out


def test_a_batch_that_fails_half_way_is_applied_in_full_when_retried(target: Target) -> None:
    async def body(store: RecordStore, client: Client) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=target.bootstrap)
        await producer.start()
        try:
            settings = Settings(redis_key_prefix=store.prefix, publish_min_step=0.0)
            topic = f"scores-{store.prefix}"
            engine = Engine(settings, POLICY, store, FailingOncePublisher(producer, topic))
            assert (await engine.process(sessions("c1", 0, 3))).applied == 3
            batch = sessions("c1", 3, 4)
            with pytest.raises(RuntimeError):
                await engine.process(batch)
            again = await engine.process(batch)
            assert again.applied == 4
            assert again.duplicates == 0
            stored = (await RecordStore(client, store.prefix, POLICY).load_many(["c1"]))["c1"]
            assert stored.offsets == {"u0": 6}
            assert stored.state is not None
            assert stored.state.activity_long.ref == 1_767_225_600.0 + 60.0 * 6
        finally:
            await producer.stop()

    run_store(target, body)


def test_segment_sets_of_the_earlier_layout_become_counts_and_a_move_between_segments_counts(
    target: Target,
) -> None:
    async def body(store: RecordStore, client: Client) -> None:
        keys = store.keys
        await client.sadd(keys.segments(), "smb", "enterprise")
        await client.sadd(keys.segment_customers("smb"), "a", "b", "c")
        await client.sadd(keys.segment_customers("enterprise"), "d")
        moved = record("a")  # an smb customer of the earlier layout moving to enterprise
        moved.state = apply(
            new_state("a"), AccountUpdated("acc-1", "a", 10.0, segment="enterprise"), POLICY
        )
        moved.loaded.segment = "smb"
        await store.record_aggregates([moved], {2: 10.0})
        counts = await client.hgetall(keys.segment_counts())
        assert {k.decode(): int(v) for k, v in counts.items()} == {"smb": 2, "enterprise": 2}
        assert not await client.exists(
            keys.segments(), keys.segment_customers("smb"), keys.segment_customers("enterprise")
        )
        snapshot = await store.business_snapshot()
        assert set(snapshot.segments) == {"smb", "enterprise"}

    run_store(target, body)


def test_a_cluster_node_used_as_one_server_is_an_outage_that_names_the_setting(
    redis_cluster: str,
) -> None:
    """Without HEALTHSCORE_REDIS_CLUSTER, a cluster's MOVED replies would fail every batch into
    the dead-letter topic; they are retried as an outage instead, and the error says why."""

    async def main() -> None:
        client = connect_async(Settings(redis_url=redis_cluster))
        try:
            store = RecordStore(client, "t", POLICY)
            with pytest.raises(ClusterNotConfiguredError) as caught:
                await store.load_many([f"c{i}" for i in range(20)])  # keys on every primary
            assert isinstance(caught.value, RETRYABLE)
            assert "HEALTHSCORE_REDIS_CLUSTER=true" in str(caught.value)
        finally:
            await client.aclose()

    asyncio.run(main())
