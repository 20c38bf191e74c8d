"""Decayed sums halve every half-life and do not care in which order events arrive."""

from __future__ import annotations

import pytest

from scoring.decay import DAY, DecayedSum

H = 7 * DAY


def test_a_weight_halves_after_one_half_life() -> None:
    s = DecayedSum().add(8.0, at=0.0, half_life=H)
    assert 4.0 == s.value_at(H, H)


def test_a_weight_quarters_after_two_half_lives() -> None:
    s = DecayedSum().add(8.0, at=0.0, half_life=H)
    assert 2.0 == s.value_at(2 * H, H)


def test_an_older_event_is_added_at_its_decayed_weight() -> None:
    s = DecayedSum().add(1.0, at=H, half_life=H).add(1.0, at=0.0, half_life=H)
    assert (1.5, H) == (s.value_at(H, H), s.ref)


def test_order_of_two_events_gives_the_same_sum() -> None:
    a = DecayedSum().add(1.0, at=0.0, half_life=H).add(3.0, at=2 * DAY, half_life=H)
    b = DecayedSum().add(3.0, at=2 * DAY, half_life=H).add(1.0, at=0.0, half_life=H)
    assert pytest.approx(a.value_at(9 * DAY, H)) == b.value_at(9 * DAY, H)


def test_an_empty_sum_is_zero_at_any_time() -> None:
    assert 0.0 == DecayedSum().value_at(123.0, H)


def test_a_steady_daily_rate_reads_back_as_that_rate() -> None:
    s = DecayedSum()
    for d in range(365):
        s = s.add(5.0, at=d * DAY, half_life=H)
    assert pytest.approx(5.0, rel=1e-6) == s.rate_at(364 * DAY, H)
