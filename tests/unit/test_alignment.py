"""The event-time merge of one partition number's input topics (no broker needed)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import events as ev
from stream.messages import DeadLetter, Decoded, Incoming
from stream.worker.alignment import TOPIC_RANK, Merge, MergeLimits

USAGE, SUPPORT, ACCOUNT = "usage-events", "support-events", "account-events"


class Broker:
    """What is left on the broker for each topic: the lag the merge sees."""

    def __init__(self, lags: dict[str, int | None]) -> None:
        self.lags = lags
        self.paused: list[tuple[str, bool]] = []

    def lag(self, topic: str) -> int | None:
        return self.lags.get(topic, 0)


def merge(broker: Broker, *, idle: float = 10.0, tolerance: float = 60.0, most: int = 100) -> Merge:
    return Merge(
        0,
        TOPIC_RANK.__getitem__,
        broker.lag,
        lambda: [USAGE, SUPPORT, ACCOUNT],
        MergeLimits(idle=idle, tolerance=tolerance, most=most),
        lambda topic, paused: broker.paused.append((topic, paused)),
    )


def item(topic: str, offset: int, at: float) -> Decoded:
    msg = Incoming(topic, 0, offset, b"c", b"{}")
    return Decoded(msg, ev.Session(f"{topic}-{offset}", "c", at, "u"))


def order(taken: list[Decoded]) -> list[tuple[str, int]]:
    return [(m.topic, m.offset) for m, _ in taken]


def test_the_earliest_head_in_event_time_is_taken_first_and_each_topic_keeps_its_order() -> None:
    m = merge(Broker({}))
    m.add(USAGE, [item(USAGE, 0, 10.0), item(USAGE, 1, 30.0)], now=0.0)
    m.add(SUPPORT, [item(SUPPORT, 0, 20.0), item(SUPPORT, 1, 5.0)], now=0.0)
    taken, waiting = m.take(10, now=0.0)
    assert [(USAGE, 0), (SUPPORT, 0), (SUPPORT, 1), (USAGE, 1)] == order(taken)
    assert waiting is None


def test_at_the_same_instant_account_events_come_before_usage() -> None:
    m = merge(Broker({}))
    m.add(USAGE, [item(USAGE, 0, 10.0)], now=0.0)
    m.add(ACCOUNT, [item(ACCOUNT, 0, 10.0)], now=0.0)
    assert [(ACCOUNT, 0), (USAGE, 0)] == order(m.take(10, now=0.0)[0])


def test_dead_letters_have_no_event_time_and_are_taken_at_once() -> None:
    m = merge(Broker({}))
    m.add(USAGE, [item(USAGE, 0, 10.0)], now=0.0)
    bad = Incoming(SUPPORT, 0, 0, b"c", b"nonsense")
    m.add(SUPPORT, [(bad, DeadLetter(bad, "not JSON", "value"))], now=0.0)
    assert [(SUPPORT, 0), (USAGE, 0)] == order(m.take(10, now=0.0)[0])


def test_nothing_is_taken_past_an_input_with_messages_still_on_the_broker() -> None:
    m = merge(Broker({SUPPORT: 250}))
    m.add(USAGE, [item(USAGE, 0, 10.0)], now=0.0)
    taken, waiting = m.take(10, now=100.0)
    assert [] == taken
    assert waiting is not None
    assert (SUPPORT, None) == (waiting.topic, waiting.until)


def test_an_input_whose_position_is_not_known_yet_is_waited_for() -> None:
    m = merge(Broker({ACCOUNT: None}))
    m.add(USAGE, [item(USAGE, 0, 10.0)], now=0.0)
    assert [] == m.take(10, now=0.0)[0]


def test_an_input_that_is_caught_up_and_never_delivered_is_not_waited_for() -> None:
    m = merge(Broker({}))
    m.add(USAGE, [item(USAGE, 0, 10.0)], now=0.0)
    assert [(USAGE, 0)] == order(m.take(10, now=0.0)[0])


def test_a_caught_up_input_behind_the_others_is_waited_for_until_it_counts_as_idle() -> None:
    m = merge(Broker({}), idle=10.0, tolerance=60.0)
    m.add(SUPPORT, [item(SUPPORT, 0, 1_000.0)], now=0.0)
    m.take(10, now=0.0)  # support delivered at 0.0, its latest event time is 1,000
    m.add(USAGE, [item(USAGE, 0, 1_100.0)], now=5.0)
    taken, waiting = m.take(10, now=5.0)
    assert [] == taken
    assert waiting is not None
    assert (SUPPORT, 10.0) == (waiting.topic, waiting.until)
    assert [(USAGE, 0)] == order(m.take(10, now=10.0)[0])


def test_a_caught_up_input_within_the_tolerance_is_not_waited_for() -> None:
    m = merge(Broker({}), idle=10.0, tolerance=60.0)
    m.add(SUPPORT, [item(SUPPORT, 0, 1_000.0)], now=0.0)
    m.take(10, now=0.0)
    m.add(USAGE, [item(USAGE, 0, 1_050.0)], now=1.0)
    assert [(USAGE, 0)] == order(m.take(10, now=1.0)[0])


def test_an_input_buffering_more_than_the_bound_is_paused_and_resumed_below_half() -> None:
    broker = Broker({})
    m = merge(broker, most=4)
    m.add(USAGE, [item(USAGE, i, float(i)) for i in range(5)], now=0.0)
    assert [(USAGE, True)] == broker.paused
    m.take(2, now=0.0)
    assert [(USAGE, True)] == broker.paused  # 3 left: more than half of 4
    m.take(1, now=0.0)
    assert [(USAGE, True), (USAGE, False)] == broker.paused


def test_clearing_drops_what_is_buffered_and_resumes_paused_inputs() -> None:
    broker = Broker({})
    m = merge(broker, most=2)
    m.add(USAGE, [item(USAGE, i, float(i)) for i in range(3)], now=0.0)
    m.clear()
    assert 0 == m.buffered()
    assert (USAGE, False) == broker.paused[-1]
    assert math.isinf(m.inputs[USAGE].delivered_at)


def fetches(offsets: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, offsets)) for start in range(0, offsets, size)]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 500), min_size=1, max_size=40),
    st.lists(st.integers(0, 500), min_size=1, max_size=40),
    st.integers(1, 7),
    st.integers(1, 12),
    st.booleans(),
)
def test_the_merged_order_does_not_depend_on_how_the_fetches_arrived(
    usage_days: list[int], support_days: list[int], fetch: int, take: int, topic_by_topic: bool
) -> None:
    """Whether one topic is read to its end before the other or the two interleave, and
    whatever the fetch and batch sizes, the merged order is the same: that of event time."""
    topics = {
        USAGE: [item(USAGE, i, d * 86_400.0) for i, d in enumerate(sorted(usage_days))],
        SUPPORT: [item(SUPPORT, i, d * 86_400.0) for i, d in enumerate(sorted(support_days))],
    }
    left = {t: len(items) for t, items in topics.items()}
    broker = Broker(dict(left))
    m = merge(broker, most=10_000)
    plan = [(t, a, b) for t in topics for a, b in fetches(len(topics[t]), fetch)]
    if not topic_by_topic:
        plan.sort(key=lambda step: step[1])
    merged: list[Decoded] = []
    for topic, a, b in plan:
        m.add(topic, topics[topic][a:b], now=0.0)
        broker.lags[topic] = left[topic] - b
        merged.extend(m.take(take, now=0.0)[0])
    later = 0.0
    while len(merged) < sum(left.values()):  # an exhausted topic behind is waited for `idle`
        later += 1.0
        merged.extend(m.take(take, now=later)[0])
    expected = sorted(
        (it for items in topics.values() for it in items),
        key=lambda it: (it[1].occurred_at, TOPIC_RANK[it[0].topic], it[0].offset),  # type: ignore[union-attr]
    )
    assert order(expected) == order(merged)


def one_at_a_time(
    buffers: dict[str, list[Decoded]],
    state: dict[str, tuple[int | None, float, float | None]],
    most: int,
    now: float,
    idle: float,
    tolerance: float,
) -> list[tuple[str, int]]:
    """The merge's rule taken literally, one message at a time: the earliest head (event time,
    kind, offset) unless an empty input holds it back. `state`: each input's lag, when it last
    delivered and its latest event time."""
    left = {t: list(items) for t, items in buffers.items()}
    latest = {t: state[t][2] for t in buffers}
    out: list[tuple[str, int]] = []

    def key(t: str) -> tuple[float, int, int]:
        msg, event = left[t][0]
        at = -math.inf if isinstance(event, DeadLetter) else event.occurred_at
        return at, TOPIC_RANK[t], msg.offset

    while len(out) < most:
        ready = [t for t in left if left[t]]
        if not ready:
            break
        first = min(ready, key=key)
        at = key(first)[0]
        held = False
        for t in left:
            lag, delivered, last = state[t][0], state[t][1], latest[t]
            if not left[t] and (
                lag is None
                or lag > 0
                or (now - delivered < idle and last is not None and last + tolerance < at)
            ):
                held = True
        if held:
            break
        msg, event = left[first].pop(0)
        out.append((msg.topic, msg.offset))
        if not isinstance(event, DeadLetter):
            was = latest[first]
            latest[first] = event.occurred_at if was is None else max(was, event.occurred_at)
    return out


INPUT = st.tuples(
    st.lists(st.one_of(st.none(), st.integers(0, 30)), max_size=10),  # event times; None: dead
    st.sampled_from([0, 0, 0, 1, None]),  # lag: caught up, behind, not known
    st.booleans(),  # delivered within `idle` (else idle)
    st.one_of(st.none(), st.integers(0, 30)),  # the latest event time it delivered before
)


@settings(max_examples=500, deadline=None)
@given(
    st.fixed_dictionaries({USAGE: INPUT, SUPPORT: INPUT, ACCOUNT: INPUT}),
    st.integers(1, 40),
)
def test_taking_runs_gives_the_order_of_taking_the_earliest_head_one_at_a_time(
    inputs: dict[str, tuple[list[int | None], int | None, bool, int | None]], most: int
) -> None:
    """Event times out of order within a topic, dead letters, and empty inputs lagging,
    idle, or behind by more or less than the tolerance: the runs `take` takes give exactly
    the order of the rule applied one message at a time."""
    now, idle, tolerance = 100.0, 10.0, 5.0
    broker = Broker({})
    m = merge(broker, idle=idle, tolerance=tolerance, most=10_000)
    buffers: dict[str, list[Decoded]] = {}
    state: dict[str, tuple[int | None, float, float | None]] = {}
    for topic in (USAGE, SUPPORT, ACCOUNT):
        times, lag, lately, latest = inputs[topic]
        items: list[Decoded] = []
        for i, t in enumerate(times):
            if t is None:
                msg = Incoming(topic, 0, i, b"c", b"not json")
                items.append(Decoded(msg, DeadLetter(msg, "bad", "body")))
            else:
                items.append(item(topic, i, float(t)))
        buffers[topic] = items
        broker.lags[topic] = lag
        delivered = now - 1.0 if lately else now - 2 * idle
        source = m._input(topic)
        source.buffer.extend(items)
        source.delivered_at = delivered
        source.latest = None if latest is None else float(latest)
        state[topic] = (lag, delivered, source.latest)
    expected = one_at_a_time(buffers, state, most, now, idle, tolerance)
    assert expected == order(m.take(most, now)[0])
