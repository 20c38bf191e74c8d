"""Health: the weighted sum of the components, its band, drivers and confidence."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scoring import components as comp
from scoring.policy import BANDS, BandPolicy, Policy
from scoring.state import CustomerState

MIN_DRIVER_POINTS = 0.05


@dataclass(frozen=True, slots=True)
class Driver:
    """One signal that moved the score: `impact` in points (negative pulls the score down)."""

    signal: str
    impact: float
    detail: str


@dataclass(frozen=True, slots=True)
class HealthScore:
    """A customer's health at one moment of event time, and why."""

    customer_id: str
    score: float
    band: str
    components: dict[str, float | None]
    drivers: tuple[Driver, ...]
    confidence: float
    as_of: float
    model: str
    churn_probability: float | None = None  # within the calibration's horizon, when calibrated


def band_for(score: float, bands: BandPolicy, previous: str | None = None) -> str:
    """Band of a score; moving back up a band needs `hysteresis` points above its threshold.

    >>> from scoring.policy import BandPolicy
    >>> b = BandPolicy(healthy=70, at_risk=40, hysteresis=3)
    >>> band_for(71, b), band_for(55, b), band_for(39.9, b)
    ('healthy', 'at_risk', 'critical')
    >>> band_for(71, b, previous="at_risk"), band_for(73, b, previous="at_risk")
    ('at_risk', 'healthy')
    """
    raw = (
        "healthy" if score >= bands.healthy else "at_risk" if score >= bands.at_risk else "critical"
    )
    if previous is None or BANDS.index(raw) >= BANDS.index(previous):
        return raw
    margin = score - bands.hysteresis
    lifted = (
        "healthy"
        if margin >= bands.healthy
        else "at_risk"
        if margin >= bands.at_risk
        else "critical"
    )
    return BANDS[min(BANDS.index(previous), BANDS.index(lifted))]


def compute_components(
    state: CustomerState, policy: Policy, now: float
) -> dict[str, comp.Component]:
    """Compute usage, support and sentiment at time `now`."""
    return {
        "usage": comp.usage(state, policy, now),
        "support": comp.support(state, policy, now),
        "sentiment": comp.sentiment(state, policy, now),
    }


def churn_probability(value: float, policy: Policy, segment: str | None) -> float | None:
    """The calibrated probability of churn within the calibration's horizon for a score, or
    None when the policy carries no calibration for the segment.

    >>> from stream.resources import load_policy
    >>> churn_probability(50.0, load_policy(), None) is None
    True
    """
    c = policy.calibration_for(segment)
    if c is None:
        return None
    z = c.intercept - c.slope * value / 100.0
    return 1.0 / (1.0 + math.exp(-z))


def _combine(
    values: Mapping[str, float | None], weights: Mapping[str, float]
) -> tuple[float, dict[str, float]] | None:
    """The weighted sum of the components with a value and a weight (0-100), and each one's
    share of the weight; None when none has both."""
    present = {n: v for n, v in values.items() if v is not None and weights[n] > 0}
    if not present:
        return None
    total_weight = sum(weights[n] for n in present)
    shares = {n: weights[n] / total_weight for n in present}
    total = 0.0
    for name, v in present.items():
        total += shares[name] * v
    return max(0.0, min(100.0, total)), shares


def value(state: CustomerState, policy: Policy, now: float) -> float | None:
    """The score `score` gives (rounded the same), without drivers or words: what the schedule
    asks many times when it looks ahead for a silent customer."""
    if state.first_seen is None:
        return None
    combined = _combine(
        {
            "usage": comp.weighted_value(comp.usage_parts(state, policy, now, words=False)),
            "support": comp.support(state, policy, now).value,
            "sentiment": comp.sentiment(state, policy, now).value,
        },
        policy.weights_for(state.segment),
    )
    return None if combined is None else round(combined[0], 2)


def score(
    state: CustomerState, policy: Policy, now: float, previous_band: str | None = None
) -> HealthScore | None:
    """Score the customer at event time `now`; None for a customer never heard of.

    Every known customer has all three components: a signal without evidence counts as
    neutral (`components.NEUTRAL`) and lowers the confidence instead, so a missing feed never
    moves a customer up or down the ranking. Confidence is the weight share of the components
    with evidence, times how long the customer has been known against `maturity_days`.
    """
    parts = compute_components(state, policy, now)
    weights = policy.weights_for(state.segment)
    combined = _combine({n: c.value for n, c in parts.items()}, weights)
    if combined is None:
        return None
    value, shares = combined
    drivers = [
        Driver(x.signal, -share * x.points, x.detail)
        for name, share in shares.items()
        for x in parts[name].losses
    ]
    evidence = {
        "usage": state.has_usage,
        "support": True,  # no ticket is evidence too: the customer needed no help
        "sentiment": any(
            x.ref is not None
            for x in (
                state.promoters,
                state.passives,
                state.detractors,
                state.csat_total,
                state.ces_total,
            )
        ),
    }
    coverage = sum(weights[n] for n in shares if evidence[n]) / sum(weights.values())
    age = now - state.first_seen if state.first_seen is not None else 0.0
    maturity = max(0.1, min(1.0, age / policy.maturity)) if policy.maturity > 0 else 1.0
    shown = sorted(
        (d for d in drivers if d.impact <= -MIN_DRIVER_POINTS), key=lambda d: (d.impact, d.signal)
    )
    rounded = round(value, 2)
    return HealthScore(
        customer_id=state.customer_id,
        score=rounded,
        band=band_for(value, policy.bands, previous_band),
        components={n: None if c.value is None else round(c.value, 2) for n, c in parts.items()},
        drivers=tuple(Driver(d.signal, round(d.impact, 2), d.detail) for d in shown),
        confidence=round(coverage * maturity, 3),
        as_of=now,
        model=policy.model,
        churn_probability=_rounded(churn_probability(rounded, policy, state.segment)),
    )


def _rounded(p: float | None) -> float | None:
    return None if p is None else round(p, 4)
