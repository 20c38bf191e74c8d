"""Crash, rebalance and Redis faults on a real stream of 50,000 events: the final state is exactly
that of an uninterrupted run, customer by customer. Each fault adds its row to
docs/reliability.md's table (`faults.tally`)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from kafka.admin import KafkaAdminClient

from stream.dev.stack.launcher import (
    REDIS_CLUSTER_BUS_OFFSET,
    REDIS_CLUSTER_NODES,
    StackOptions,
    down,
    status,
    up,
)
from stream.dev.synthetic import CustomerBase
from stream.store import Record
from stream.store.codec import FORMAT

from .conftest import Stack, free_port, free_port_run, wait_for
from .faults import PrivateRedis, Stall, tally
from .harness import Run, Topics, killed_and_resumed, produce
from .reference import SETTINGS, differences

ALL_PARTITIONS = list(range(SETTINGS.partitions))  # the topics' count: the default

EVENTS = 50_000
CUSTOMERS = 500


SENT: list[int] = []  # messages in the stream (set by `stream`)


@pytest.fixture(scope="module")
def stream(stack: Stack) -> Topics:
    """Produce the stream once: onboarding, then 50,000 events over 30 days of event time."""
    topics = Topics()
    sent = produce_stream(stack, topics)
    assert sent >= EVENTS + CUSTOMERS  # onboarding, events, and churn or renewal outcomes
    SENT[:] = [sent]
    return topics


def produce_stream(stack: Stack, topics: Topics) -> int:
    """The same messages in the same order, so on any broker each lands at the same offset."""
    base = CustomerBase(CUSTOMERS, seed=2026, span_days=30, prefix="rc")
    return produce(stack, topics, ((e.kind, e.doc) for e in base.events(EVENTS)))


@pytest.fixture(scope="module")
def reference(
    stack: Stack, stream: Topics, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Record]]:
    """An uninterrupted run over the whole stream."""
    run = Run(stack, stream, tmp_path_factory.mktemp("reference"))
    run.start()
    try:
        started = time.monotonic()
        run.wait_drained(timeout=600)
        print(f"reference run: {EVENTS} events in {time.monotonic() - started:.1f}s")
        yield run.wait_quiet()
    finally:
        run.stop_all()


def committed(run: Run) -> int:
    return run.progress()[0]


def drain(run: Run, stall: Stall) -> dict[str, Record]:
    """Let the worker drain the stream, sampling how long its committed progress stands still;
    the final records once it is quiet."""
    while not run.drained():
        stall.sample(committed(run))
        time.sleep(0.25)
    assert run.alive(), "the worker died:\n" + run.log_tail()
    return run.wait_quiet()


def assert_same_final_state(
    run: Run, expected: dict[str, Record], actual: dict[str, Record]
) -> None:
    """Each customer's state and offsets applied are those of the uninterrupted run, and every
    record is stored in the current format (docs/guarantees.md). The default evaluates once per
    customer per batch, and a crash or a rebalance changes the batches, so the latest
    evaluation may differ; with every event evaluated it does not (test_backlog)."""
    diffs = differences(expected, actual)
    assert {} == {k: n for k, n in diffs.items() if k in ("state", "offsets")}
    formats = {raw.partition(b"|")[2][:1] for raw in run.stored().values()}
    assert {bytes([FORMAT])} == formats


def test_a_worker_killed_mid_stream_and_restarted_ends_with_the_uninterrupted_state(
    stack: Stack, stream: Topics, reference: dict[str, Record], tmp_path: Path
) -> None:
    # Commits every 0.2 s, not every 2.8 s: the worker reads the whole stream in a few seconds,
    # so with the default a single commit can already cover most of it and the kill comes late.
    run = Run(stack, stream, tmp_path, commit_interval_seconds="0.2")
    final = killed_and_resumed(run, 0.2)
    tally("worker SIGKILLed at 20% and restarted", SENT[0], reference, final, None)
    assert_same_final_state(run, reference, final)


def test_two_workers_share_the_partitions_and_one_finishes_when_the_other_stops(
    stack: Stack, stream: Topics, reference: dict[str, Record], tmp_path: Path
) -> None:
    run = Run(stack, stream, tmp_path)
    first = run.start()
    second = run.start()
    try:

        def split() -> bool:
            a, b = run.ready_partitions(first), run.ready_partitions(second)
            return bool(a) and bool(b) and sorted(a + b) == ALL_PARTITIONS

        wait_for(split, 120, "both workers to own partitions")
        wait_for(lambda: committed(run) >= EVENTS // 4, 300, "a quarter of the stream committed")
        run.stop(second)
        wait_for(
            lambda: run.ready_partitions(first) == ALL_PARTITIONS,
            120,
            "the remaining worker to take every partition",
        )
        run.wait_drained(timeout=600)
        final = run.wait_quiet()
    finally:
        run.stop_all()
    tally("two workers, one stopped at 25% (rebalance)", SENT[0], reference, final, None)
    assert_same_final_state(run, reference, final)


@pytest.mark.parametrize(
    ("how", "fsync"), [("SIGKILL", "everysec"), ("SIGKILL", "always"), ("SIGTERM", "everysec")]
)
def test_redis_stopped_mid_stream_stalls_the_worker_and_a_restart_on_its_aof_loses_nothing(
    stack: Stack,
    stream: Topics,
    reference: dict[str, Record],
    tmp_path: Path,
    how: str,
    fsync: str,
) -> None:
    """While Redis is down (killed, or shut down as for a restart) the worker retries: not
    ready, nothing more committed; Redis back on its append-only file, the worker drains to
    the uninterrupted run's state."""
    server = PrivateRedis(tmp_path / "redis", fsync)
    server.start()
    run = Run(
        stack,
        stream,
        tmp_path,
        extra_env={"HEALTHSCORE_REDIS_URL": server.url},
        commit_interval_seconds="0.2",
        redis_retry_max_seconds="0.5",
    )
    run.redis = redis.Redis.from_url(server.url)
    try:
        final, stalled = _through_a_redis_outage(run, server, how)
        what = "SIGKILLed" if how == "SIGKILL" else "shut down (SIGTERM)"
        tally(
            f"Redis {what} at 30%, down 6 s, restarted on its AOF (appendfsync {fsync})",
            SENT[0],
            reference,
            final,
            stalled,
        )
        assert_same_final_state(run, reference, final)
    finally:
        server.stop()


