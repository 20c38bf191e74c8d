"""The engine's metrics: many values observed at once read as if observed one by one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram

from stream.metrics import LATENCY_BUCKETS, observe_many


def _samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    return {
        (s.name, s.labels.get("le", "")): s.value
        for metric in registry.collect()
        for s in metric.samples
        if not s.name.endswith("_created")
    }


@given(st.lists(st.floats(0, 1e5, allow_nan=False) | st.sampled_from(LATENCY_BUCKETS)))
def test_observing_many_values_at_once_counts_as_observing_them_one_by_one(
    values: list[float],
) -> None:
    one, many = CollectorRegistry(), CollectorRegistry()
    h1 = Histogram("h", "h", buckets=LATENCY_BUCKETS, registry=one)
    h2 = Histogram("h", "h", buckets=LATENCY_BUCKETS, registry=many)
    for v in values:
        h1.observe(v)
    observe_many(h2, values)
    expected, actual = _samples(one), _samples(many)
    assert expected.keys() == actual.keys()
    for k, v in expected.items():
        assert abs(v - actual[k]) <= 1e-9 * max(1.0, abs(v))
