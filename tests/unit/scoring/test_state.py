"""Applying events builds order-free facts; duplicates and other customers are refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.state import advance, apply, digest_index, new_state, too_late, with_digest

from .builders import (
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
    assert 1 == len(s.seen)
    assert 0 == len(advance(s, day(40), POLICY).seen)


def test_an_event_older_than_the_dedupe_window_is_refused() -> None:
    s = build([session(day(40))])
    assert too_late(s, session(day(4)), POLICY)
    assert s is apply(s, session(day(4)), POLICY)


def test_an_event_inside_the_dedupe_window_is_applied_whatever_its_order() -> None:
    s = build([session(day(40))])
    assert not too_late(s, session(day(6)), POLICY)
    assert day(6) == apply(s, session(day(6)), POLICY).first_seen


def test_advancing_time_never_moves_the_clock_back() -> None:
    s = build([session(day(10))])
    assert day(10) == advance(s, day(3), POLICY).clock


@given(st.lists(st.binary(min_size=8, max_size=8), max_size=60))
def test_a_days_digests_stay_one_sorted_string_of_distinct_digests(digests: list[bytes]) -> None:
    packed = b""
    for d in digests:
        packed = with_digest(packed, d)
    assert packed == b"".join(sorted(set(digests)))
    for d in digests:
        assert digest_index(packed, d)[1]
    absent = [d for d in (b"\x00" * 8, b"\xff" * 8, b"middle!!") if d not in digests]
    assert not any(digest_index(packed, d)[1] for d in absent)
