"""The churn-prediction metrics against hand-computed cases, and their laws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scoring.evaluation import auc_interval, calibration, churn_auc, churn_by_band


def test_auc_counts_the_pairs_ranked_right_ties_as_half() -> None:
    # churners score 10 and 50, stayers 50 and 90: pairs (10<50) (10<90) (50=50 half) (50<90)
    assert 3.5 / 4 == churn_auc([10, 50, 50, 90], [True, True, False, False])


def test_auc_is_undefined_without_a_churner_or_without_a_stayer() -> None:
    assert churn_auc([1, 2], [False, False]) is None
    assert churn_auc([1, 2], [True, True]) is None


def test_auc_refuses_scores_and_outcomes_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="2 scores for 1 outcomes"):
        churn_auc([1, 2], [True])


@given(st.lists(st.tuples(st.integers(0, 100), st.booleans()), min_size=2, max_size=60))
def test_reversing_the_scores_turns_auc_into_its_complement(rows: list[tuple[int, bool]]) -> None:
    scores = [float(s) for s, _ in rows]
    churned = [c for _, c in rows]
    auc = churn_auc(scores, churned)
    assume(auc is not None)
    flipped = churn_auc([-s for s in scores], churned)
    assert flipped is not None
    assert abs((1.0 - auc) - flipped) < 1e-12  # type: ignore[operator]


@given(st.lists(st.tuples(st.integers(0, 100), st.booleans()), min_size=2, max_size=40))
def test_auc_equals_the_share_of_pairs_ranked_right(rows: list[tuple[int, bool]]) -> None:
    churners = [s for s, c in rows if c]
    stayers = [s for s, c in rows if not c]
    assume(churners and stayers)
    pairs = [(a, b) for a in churners for b in stayers]
    expected = sum(1.0 if a < b else 0.5 if a == b else 0.0 for a, b in pairs) / len(pairs)
    got = churn_auc([float(s) for s, _ in rows], [c for _, c in rows])
    assert got is not None
    assert abs(expected - got) < 1e-12


def test_the_bootstrap_interval_holds_the_auc_and_is_the_same_for_a_seed() -> None:
    scores = [float(s) for s in (5, 12, 30, 33, 41, 58, 60, 71, 77, 90, 94, 99)]
    churned = [True, True, False, True, False, True, False, False, False, False, False, False]
    auc = churn_auc(scores, churned)
    interval = auc_interval(scores, churned, draws=300, seed=1)
    assert auc is not None
    assert interval is not None
    assert interval[0] <= auc <= interval[1]
    assert interval == auc_interval(scores, churned, draws=300, seed=1)


def test_churn_by_band_gives_rates_and_lift_over_the_overall_rate() -> None:
    bands = ["critical"] * 4 + ["at_risk"] * 4 + ["healthy"] * 12
    churned = [True, True, True, False] + [True, False, False, False] + [False] * 12
    rows = {r.band: r for r in churn_by_band(bands, churned)}
    overall = 4 / 20
    assert (4, 3, 0.75) == (
        rows["critical"].customers,
        rows["critical"].churned,
        rows["critical"].rate,
    )
    assert 0.75 / overall == rows["critical"].lift
    assert 0.25 / overall == rows["at_risk"].lift
    assert 0.0 == rows["healthy"].lift


def test_calibration_bins_compare_predicted_and_observed_churn() -> None:
    probabilities = [0.05, 0.15, 0.12, 0.55, 0.95, 0.91]
    churned = [False, False, True, True, True, True]
    bins = calibration(probabilities, churned, bins=10)
    assert [(0.0, 1), (0.1, 2), (0.5, 1), (0.9, 2)] == [(b.low, b.customers) for b in bins]
    assert 0.5 == bins[1].observed
    assert abs(0.135 - bins[1].predicted) < 1e-12


def test_calibration_refuses_a_probability_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match=r"probability: must be from 0 to 1, got 1\.5"):
        calibration([1.5], [True])


@given(
    st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=2, max_size=40),
    st.integers(0, 1000),
)
def test_each_bootstrap_draw_is_the_auc_of_the_customers_it_picked(
    rows: list[tuple[int, bool]], seed: int
) -> None:
    scores = [float(s) for s, _ in rows]
    churned = [c for _, c in rows]
    assume(churn_auc(scores, churned) is not None)
    picks = np.random.default_rng(seed).integers(0, len(rows), size=(1, len(rows)))[0]
    expected = churn_auc([scores[i] for i in picks], [churned[i] for i in picks])
    interval = auc_interval(scores, churned, draws=1, seed=seed)
    if expected is None:
        assert interval is None
    else:
        assert interval is not None
        assert abs(expected - interval[0]) < 1e-12
        assert interval[0] == interval[1]
