"""Segment aggregates follow their written definitions over a rolling window."""

from __future__ import annotations

import pytest

from scoring.events import Event
from scoring.segments import SegmentWindow, facts
from scoring.state import CustomerState, apply, new_state

from .builders import POLICY, churned, day, hour, nps, opened, reopened, replied, resolved


def window_of(events: list[Event], segment: str = "smb", cid: str = "acme") -> SegmentWindow:
    w = SegmentWindow(window_days=30)
    state: CustomerState = new_state(cid)
    for e in events:
        after = apply(state, e, POLICY)
        w = w.add(segment, facts(state, after, e))
        state = after
    return w


def test_segment_nps_counts_every_answer_in_the_window() -> None:
    w = window_of([nps(day(1), s) for s in (10, 9, 9, 10, 9, 8, 7, 8, 3, 6)])
    assert 30.0 == w.metrics("smb", day(2)).nps


def test_answers_older_than_the_window_are_not_counted() -> None:
    w = window_of([nps(day(1), 0), nps(day(40), 10)])
    assert 100.0 == w.metrics("smb", day(40)).nps


def test_first_response_and_resolution_times_are_averaged_in_seconds() -> None:
    w = window_of(
        [
            opened(hour(0), "a"),
            replied(hour(2), "a"),
            resolved(hour(10), "a"),
            opened(hour(0), "b"),
            replied(hour(4), "b"),
            resolved(hour(20), "b"),
        ]
    )
    m = w.metrics("smb", day(2))
    assert (3 * 3600.0, 15 * 3600.0) == (m.first_response_seconds, m.resolution_seconds)


def test_reopen_rate_is_reopens_per_ticket_opened() -> None:
    w = window_of(
        [opened(hour(0), "a"), opened(hour(0), "b"), resolved(hour(1), "a"), reopened(hour(2), "a")]
    )
    assert 0.5 == w.metrics("smb", day(1)).reopen_rate


def test_churn_rate_is_churned_customers_over_the_segments_customers() -> None:
    w = window_of([churned(day(1))])
    assert pytest.approx(0.1) == w.metrics("smb", day(2), customers=10).churn_rate


def test_a_duplicate_event_adds_no_fact() -> None:
    e = nps(day(1), 3)
    once = apply(new_state("acme"), e, POLICY)
    assert [] == facts(once, apply(once, e, POLICY), e)


def test_expire_drops_days_outside_the_window() -> None:
    w = window_of([nps(day(1), 3), nps(day(35), 9)]).expire(day(40))
    assert 1 == sum(len(v) for v in w.buckets.values())
