"""The laws of the scoring model, checked on generated histories (hypothesis)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from scoring import components as comp
from scoring import events as ev
from scoring import reading
from scoring.decay import DAY
from scoring.health import score
from scoring.state import (
    ENTRY,
    apply,
    is_closed,
    new_state,
    too_late,
)

from .builders import POLICY, T0, build

CID = "acme"
TICKETS = ("t1", "t2", "t3")
FEATURES = ("a", "b", "c", "d", "e", "f")


def times(span_days: float) -> st.SearchStrategy[float]:
    return st.integers(0, int(span_days * DAY)).map(lambda s: T0 + s)


def event_kinds(span_days: float) -> st.SearchStrategy[Any]:
    t = times(span_days)
    ticket = st.sampled_from(TICKETS)
    return st.one_of(
        st.builds(lambda at: ("session", at), t),
        st.builds(
            lambda at, f, n: ("feature", at, f, n), t, st.sampled_from(FEATURES), st.integers(1, 30)
        ),
        st.builds(
            lambda at, a, lic: ("seats", at, min(a, lic), lic),
            t,
            st.integers(0, 50),
            st.integers(1, 50),
        ),
        st.builds(lambda at, k, p: ("opened", at, k, p), t, ticket, st.sampled_from(ev.PRIORITIES)),
        st.builds(
            lambda at, k, by: ("replied", at, k, by), t, ticket, st.sampled_from(ev.REPLIERS)
        ),
        st.builds(lambda at, k: ("resolved", at, k), t, ticket),
        st.builds(lambda at, k: ("reopened", at, k), t, ticket),
        st.builds(lambda at, k: ("escalated", at, k), t, ticket),
        st.builds(lambda at, s: ("nps", at, s), t, st.integers(0, 10)),
        st.builds(lambda at, s: ("csat", at, s), t, st.integers(1, 5)),
        st.builds(lambda at, s: ("ces", at, s), t, st.integers(1, 7)),
        st.builds(
            lambda at, seg, mrr: ("account", at, seg, mrr),
            t,
            st.sampled_from(["smb", "mid_market", "enterprise", "other"]),
            st.none() | st.sampled_from([0.0, 300.0, 1000.0, 2500.0]),
        ),
    )


def make(spec: tuple[Any, ...], i: int) -> ev.Event:
    kind, at, *rest = spec
    eid = f"p{i}"
    factories: dict[str, Any] = {
        "session": lambda: ev.Session(eid, CID, at, "u"),
        "feature": lambda: ev.FeatureUsed(eid, CID, at, rest[0], rest[1]),
        "seats": lambda: ev.SeatSnapshot(eid, CID, at, rest[0], rest[1]),
        "opened": lambda: ev.TicketOpened(eid, CID, at, rest[0], rest[1]),
        "replied": lambda: ev.TicketReplied(eid, CID, at, rest[0], rest[1]),
        "resolved": lambda: ev.TicketResolved(eid, CID, at, rest[0]),
        "reopened": lambda: ev.TicketReopened(eid, CID, at, rest[0]),
        "escalated": lambda: ev.TicketEscalated(eid, CID, at, rest[0]),
        "nps": lambda: ev.NpsAnswered(eid, CID, at, rest[0]),
        "csat": lambda: ev.CsatAnswered(eid, CID, at, rest[0]),
        "ces": lambda: ev.CesAnswered(eid, CID, at, rest[0]),
        "account": lambda: ev.AccountUpdated(eid, CID, at, segment=rest[0], mrr=rest[1]),
    }
    return factories[kind]()  # type: ignore[no-any-return]


def histories(span_days: float = 20, max_size: int = 40) -> st.SearchStrategy[list[ev.Event]]:
    return st.lists(event_kinds(span_days), min_size=1, max_size=max_size).map(
        lambda specs: [make(s, i) for i, s in enumerate(specs)]
    )


def close(a: Any, b: Any) -> bool:
    """Structural equality with floats compared to 1e-9 relative."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        return type(a) is type(b) and all(  # the fields equality reads: not caches
            close(getattr(a, f.name), getattr(b, f.name))
            for f in dataclasses.fields(a)
            if f.compare
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def latest(events: list[ev.Event]) -> float:
    return max(e.occurred_at for e in events)


@settings(max_examples=300, deadline=None)
@given(histories(), st.floats(0, 60))
def test_scores_components_and_confidence_stay_in_range(
    events: list[ev.Event], later: float
) -> None:
    now = latest(events) + later * DAY
    h = score(build(events), POLICY, now)
    if h is not None:
        assert 0.0 <= h.score <= 100.0
        assert 0.0 <= h.confidence <= 1.0
        assert all(v is None or 0.0 <= v <= 100.0 for v in h.components.values())
        assert all(d.impact <= 0 for d in h.drivers)


@settings(max_examples=300, deadline=None)
@given(histories(span_days=30), st.randoms(use_true_random=False))
def test_arrival_order_does_not_change_the_state(events: list[ev.Event], rnd: Any) -> None:
    """Within the dedupe window every event is applied, in whatever order it comes."""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert close(build(events), build(shuffled))