def _through_a_redis_outage(
    run: Run, server: PrivateRedis, how: str
) -> tuple[dict[str, Record], float]:
    """Stop Redis (`how`: SIGKILL or SIGTERM) at 30% committed, check the worker stalls and
    says so, restart Redis, drain; the records and the longest time progress stood still."""
    try:
        run.start()
        total = run.progress()[1]
        wait_for(lambda: committed(run) >= total * 0.3, 300, "30% committed")
        server.kill() if how == "SIGKILL" else server.stop()
        time.sleep(1.0)  # offsets of batches stored before the kill may still be committed
        stall = Stall(committed(run))
        outage = time.monotonic()
        while time.monotonic() - outage < 5.0:
            stall.sample(committed(run))
            time.sleep(0.25)
        assert stall.longest >= 4.5, "offsets were committed while Redis was down"
        status, body = run.readiness()
        assert status == 503
        assert any(p.startswith("redis:") for p in body["problems"])
        assert committed(run) < total, "the kill came too late to interrupt anything"
        server.start()
        return drain(run, stall), stall.longest
    finally:
        run.stop_all()


def test_a_rebalance_storm_ends_with_the_uninterrupted_state(
    stack: Stack, stream: Topics, reference: dict[str, Record], tmp_path: Path
) -> None:
    """A second worker joins and leaves the group again and again while the first works (in
    small batches, so much of the stream is read during the storm)."""
    run = Run(stack, stream, tmp_path, commit_interval_seconds="0.2", batch_max="100")
    try:
        run.start()
        total = run.progress()[1]
        stall = Stall(committed(run))
        joins, interrupted = 6, committed(run)
        assert interrupted < total * 0.5, "the stream was half drained before the storm"
        for _ in range(joins):
            other = run.start()
            time.sleep(1.0)
            run.stop(other)
            stall.sample(committed(run))
        final = drain(run, stall)
    finally:
        run.stop_all()
    tally(
        f"rebalance storm: a second worker joined and left {joins} times, from "
        f"{interrupted / total:.0%} committed",
        SENT[0],
        reference,
        final,
        stall.longest,
    )
    assert_same_final_state(run, reference, final)


