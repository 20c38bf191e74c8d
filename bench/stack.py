"""The benchmarks' own stack: Kafka and Redis on their own ports, state in `.stack-bench/`, so a
benchmark never touches the development stack (`make stack-up`) or its data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from stream.dev.stack import StackOptions, down, status, up

BENCH_STACK = StackOptions(
    state_dir=Path(".stack-bench"),
    kafka_port=19092,
    controller_port=19093,
    redis_port=16379,
    # Kafka's default, as production brokers run: workers started together (`--processes 2`)
    # then share the partitions from the first assignment. With 0 (the test stack's), the
    # first process to join took every partition and drained alone for about 7 s, until
    # the others' joining was noticed and the group rebalanced (docs/benchmarks.md).
    group_initial_rebalance_delay_ms=3000,
)


@contextmanager
def bench_stack(
    console: Console, state_dir: Path | None = None, keep: bool = False
) -> Iterator[StackOptions]:
    """The benchmark stack for the length of a run: started (or reused), and when the run ends,
    however it ends, the services this run started are stopped again and their data removed
    (every run makes topics and keys of its own, so nothing in it is wanted again; kept, it
    grew by gigabytes a run). `keep` leaves them up with their data. Services that were
    already running before are left as they were."""
    opts = _options(state_dir)
    before = {n for n, svc in status(opts).items() if svc.running}
    start_bench_stack(console, state_dir)
    try:
        yield opts
    finally:
        if keep:
            console.print(f"bench stack left running (state in {opts.state_dir})")
        elif not before:
            down(opts, report=console.print, purge=True)
        else:
            console.print(f"bench stack was running before ({', '.join(sorted(before))}): left")


def _options(state_dir: Path | None) -> StackOptions:
    opts = BENCH_STACK
    if state_dir is not None and state_dir != opts.state_dir:
        opts = replace(opts, state_dir=state_dir)
    return opts


def start_bench_stack(console: Console, state_dir: Path | None = None) -> StackOptions:
    """Start (or reuse) the benchmark stack; return its options (`bench_stack` also stops it)."""
    opts = _options(state_dir)
    up(opts, report=console.print)
    return opts