@settings(max_examples=300, deadline=None)
@given(histories(span_days=90), st.randoms(use_true_random=False))
def test_a_late_event_is_refused_or_applied_as_if_it_came_in_time(
    events: list[ev.Event], rnd: Any
) -> None:
    """Over months: what arrives too late to be told from a duplicate is refused (`too_late`),
    and the state is that of the events applied, in the order they happened."""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    state, applied = new_state(CID), []
    for e in shuffled:
        after = apply(state, e, POLICY)
        if after is state:  # too late, or for a ticket resolved and forgotten since
            ticket = getattr(e, "ticket_id", None)
            assert too_late(state, e, POLICY) is not None or is_closed(state, str(ticket))
        else:
            applied.append(e)
        state = after
    assert close(state, build(sorted(applied, key=lambda e: e.occurred_at)))


@settings(max_examples=300, deadline=None)
@given(histories(span_days=90), st.data())
def test_applying_an_event_twice_equals_applying_it_once(
    events: list[ev.Event], data: st.DataObject
) -> None:
    """However late it comes back."""
    state = build(events)
    again = data.draw(st.sampled_from(events))
    assert close(state, apply(state, again, POLICY))


@settings(max_examples=200, deadline=None)
@given(histories(span_days=90), st.randoms(use_true_random=False))
def test_replaying_a_whole_history_changes_nothing(events: list[ev.Event], rnd: Any) -> None:
    """Producers' duplicates, in any order and however late, are caught: remembered, or too
    late to tell from a duplicate and refused. Redelivery is caught by offsets in the worker."""
    state = build(events)
    replayed = list(events)
    rnd.shuffle(replayed)
    assert state is build(replayed, start=state)


@settings(max_examples=200, deadline=None)
@given(histories(span_days=90, max_size=120), st.integers(2, 16))
def test_the_dedupe_memory_is_bounded_whatever_the_history(
    events: list[ev.Event], most: int
) -> None:
    policy = dataclasses.replace(POLICY, dedupe_max_ids=most)
    state = build(events, policy)
    assert len(state.seen) <= most * ENTRY
    assert state is build(events, policy, start=state)


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(0, 6), st.integers(0, 20 * 86_400))
# an answer dated before the customer's first session: it must not stretch the days its usage
# rates are read over (found by this test in CI when they were read from `first_seen`)
@example(
    [
        make(s, i)
        for i, s in enumerate(
            [("session", 1767357103.0), ("resolved", 1768565290.0, "t1"), ("nps", 1767225601.0, 0)]
        )
    ],
    0,
    0,
)
def test_more_detractor_answers_never_raise_the_score(
    events: list[ev.Event], answer: int, offset: int
) -> None:
    state = build(events)
    now = max(latest(events), T0 + offset)
    before = score(state, POLICY, now)
    after = score(
        apply(state, ev.NpsAnswered("extra", CID, T0 + offset, answer), POLICY), POLICY, now
    )
    assume(before is not None)
    assert after is not None
    assert before is not None
    assert after.score <= before.score + 1e-9


@settings(max_examples=300, deadline=None)
@given(
    histories(),
    st.sampled_from(["session", "feature"]),
    st.sampled_from(FEATURES),
    st.integers(1, 30),
)
def test_more_usage_never_lowers_the_usage_component(
    events: list[ev.Event], kind: str, feature: str, count: int
) -> None:
    now = latest(events)
    state = build(events)
    extra: ev.Event = (
        ev.Session("extra", CID, now, "u")
        if kind == "session"
        else ev.FeatureUsed("extra", CID, now, feature, count)
    )
    before = comp.usage(state, POLICY, now).value
    after = comp.usage(apply(state, extra, POLICY), POLICY, now).value
    assume(before is not None)
    assert after is not None
    assert before is not None
    assert after >= before - 1e-9


@settings(max_examples=300, deadline=None)
@given(histories(), st.floats(0, 90), st.floats(0, 90))
def test_advancing_time_without_events_never_raises_usage(
    events: list[ev.Event], first: float, second: float
) -> None:
    state = build(events)
    early = latest(events) + min(first, second) * DAY
    late = latest(events) + max(first, second) * DAY
    before = comp.usage(state, POLICY, early).value
    after = comp.usage(state, POLICY, late).value
    assume(before is not None)
    assert after is not None
    assert before is not None
    assert after <= before + 1e-9


@settings(max_examples=300, deadline=None)
@given(histories(span_days=60, max_size=60), st.floats(0, 90))
def test_the_lean_reading_equals_the_components_explained_in_words(
    events: list[ev.Event], later: float
) -> None:
    """Every evaluation reads the components as plain arithmetic (`scoring.reading`); the
    drivers explain them in words (`scoring.components`): the two are the same numbers."""
    state = build(events)
    now = latest(events) + later * DAY
    assert comp.usage(state, POLICY, now).value == reading.usage_value(state, POLICY, now)
    assert comp.support(state, POLICY, now).value == reading.support_value(state, POLICY, now)
    assert comp.sentiment(state, POLICY, now).value == reading.sentiment_value(state, POLICY, now)
