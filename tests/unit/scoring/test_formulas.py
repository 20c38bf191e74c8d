"""NPS, CSAT and CES follow the field's definitions, checked against hand computations."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring import formulas


def test_nps_of_five_promoters_three_passives_two_detractors_is_30() -> None:
    assert 30.0 == formulas.nps(5, 3, 2)


def test_nps_of_raw_answers_classifies_9_10_6_and_below() -> None:
    # promoters: 10, 9; passives: 8, 7; detractors: 6, 0 -> (2 - 2) / 6 = 0
    assert 0.0 == formulas.nps_of([10, 9, 8, 7, 6, 0])


def test_nps_is_minus_100_when_everyone_is_a_detractor() -> None:
    assert -100.0 == formulas.nps_of([0, 3, 6])


def test_nps_without_answers_is_none_not_zero() -> None:
    assert formulas.nps_of([]) is None


def test_csat_is_the_share_of_4_and_5() -> None:
    assert 60.0 == formulas.csat_of([5, 4, 4, 3, 1])


def test_ces_is_the_share_of_low_effort_answers_5_to_7() -> None:
    assert 50.0 == formulas.ces_of([7, 5, 4, 2])


def test_ces_mean_is_the_average_answer() -> None:
    assert pytest.approx(4.5) == formulas.ces_mean([7, 5, 4, 2])


def test_decayed_counts_work_like_plain_counts() -> None:
    assert pytest.approx(30.0) == formulas.nps(2.5, 1.5, 1.0)


@given(
    st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False),
        st.integers(-(10**8), 10**8).map(lambda n: n / 1000 + 0.0005),  # ties in decimal
        st.integers(-(10**8), 10**8).map(lambda n: n / 100),
        st.integers(-(10**8), 10**8).map(lambda n: n / 2),  # whole numbers and exact halves
        st.floats(-1.0, 1.0),  # zeros of either sign
    ),
    st.integers(0, 4),
)
def test_rounded_is_exactly_round(x: float, digits: int) -> None:
    expected = round(x, digits)
    actual = formulas.rounded(x, digits)
    assert (expected, math.copysign(1.0, expected)) == (actual, math.copysign(1.0, actual))
