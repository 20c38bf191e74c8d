"""Health: the weighted sum of the components, its band, drivers and confidence."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from scoring import components as comp
from scoring.policy import BANDS, BandPolicy, Policy
from scoring.state import CustomerState

MIN_DRIVER_POINTS = 0.05


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Driver:
    """One signal that moved the score: `impact` in points (negative pulls the score down)."""

    signal: str
    impact: float
    detail: str


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class HealthScore:
    """A customer's health at one moment of event time, and why.

    `drivers` are worked out when first read (`score(..., explain=False)`): the engine
    evaluates a customer more often than it publishes or alerts, and the drivers in words are
    half the cost of a score. They are the same whenever they are read: the state they are
    worked out from is immutable."""

    customer_id: str
    score: float
    band: str
    components: dict[str, float | None]
    confidence: float
    as_of: float
    model: str
    churn_probability: float | None = None  # within the calibration's horizon, when calibrated
    mrr: float | None = None  # the account's monthly recurring revenue, when known
    _drivers: tuple[Driver, ...] | None = field(default=None, repr=False, compare=False)
    _source: tuple[CustomerState, Policy] | None = field(default=None, repr=False, compare=False)

    @property
    def revenue_at_risk(self) -> float | None:
        """MRR x churn probability when calibrated; otherwise MRR x the relative risk
        (100 - score) / 100, an ordering, not a probability (`revenue_at_risk_calibrated`)."""
        if self.mrr is None:
            return None
        risk = (
            self.churn_probability
            if self.churn_probability is not None
            else (100.0 - self.score) / 100.0
        )
        return round(self.mrr * risk, 2)

    @property
    def revenue_at_risk_calibrated(self) -> bool:
        return self.churn_probability is not None

    @property
    def drivers(self) -> tuple[Driver, ...]:
        """The signals that pulled the score down, most first, in words."""
        if self._drivers is None:
            assert self._source is not None
            state, policy = self._source
            self._drivers = drivers_at(state, policy, self.as_of)  # the one lazy field
            self._source = None
        assert self._drivers is not None
        return self._drivers


def _mrr(state: CustomerState) -> float | None:
    s = state.attributes.get("mrr")
    if s is None or not isinstance(s.value, int | float) or isinstance(s.value, bool):
        return None
    return float(s.value)


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
    """Compute usage, support and sentiment at time `now`, with their losses in words."""
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
    total_weight = sum((weights[n] for n in present), 0.0)
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
    combined = _combine(_values(state, policy, now), policy.weights_for(state.segment))
    return None if combined is None else round(combined[0], 2)


def _values(state: CustomerState, policy: Policy, now: float) -> dict[str, float | None]:
    """The components' values at `now`, without their losses in words."""
    return {
        "usage": comp.usage_value(state, policy, now),
        "support": comp.support(state, policy, now, words=False).value,
        "sentiment": comp.sentiment(state, policy, now, words=False).value,
    }


def drivers_at(state: CustomerState, policy: Policy, now: float) -> tuple[Driver, ...]:
    """What pulls the score at `now` down, in points and words, most first (those of at least
    `MIN_DRIVER_POINTS`); empty for a customer never heard of."""
    parts = compute_components(state, policy, now)
    combined = _combine({n: c.value for n, c in parts.items()}, policy.weights_for(state.segment))
    return () if combined is None else _drivers(parts, combined[1])


def _drivers(
    parts: Mapping[str, comp.Component], shares: Mapping[str, float]
) -> tuple[Driver, ...]:
    lost = [
        (-share * x.points, x.signal, x.detail)
        for name, share in shares.items()
        for x in parts[name].losses
    ]
    shown = sorted(x for x in lost if x[0] <= -MIN_DRIVER_POINTS)
    return tuple(Driver(signal, round(impact, 2), detail) for impact, signal, detail in shown)


def score(
    state: CustomerState,
    policy: Policy,
    now: float,
    previous_band: str | None = None,
    explain: bool = True,
) -> HealthScore | None:
    """Score the customer at event time `now`; None for a customer never heard of.

    Every known customer has all three components: a signal without evidence counts as
    neutral (`components.NEUTRAL`) and lowers the confidence instead, so a missing feed never
    moves a customer up or down the ranking. Confidence is the weight share of the components
    with evidence, times how long the customer has been known against `maturity_days`.
    Without `explain`, the drivers are worked out when first read (`HealthScore.drivers`).
    """
    if state.first_seen is None:
        return None
    weights = policy.weights_for(state.segment)
    parts = compute_components(state, policy, now) if explain else None
    values = {n: c.value for n, c in parts.items()} if parts else _values(state, policy, now)
    combined = _combine(values, weights)
    if combined is None:
        return None
    value, shares = combined
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
    coverage = sum((weights[n] for n in shares if evidence[n]), 0.0) / sum(weights.values(), 0.0)
    age = now - state.first_seen
    maturity = max(0.1, min(1.0, age / policy.maturity)) if policy.maturity > 0 else 1.0
    rounded = round(value, 2)
    return HealthScore(
        customer_id=state.customer_id,
        score=rounded,
        band=band_for(value, policy.bands, previous_band),
        components={n: None if v is None else round(v, 2) for n, v in values.items()},
        confidence=round(coverage * maturity, 3),
        as_of=now,
        model=policy.model,
        churn_probability=_rounded(churn_probability(rounded, policy, state.segment)),
        mrr=_mrr(state),
        _drivers=None if parts is None else _drivers(parts, shares),
        _source=(state, policy) if parts is None else None,
    )


def _rounded(p: float | None) -> float | None:
    return None if p is None else round(p, 4)
