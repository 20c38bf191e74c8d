"""How well health scores predict churn: ROC AUC with a bootstrap interval, churn rate per band
(lift) and a calibration table. Pure functions of scores and outcomes, for backtests.

A health score is high for healthy customers, so a good score ranks churners *below* stayers:
`churn_auc` is the probability that a churner picked at random scores lower than a stayer picked
at random (ties count half), 0.5 for a coin toss and 1.0 for a perfect ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def churn_auc(scores: Sequence[float], churned: Sequence[bool]) -> float | None:
    """ROC AUC of the scores as a predictor of churn (low score = churn); None without both
    a churner and a stayer. Mann-Whitney U with average ranks for ties.

    >>> churn_auc([10, 20, 80, 90], [True, True, False, False])
    1.0
    >>> churn_auc([10, 20, 80, 90], [False, False, True, True])
    0.0
    >>> churn_auc([50, 50, 50, 50], [True, False, True, False])
    0.5
    """
    if len(scores) != len(churned):
        raise ValueError(f"{len(scores)} scores for {len(churned)} outcomes")
    n_churn = sum(1 for c in churned if c)
    n_stay = len(churned) - n_churn
    if n_churn == 0 or n_stay == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: -scores[i])  # highest score ranks first
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = average
        i = j + 1
    churn_rank_sum = sum((r for r, c in zip(ranks, churned, strict=True) if c), 0.0)
    u = churn_rank_sum - n_churn * (n_churn + 1) / 2
    return u / (n_churn * n_stay)


def auc_interval(
    scores: Sequence[float],
    churned: Sequence[bool],
    *,
    draws: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """A percentile bootstrap interval of `churn_auc` (customers resampled with replacement);
    None when the AUC itself is undefined. Deterministic for a seed.

    All draws at once (numpy): each draw weighs every customer by how often it was picked, and
    its AUC is the Mann-Whitney count of `churn_auc` under those weights: for each churner, the
    stayers scoring higher, ties counting half.

    >>> auc_interval([10, 20, 30, 80, 90], [True, True, False, False, False], draws=200)
    (1.0, 1.0)
    """
    if churn_auc(scores, churned) is None:
        return None
    x = np.asarray(scores, dtype=float)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    is_churner = np.asarray(churned, dtype=bool)[order]
    n = len(xs)
    # for each position of the sorted scores: the first and last position of its equal scores
    new = np.r_[True, xs[1:] != xs[:-1]]
    starts = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    ends = (np.r_[np.nonzero(new)[0][1:], n] - 1)[np.cumsum(new) - 1]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(draws, n))
    counts = np.bincount((picks + (np.arange(draws) * n)[:, None]).ravel(), minlength=draws * n)
    weights = counts.reshape(draws, n)[:, order].astype(float)  # in score order
    churners = weights * is_churner
    stayers = weights * ~is_churner
    n_churn = churners.sum(axis=1)
    n_stay = stayers.sum(axis=1)
    upto = np.cumsum(stayers, axis=1)  # stayers scoring at most each position's score
    below = np.where(starts > 0, upto[:, np.maximum(starts - 1, 0)], 0.0)
    equal = upto[:, ends] - below
    above = n_stay[:, None] - below - equal
    u = (churners * (above + 0.5 * equal)).sum(axis=1)
    defined = (n_churn > 0) & (n_stay > 0)
    if not defined.any():
        return None
    values = sorted((u[defined] / (n_churn[defined] * n_stay[defined])).tolist())
    tail = (1.0 - level) / 2
    low = values[min(len(values) - 1, int(tail * len(values)))]
    high = values[min(len(values) - 1, int((1.0 - tail) * len(values)))]
    return low, high


@dataclass(frozen=True, slots=True)
class BandRate:
    """Customers in a band, how many churned, and the churn rate against the overall rate."""

    band: str
    customers: int
    churned: int
    rate: float
    lift: float | None  # rate / overall rate; None when nobody churned at all


def churn_by_band(bands: Sequence[str], churned: Sequence[bool]) -> list[BandRate]:
    """Churn rate per band and its lift over the overall rate, bands in first-seen order.

    >>> bands = ["critical", "critical", "healthy", "healthy"]
    >>> rows = churn_by_band(bands, [True, False, False, False])
    >>> [(r.band, r.rate, r.lift) for r in rows]
    [('critical', 0.5, 2.0), ('healthy', 0.0, 0.0)]
    """
    if len(bands) != len(churned):
        raise ValueError(f"{len(bands)} bands for {len(churned)} outcomes")
    overall = sum(1 for c in churned if c) / len(churned) if churned else 0.0
    counts: dict[str, list[int]] = {}
    for band, c in zip(bands, churned, strict=True):
        row = counts.setdefault(band, [0, 0])
        row[0] += 1
        row[1] += 1 if c else 0
    out = []
    for band, (n, k) in counts.items():
        rate = k / n
        out.append(BandRate(band, n, k, rate, rate / overall if overall > 0 else None))
    return out


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """Predicted churn probability against what happened, for the customers in one bin."""

    low: float
    high: float
    customers: int
    predicted: float  # mean predicted probability
    observed: float  # share that churned


def calibration(
    probabilities: Sequence[float], churned: Sequence[bool], bins: int = 10
) -> list[CalibrationBin]:
    """Equal-width bins of predicted churn probability (0-1); empty bins are left out.

    >>> table = calibration([0.1, 0.1, 0.9], [False, True, True], bins=2)
    >>> [(b.customers, b.predicted, b.observed) for b in table]
    [(2, 0.1, 0.5), (1, 0.9, 1.0)]
    """
    if len(probabilities) != len(churned):
        raise ValueError(f"{len(probabilities)} probabilities for {len(churned)} outcomes")
    if bins < 1:
        raise ValueError(f"bins: must be at least 1, got {bins}")
    grouped: dict[int, list[tuple[float, bool]]] = {}
    for p, c in zip(probabilities, churned, strict=True):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"probability: must be from 0 to 1, got {p}")
        grouped.setdefault(min(bins - 1, int(p * bins)), []).append((p, c))
    out = []
    for b in sorted(grouped):
        rows = grouped[b]
        out.append(
            CalibrationBin(
                low=b / bins,
                high=(b + 1) / bins,
                customers=len(rows),
                predicted=sum((p for p, _ in rows), 0.0) / len(rows),
                observed=sum(1 for _, c in rows if c) / len(rows),
            )
        )
    return out
