"""How fast can a Faust worker consume when its agent does nothing? A minimal reproduction.

    make bench-faust  (python -m bench.faust_ceiling [--messages 300000] [--repeat 3])

Produces N small JSON messages (kcat) to a new 4-partition topic, then consumes all of them in
a fresh process per mode, on the same broker:

- ``aiokafka``: the raw client, ``getmany`` and ``orjson.loads`` (the baseline);
- ``agent``: a Faust agent, ``async for value in stream: pass``;
- ``take``: a Faust agent, ``stream.noack_take(1000, within=0.05)`` then ``ack`` (the engine's
  way before the batching consumer);
- ``batch``: the batching consumer of ``stream.worker.batching`` (whole fetches, acked in bulk).

Each mode reports messages per second from its first message to its last; the table shows the
median of ``--repeat`` runs. No Redis, no scoring: only the framework's path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from kafka.admin import KafkaAdminClient, NewTopic
from rich.console import Console
from rich.table import Table

import bench
from bench.stack import bench_stack

MODES = ("aiokafka", "agent", "take", "batch")


def produce(bootstrap: str, topic: str, n: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=[bootstrap])
    try:
        admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])
    finally:
        admin.close()
    with tempfile.NamedTemporaryFile("wb", suffix=".tsv") as f:
        for i in range(n):
            doc = {"event_id": f"e{i}", "customer_id": f"c{i % 10_000}", "feature": "export"}
            f.write(f"c{i % 10_000}\t".encode() + orjson.dumps(doc) + b"\n")
        f.flush()
        subprocess.run(
            [
                *("kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t"),
                *("-X", "linger.ms=20", "-X", "batch.num.messages=10000", "-l", f.name),
            ],
            check=True,
        )


class Meter:
    def __init__(self, n: int) -> None:
        self.n, self.seen, self.started = n, 0, 0.0

    def add(self, k: int) -> bool:
        if self.seen == 0:
            self.started = time.perf_counter()
        self.seen += k
        return self.seen >= self.n

    def report(self) -> None:
        rate = (self.seen - 1) / max(1e-9, time.perf_counter() - self.started)
        print(json.dumps({"rate": rate}), flush=True)
        os._exit(0)  # the measurement is taken; do not time Faust's shutdown


async def run_aiokafka(bootstrap: str, topic: str, meter: Meter) -> None:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    while True:
        batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
        for records in batches.values():
            for r in records:
                orjson.loads(r.value)
            if meter.add(len(records)):
                meter.report()


def run_faust(mode: str, bootstrap: str, topic: str, meter: Meter) -> None:
    import faust

    from stream.messages import DeadLetter, Decoded, Incoming
    from stream.worker.alignment import MergeLimits
    from stream.worker.batching import BatchingApp

    app_cls = BatchingApp if mode == "batch" else faust.App
    name = f"ceiling-{uuid.uuid4().hex[:6]}"
    app = app_cls(
        name,
        datadir=str(Path(tempfile.gettempdir()) / f"{name}-data"),  # not in the checkout
        broker=f"kafka://{bootstrap}",
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
    )
    if mode == "agent":
        source = app.topic(topic, key_type=bytes, value_type=bytes)

        @app.agent(source)
        async def agent(stream: Any) -> None:
            async for _value in stream:
                if meter.add(1):
                    meter.report()

    elif mode == "take":
        source = app.topic(topic, key_type=bytes, value_type=bytes)

        @app.agent(source)
        async def agent(stream: Any) -> None:
            async for events in stream.noack_take(1000, within=0.05):
                for e in events:
                    await stream.ack(e)
                if meter.add(len(events)):
                    meter.report()

    else:
        assert isinstance(app, BatchingApp)

        def decode(messages: list[Incoming]) -> list[Decoded]:
            # the JSON decoding the engine does, without the contract: the plumbing's cost
            out = []
            for message in messages:
                orjson.loads(message.value or b"")
                out.append(Decoded(message, DeadLetter(message, "", "")))
            return out

        limits = MergeLimits(idle=0.0, tolerance=0.0, most=10_000)
        merges = app.merged_batch_topics({topic: 0}, decode, limits)
        consumer = app.batching_consumer

        async def drain(partition: int) -> None:
            while True:
                batch = await merges.next_batch(partition, 1000, 0.05)
                consumer.track_batch(batch)
                consumer.ack_batch(batch)
                if meter.add(len(batch)):
                    meter.report()

        @app.task  # type: ignore[untyped-decorator]
        async def drain_all() -> None:
            async with asyncio.TaskGroup() as group:  # a task per partition, as the worker
                while True:
                    group.create_task(drain(await merges.new.get()))

    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()


def measure(mode: str, bootstrap: str, topic: str, n: int) -> float:
    out = subprocess.run(
        [
            *(sys.executable, "-m", "bench.faust_ceiling", "--one", mode),
            *("--bootstrap", bootstrap, "--topic", topic, "--messages", str(n)),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    found = re.search(r'\{"rate": [^}]+\}', out.stdout + out.stderr)  # Faust logs a worker's stdout
    if found:
        return float(json.loads(found.group(0))["rate"])
    raise RuntimeError(f"{mode} gave no result:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bootstrap", help="a broker to use (default: start the benchmark stack)")
    ap.add_argument("--messages", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--topic")
    ap.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        meter = Meter(args.messages)
        if args.one == "aiokafka":
            asyncio.run(run_aiokafka(args.bootstrap, args.topic, meter))
        else:
            run_faust(args.one, args.bootstrap, args.topic, meter)
        return
    console = bench.console(stderr=True)
    if args.bootstrap is not None:
        compare(args, console)
        return
    with bench_stack(console) as opts:
        args.bootstrap = f"127.0.0.1:{opts.kafka_port}"
        compare(args, console)


def compare(args: argparse.Namespace, console: Console) -> None:
    """Measure every mode on one topic of the broker at `args.bootstrap`."""
    topic = f"ceiling-{uuid.uuid4().hex[:6]}"
    console.print(f"producing {args.messages:,} messages to {topic}")
    produce(args.bootstrap, topic, args.messages)
    table = Table("mode", "runs (messages/s)", "median", "vs aiokafka")
    results: dict[str, float] = {}
    for mode in args.modes.split(","):
        runs = []
        for i in range(args.repeat):
            console.print(f"{mode}: run {i + 1}/{args.repeat}")
            runs.append(measure(mode, args.bootstrap, topic, args.messages))
        results[mode] = statistics.median(runs)
        base = results.get("aiokafka")
        table.add_row(
            mode,
            ", ".join(f"{r:,.0f}" for r in runs),
            f"{results[mode]:,.0f}",
            f"{results[mode] / base:.1%}" if base else "",
        )
    bench.console().print(table)


if __name__ == "__main__":
    main()
