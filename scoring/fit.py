"""Learning the model's weights from outcomes: a regularised logistic regression of churn on the
model's signals, with every weight kept on the side that preserves the signal's meaning.

Every signal is 0-100 with higher meaning healthier (`scoring.components.signals`), so the fitted
model is `logit P(churn) = intercept - sum_j c_j * x_j / 100` with every `c_j >= 0`: a healthier
reading of a signal never raises the churn probability. The health score with weights
proportional to `c` is then `score = 100 * sum_j c_j x_j / C` (C = sum of c), a monotone
function of the fitted probability: `P = 1 / (1 + exp(-(intercept - C * score / 100)))`. That is
how a fit becomes a policy (`as_weights`) and a calibration (slope C, intercept).

The sentiment component is fitted as two signals: the surveys' sentiment and the manager's
assessment (`sentiment.csm`). Their weights add up to the component's, and their ratio sets the
assessment's weight among the sentiment measures (`csm_share`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scoring.policy import USAGE_SIGNALS

CSM = "sentiment.csm"  # the manager's assessment (`scoring.components.csm_signal`)
FEATURES = (*(f"usage.{s}" for s in USAGE_SIGNALS), "support", "sentiment", CSM)


@dataclass(frozen=True)
class Fit:
    """A fitted churn model: intercept and the non-negative weight of each feature."""

    intercept: float
    weights: dict[str, float]
    rows: int
    churners: int

    def probability(self, signals: Mapping[str, float]) -> float:
        z = self.intercept - sum(
            (c * signals.get(n, 0.0) / 100.0 for n, c in self.weights.items()), 0.0
        )
        return 1.0 / (1.0 + math.exp(-z))

    @property
    def slope(self) -> float:
        return sum(self.weights.values(), 0.0)


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    churned: Sequence[bool],
    *,
    l2: float = 1e-3,
    iterations: int = 3000,
    features: Sequence[str] = FEATURES,
) -> Fit:
    """Fit `logit P(churn) = b - sum c_j x_j` with `c_j >= 0` by projected accelerated
    gradient descent on the mean log-loss plus `l2 * |c|^2` (the intercept is not penalised).

    >>> rows = [{"usage.recency": x} for x in (10, 20, 30, 70, 80, 90)]
    >>> fit = fit_logistic(rows, [True, True, False, True, False, False])
    >>> fit.weights["usage.recency"] > 0, fit.weights["support"]
    (True, 0.0)
    """
    if len(rows) != len(churned):
        raise ValueError(f"{len(rows)} rows for {len(churned)} outcomes")
    if not rows or all(churned) or not any(churned):
        raise ValueError("fitting needs churners and stayers")
    x = np.array([[r.get(f, 0.0) / 100.0 for f in features] for r in rows], dtype=float)
    y = np.array(churned, dtype=float)
    n, k = x.shape
    design = np.hstack([np.ones((n, 1)), -x])  # logit = design @ theta, theta = (b, c)
    lipschitz = 0.25 * float(np.linalg.norm(design, 2) ** 2) / n + 2 * l2
    step = 1.0 / lipschitz
    theta = np.zeros(k + 1)
    base = float(y.mean())
    theta[0] = math.log(base / (1 - base))
    previous = theta.copy()
    penalty = np.full(k + 1, 2 * l2)
    penalty[0] = 0.0
    for i in range(1, iterations + 1):
        look = theta + (i - 1) / (i + 2) * (theta - previous)
        p = 1.0 / (1.0 + np.exp(-(design @ look)))
        grad = design.T @ (p - y) / n + penalty * look
        previous = theta
        theta = look - step * grad
        theta[1:] = np.maximum(theta[1:], 0.0)  # the sign constraint
        if float(np.max(np.abs(theta - previous))) < 1e-9:
            break
    return Fit(
        intercept=float(theta[0]),
        weights={f: float(c) for f, c in zip(features, theta[1:], strict=True)},
        rows=n,
        churners=int(y.sum()),
    )


def as_weights(fit: Fit) -> tuple[dict[str, float], dict[str, float]] | None:
    """The fit as policy weights: (component weights, usage signal weights), each summing to
    1; None when every weight is zero (no signal predicted churn)."""
    c = fit.weights
    usage = {s: c.get(f"usage.{s}", 0.0) for s in USAGE_SIGNALS}
    total = sum(c.values(), 0.0)
    if total <= 0:
        return None
    components = {
        "usage": sum(usage.values(), 0.0) / total,
        "support": c.get("support", 0.0) / total,
        "sentiment": (c.get("sentiment", 0.0) + c.get(CSM, 0.0)) / total,
    }
    usage_total = sum(usage.values(), 0.0)
    signals = (
        {s: w / usage_total for s, w in usage.items()}
        if usage_total > 0
        else {s: 1.0 / len(usage) for s in usage}
    )
    return components, signals


def csm_share(fit: Fit) -> float | None:
    """The manager's assessment's share of the sentiment weights the fit gives (the rest is
    the surveys', in the policy's own proportions): its weight over the sentiment's two; None
    when the fit did not weigh it (no assessment in the history) or weighs neither.

    >>> csm_share(Fit(0.0, {"sentiment": 3.0, CSM: 1.0}, 10, 5))
    0.25
    >>> csm_share(Fit(0.0, {"sentiment": 3.0}, 10, 5)) is None
    True
    """
    c = fit.weights
    if CSM not in c:
        return None
    both = c.get("sentiment", 0.0) + c[CSM]
    return c[CSM] / both if both > 0 else None


def score_with(fit: Fit, signals: Mapping[str, float]) -> float:
    """The health score the fitted weights give for a reading of the signals (0-100)."""
    total = fit.slope
    if total <= 0:
        return 50.0
    return round(sum((c * signals.get(n, 0.0) for n, c in fit.weights.items()), 0.0) / total, 2)


def retarget_frequency(sub: float, old_typical: float, new_typical: float) -> float:
    """The frequency signal read against another typical daily activity: the signal is
    100 * d / (d + typical), so d = typical * sub / (100 - sub).

    >>> round(retarget_frequency(50.0, 1.0, 2.0), 2)
    33.33
    """
    if sub >= 100.0:
        return 100.0
    daily = old_typical * sub / (100.0 - sub)
    return 100.0 * daily / (daily + new_typical)