@pytest.mark.parametrize("brokers", [1, 3])
def test_a_broker_killed_mid_stream_and_restarted_loses_nothing(
    stack: Stack, stream: Topics, reference: dict[str, Record], tmp_path: Path, brokers: int
) -> None:
    """A broker SIGKILLed under load and restarted on its log, on a single node and on a
    cluster of three (replication 3, min.insync.replicas 2, the worker's topics created with
    HEALTHSCORE_REPLICATION_FACTOR=3): the worker lives through it and ends with the
    uninterrupted state (the same stream, at the same offsets, on brokers and Redis of the
    test's own). With three brokers Redis is a Redis Cluster too: the worker runs on both
    clusters with the README's settings and nothing else."""
    cluster = brokers > 1
    opts = replace(
        stack.opts,
        state_dir=tmp_path / "stack",
        kafka_port=free_port_run(2 * brokers),
        controller_port=0,
        redis_port=(
            free_port_run(REDIS_CLUSTER_NODES, shifted=REDIS_CLUSTER_BUS_OFFSET)
            if cluster
            else free_port()
        ),
        kafka_brokers=brokers,
        kafka_heap="384m",
        redis_cluster=cluster,
    )
    opts = replace(opts, controller_port=opts.kafka_port + 1)
    up(opts, report=print)
    own = Stack(opts)
    victim = opts.broker_names[-1]
    try:
        run = Run(
            own,
            stream,
            tmp_path,
            commit_interval_seconds="0.2",
            replication_factor=str(brokers),
            extra_env=cluster_settings(opts) if cluster else {},
        )
        if cluster:
            run.redis = redis.RedisCluster(host=opts.host, port=opts.redis_port)
        run.start()  # the worker creates the topics, replicated as configured
        admin = KafkaAdminClient(bootstrap_servers=own.bootstrap.split(","))
        try:
            described = admin.describe_topics(list(stream.names.values()))
        finally:
            admin.close()
        replicas = {len(p["replica_nodes"]) for t in described for p in t["partitions"]}
        assert {brokers} == replicas, described
        sent = produce_stream(own, stream)
        assert sent == SENT[0]
        try:
            wait_for(lambda: committed(run) >= sent * 0.3, 300, "30% committed")
            os.kill(_pid(opts, victim), signal.SIGKILL)
            stall = Stall(committed_or(run, -1))
            down_since = time.monotonic()
            while time.monotonic() - down_since < 5.0:
                stall.sample(committed_or(run, stall.value))
                time.sleep(0.5)
                assert run.alive(), "the worker died with the broker:\n" + run.log_tail()
            up(opts, report=print)
            final = drain(run, stall)
        finally:
            run.stop_all()
        what = "the single-node broker" if brokers == 1 else f"one broker of {brokers}"
        where = " (the worker on a Redis Cluster)" if cluster else ""
        tally(f"{what} SIGKILLed at 30%, down 5 s, restarted{where}", sent, reference, final,
              stall.longest)  # fmt: skip
        assert_same_final_state(run, reference, final)
    finally:
        down(opts, report=print, purge=True)


def cluster_settings(opts: StackOptions) -> dict[str, str]:
    """The README's settings for a worker on the stack's Redis Cluster."""
    return {
        "HEALTHSCORE_REDIS_URL": opts.redis_url,
        "HEALTHSCORE_REDIS_CLUSTER": "true",
        "HEALTHSCORE_REDIS_WAIT_REPLICAS": "1",
    }


