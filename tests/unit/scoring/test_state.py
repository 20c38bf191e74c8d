"""Applying events builds order-free facts; duplicates and other customers are refused."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring import events as ev
from scoring.decay import DAY
from scoring.state import (
    ENTRY,
    advance,
    apply,
    entry_index,
    gap_summary,
    id_entry,
    is_closed,
    new_state,
    remember,
    too_late,
)

from .builders import (
    CID,
    POLICY,
    account,
    build,
    churned,
    day,
    feature,
    hour,
    nps,
    opened,
    reopened,
    replied,
    resolved,
    session,
)


def test_a_duplicate_event_id_leaves_the_state_unchanged() -> None:
    e = session(day(1))
    once = apply(new_state("acme"), e, POLICY)
    assert once is apply(once, e, POLICY)


def test_an_event_for_another_customer_is_refused() -> None:
    with pytest.raises(ValueError, match="applied to 'acme'"):
        apply(new_state("acme"), session(day(1), cid="other"), POLICY)


def test_a_ticket_is_open_until_resolved_and_open_again_when_reopened_later() -> None:
    s = build([opened(hour(0), "t1"), resolved(hour(5), "t1")])
    assert not s.tickets["t1"].is_open
    s = build([opened(hour(0), "t1"), resolved(hour(5), "t1"), reopened(hour(9), "t1")])
    assert s.tickets["t1"].is_open


def test_the_first_agent_reply_sets_first_response_whatever_the_arrival_order() -> None:
    events = [
        replied(hour(7), "t1"),
        replied(hour(2), "t1", by="customer"),
        replied(hour(3), "t1"),
        opened(hour(1), "t1"),
    ]
    assert 2 * 3600.0 == build(events).tickets["t1"].first_response_seconds()


def test_the_latest_account_update_wins_by_event_time_not_arrival() -> None:
    s = build([account(day(5), segment="enterprise"), account(day(1), segment="smb")])
    assert "enterprise" == s.segment


def test_a_churned_customer_is_marked_churned() -> None:
    assert build([session(day(1)), churned(day(2))]).is_churned


def test_the_last_detractor_answer_time_is_remembered() -> None:
    assert day(2) == build([nps(day(2), 4), nps(day(3), 10)]).last_detractor_at


def test_feature_breadth_keeps_the_last_use_of_each_feature() -> None:
    s = build([feature(day(1), "a"), feature(day(4), "a"), feature(day(2), "b")])
    assert {"a": day(4), "b": day(2)} == s.features


def test_advancing_time_forgets_event_ids_older_than_the_dedupe_window() -> None:
    s = build([session(day(1))])
    assert ENTRY == len(s.seen)
    assert 0 == len(advance(s, day(40), POLICY).seen)


def test_an_event_older_than_the_dedupe_window_is_refused_with_its_reason() -> None:
    s = build([session(day(40))])
    late = session(day(4))
    assert s is apply(s, late, POLICY)
    reason = too_late(s, late, POLICY)
    assert reason is not None
    assert "35 days (dedupe_window_days)" in reason


def test_an_event_no_later_than_the_ids_the_bound_forgot_is_refused() -> None:
    policy = replace(POLICY, dedupe_max_ids=4)
    s = new_state(CID)
    for i in range(6):
        s = apply(s, ev.Session(f"b-{i}", CID, day(1) + i * 60.0, "u1"), policy)
    assert 4 * ENTRY == len(s.seen)
    assert math.floor(day(1) + 60.0) == s.forgotten  # the second of b-1, the newest dropped
    old = ev.Session("new-but-late", CID, day(1) + 30.0, "u1")
    assert s is apply(s, old, policy)
    reason = too_late(s, old, policy)
    assert reason is not None
    assert "dedupe_max_ids" in reason
    after = ev.Session("after-it", CID, day(1) + 90.0, "u1")
    assert too_late(s, after, policy) is None
    assert s is not apply(s, after, policy)


def test_an_event_inside_the_dedupe_window_is_applied_whatever_its_order() -> None:
    s = build([session(day(40))])
    assert day(6) == apply(s, session(day(6)), POLICY).first_seen


def test_a_remembered_duplicate_is_dropped_even_when_it_comes_late() -> None:
    e = session(day(30))
    s = build([e, session(day(31))])
    assert s is apply(s, e, POLICY)


def test_a_late_event_for_a_ticket_resolved_and_forgotten_changes_nothing() -> None:
    policy = replace(POLICY, dedupe_window=200 * DAY)  # late, yet within the dedupe window
    s = build([opened(day(1), "T-1"), resolved(day(2), "T-1"), session(day(120))], policy)
    assert "T-1" not in s.tickets
    assert is_closed(s, "T-1")
    assert s is apply(s, reopened(day(50), "T-1"), policy)
    assert too_late(s, reopened(day(50), "T-1"), policy) is None  # not a dead letter


def test_a_late_ticket_event_for_a_ticket_never_seen_is_applied() -> None:
    s = build([session(day(30))])
    assert apply(s, opened(day(10), "T-2"), POLICY).tickets["T-2"].is_open


def test_a_ticket_backfilled_months_late_ends_forgotten_as_if_it_came_in_time() -> None:
    policy = replace(POLICY, dedupe_window=200 * DAY)
    in_time = build([opened(day(1), "T-3"), resolved(day(2), "T-3"), session(day(120))], policy)
    late = build([session(day(120)), opened(day(1), "T-3"), resolved(day(2), "T-3")], policy)
    late = advance(late, day(120) + 1, policy)
    assert in_time.tickets == late.tickets == {}


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 30)), max_size=80))
def test_the_ids_remembered_are_the_newest_of_the_window_whatever_the_order(
    draws: list[tuple[int, int]],
) -> None:
    policy = replace(POLICY, dedupe_max_ids=16)
    entries = [id_entry(day(d), f"e-{n}") for d, n in draws]
    forward, backward = b"", b""
    for e in entries:
        forward = remember(forward, e, oldest=day(5), most=policy.dedupe_max_ids)
    for e in reversed(entries):
        backward = remember(backward, e, oldest=day(5), most=policy.dedupe_max_ids)
    expected = sorted({e for e in entries if e[:4] >= id_entry(day(5), "")[:4]})[-16:]
    assert b"".join(expected) == forward == backward
    for e in expected:
        assert entry_index(forward, e)[1]


@given(st.integers(1, 3000))
def test_a_customer_remembers_at_most_dedupe_max_ids_whatever_its_volume(n: int) -> None:
    s = build([session(day(1) + i * 30.0) for i in range(n)])
    assert min(n, POLICY.dedupe_max_ids) * ENTRY == len(s.seen)


@given(st.integers(min_value=0, max_value=(1 << 130) - 1))
def test_gap_summary_counts_sums_and_bounds_the_gaps_between_active_days(mask: int) -> None:
    days = [i for i in range(mask.bit_length()) if mask >> i & 1]
    gaps = [b - a for a, b in itertools.pairwise(days)]
    expected = (len(gaps), sum(gaps), max(gaps)) if gaps else (0, 0, 0)
    assert expected == gap_summary(mask)


def test_the_hot_paths_exact_type_sets_name_the_same_events_as_the_kinds():
    """`scoring.state`, `scoring.segments` and the fold test an event's kind by its exact type
    (`type(e) in USAGE_TYPES`, `type(e) is ev.NpsAnswered`): right only while no event class
    is subclassed and each set holds its kind's classes."""
    for cls in ev.EVENT_TYPES:
        assert cls.__subclasses__() == [], f"{cls.__name__} is subclassed"
    assert ev.USAGE_TYPES == {ev.Session, ev.FeatureUsed}
    assert ev.TICKET_TYPES == {c for c in ev.EVENT_TYPES if c.__name__.startswith("Ticket")}
    assert ev.ACCOUNT_MOVE_TYPES == {ev.AccountUpdated, ev.Churned, ev.Renewed}
    assert ev.FEED_TYPES == {*ev.USAGE_TYPES, ev.SeatSnapshot, ev.AccountUpdated}
    for cls in ev.EVENT_TYPES:
        assert (cls in ev.USAGE_TYPES) == (cls.KIND == "usage" and cls is not ev.SeatSnapshot)
        assert (cls in ev.TICKET_TYPES) == (cls.KIND == "support")
