"""The benchmarks' own stack: Kafka and Redis on their own ports, state in `.stack-bench/`, so a
benchmark never touches the development stack (`make stack-up`) or its data."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from stream.stack import StackOptions, up

BENCH_STACK = StackOptions(
    state_dir=Path(".stack-bench"), kafka_port=19092, controller_port=19093, redis_port=16379
)


def start_bench_stack(console: Console, state_dir: Path | None = None) -> StackOptions:
    """Start (or reuse) the benchmark stack; return its options."""
    opts = BENCH_STACK
    if state_dir is not None and state_dir != opts.state_dir:
        opts = StackOptions(
            state_dir=state_dir,
            kafka_port=opts.kafka_port,
            controller_port=opts.controller_port,
            redis_port=opts.redis_port,
        )
    up(opts, report=console.print)
    return opts