def _pid(opts: StackOptions, name: str) -> int:
    pid = status(opts)[name].pid
    assert pid is not None
    return int(pid)


def committed_or(run: Run, default: int) -> int:
    """Committed progress, or `default` while the broker cannot answer."""
    try:
        return committed(run)
    except Exception:  # noqa: BLE001 - kafka-python's errors while the broker is down
        return default


def test_a_redis_cluster_primary_killed_mid_stream_fails_over_and_loses_nothing(
    stack: Stack, stream: Topics, reference: dict[str, Record], tmp_path: Path
) -> None:
    """The worker on a Redis Cluster of three primaries with a replica each (the stack
    launcher's `--redis-cluster`, the worker told so by the documented settings only). A
    primary is SIGKILLed under load: its replica takes over, the worker follows the new slot
    map, and since a write counts only once a replica holds it (WAIT), nothing acknowledged is
    lost. The killed node comes back as a replica."""
    opts = replace(
        stack.opts,
        state_dir=tmp_path / "stack",
        redis_port=free_port_run(REDIS_CLUSTER_NODES, shifted=REDIS_CLUSTER_BUS_OFFSET),
        redis_cluster=True,
    )
    up(opts, report=print)  # Kafka answers already: used as it is
    try:
        run = Run(
            stack,
            stream,
            tmp_path,
            extra_env=cluster_settings(opts),
            commit_interval_seconds="0.2",
            redis_retry_max_seconds="0.5",
        )
        run.redis = redis.RedisCluster(host=opts.host, port=opts.redis_port)
        try:
            run.start()
            total = run.progress()[1]
            wait_for(lambda: committed(run) >= total * 0.3, 300, "30% committed")
            victim, replica = _primary_and_replica(opts)
            os.kill(_pid(opts, victim), signal.SIGKILL)
            stall = Stall(committed(run))
            killed = time.monotonic()
            while _role(opts, replica) != "master" or not _cluster_ok(opts, skip=victim):
                assert time.monotonic() - killed < 60, "no replica took over in 60 s"
                stall.sample(committed(run))
                time.sleep(0.25)
            promoted = time.monotonic() - killed
            assert committed(run) < total, "the kill came too late to interrupt anything"
            up(opts, report=print)  # the killed node rejoins, as a replica
            final = drain(run, stall)
        finally:
            run.stop_all()
        print(f"replica promoted {promoted:.1f}s after the kill")
        tally(
            "Redis Cluster (3 primaries, 1 replica each): a primary SIGKILLed at 30%, its "
            "replica promoted, the node restarted",
            SENT[0],
            reference,
            final,
            stall.longest,
        )
        assert_same_final_state(run, reference, final)
        assert _role(opts, victim) == "slave"  # it rejoined under the replica that took over
        assert ["master"] * 3 + ["slave"] * 3 == sorted(_role(opts, n) for n in opts.redis_names)
    finally:
        down(opts, report=print, purge=True)


def _node(opts: StackOptions, name: str) -> redis.Redis:
    port = opts.redis_port_of(opts.redis_names.index(name))
    return redis.Redis(host=opts.host, port=port, socket_timeout=1)


def _role(opts: StackOptions, name: str) -> str:
    return str(_node(opts, name).info("replication")["role"])


def _primary_and_replica(opts: StackOptions) -> tuple[str, str]:
    """A primary (the first by port) and the node that replicates it."""
    ports = {opts.redis_port_of(i): name for i, name in enumerate(opts.redis_names)}
    for name in opts.redis_names:
        info = _node(opts, name).info("replication")
        if info["role"] == "slave":
            return ports[int(info["master_port"])], name
    raise AssertionError("no replica")


def _cluster_ok(opts: StackOptions, skip: str) -> bool:
    """Every node but `skip` sees the cluster whole."""
    return all(
        _node(opts, name).cluster("INFO")["cluster_state"] == "ok"
        for name in opts.redis_names
        if name != skip
    )
