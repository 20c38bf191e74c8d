"""The benchmarks' own stack: how its broker is configured, without starting anything."""

from __future__ import annotations

from pathlib import Path

from bench.stack import BENCH_STACK, _options
from stream.dev.stack import StackOptions
from stream.dev.stack.launcher import _kafka_properties


def test_the_bench_broker_waits_for_a_new_groups_members_and_the_test_broker_does_not(
    tmp_path: Path,
) -> None:
    """`--processes 2` must share the partitions from the first assignment: the bench stack's
    broker waits Kafka's default 3 s for a new group's members (with any state directory),
    while the test stack starts each test's worker at once."""
    bench = _kafka_properties(_options(tmp_path), tmp_path / "bench").splitlines()
    test = _kafka_properties(StackOptions(state_dir=tmp_path), tmp_path / "test").splitlines()
    assert "group.initial.rebalance.delay.ms=3000" in bench
    assert "group.initial.rebalance.delay.ms=0" in test
    assert _options(tmp_path).state_dir == tmp_path
    assert _options(None) == BENCH_STACK
