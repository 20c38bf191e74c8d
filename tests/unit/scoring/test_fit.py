"""The constrained logistic fit behind `healthscore calibrate`, on cases with known answers."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from scoring.fit import FEATURES, Fit, as_weights, fit_logistic, retarget_frequency, score_with


def _sample(n: int, seed: int = 1) -> tuple[list[dict[str, float]], list[bool]]:
    """Churn driven by recency (strongly) and support (weakly); sentiment is pure noise."""
    rng = random.Random(seed)
    rows, churned = [], []
    for _ in range(n):
        r = {
            "usage.recency": rng.uniform(0, 100),
            "support": rng.uniform(0, 100),
            "sentiment": rng.uniform(0, 100),
        }
        z = 2.0 - 5.0 * r["usage.recency"] / 100 - 1.0 * r["support"] / 100
        rows.append(r)
        churned.append(rng.random() < 1 / (1 + math.exp(-z)))
    return rows, churned


def test_the_fit_recovers_known_weights() -> None:
    rows, churned = _sample(20_000)
    fit = fit_logistic(rows, churned, l2=0.0, iterations=20_000)
    assert pytest.approx(5.0, abs=0.4) == fit.weights["usage.recency"]
    assert pytest.approx(1.0, abs=0.4) == fit.weights["support"]
    assert pytest.approx(2.0, abs=0.3) == fit.intercept
    assert fit.weights["sentiment"] < 0.3


def test_a_weight_never_flips_a_signals_meaning() -> None:
    # churn rises with the signal: the unconstrained weight would be negative; it stays 0
    rows = [{"usage.trend": float(x)} for x in range(100)]
    churned = [x >= 50 for x in range(100)]
    fit = fit_logistic(rows, churned)
    assert 0.0 == fit.weights["usage.trend"]
    assert all(c >= 0.0 for c in fit.weights.values())


def test_the_weights_become_a_policy_whose_score_is_monotone_in_the_probability() -> None:
    rows, churned = _sample(3_000, seed=2)
    fit = fit_logistic(rows, churned)
    weights = as_weights(fit)
    assert weights is not None
    components, signals = weights
    assert pytest.approx(1.0) == sum(components.values())
    assert pytest.approx(1.0) == sum(signals.values())
    pairs = sorted((score_with(fit, r), fit.probability(r)) for r in rows[:200])
    probabilities = [p for _, p in pairs]  # scores are rounded to 0.01: allow for that
    assert all(a >= b - 1e-3 for a, b in itertools.pairwise(probabilities))
    # the calibration reads the probability back from the score
    for s, p in pairs[:20]:
        assert pytest.approx(p, abs=1e-3) == 1 / (
            1 + math.exp(-(fit.intercept - fit.slope * s / 100))
        )


def test_no_signal_predicting_churn_gives_no_weights() -> None:
    assert as_weights(Fit(0.0, dict.fromkeys(FEATURES, 0.0), 10, 5)) is None


def test_fitting_needs_both_outcomes() -> None:
    with pytest.raises(ValueError, match="churners and stayers"):
        fit_logistic([{"support": 1.0}], [True])


def test_frequency_is_read_again_against_a_new_typical_activity() -> None:
    # 2 a day against typical 1 reads 100 * 2 / 3; against typical 4, 100 * 2 / 6
    assert pytest.approx(100 * 2 / 6) == retarget_frequency(100 * 2 / 3, 1.0, 4.0)
