"""Health: the weighted sum of the components, its band, drivers and confidence."""

from __future__ import annotations

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


def score(
    state: CustomerState, policy: Policy, now: float, previous_band: str | None = None
) -> HealthScore | None:
    """Score the customer at event time `now`; None while no component has any evidence.

    A missing component is left out and the others' weights renormalised, and confidence drops
    by the weight it would have had; never is a missing component counted as zero.
    """
    parts = compute_components(state, policy, now)
    weights = policy.weights_for(state.segment)
    present = {n: c for n, c in parts.items() if c.value is not None and weights[n] > 0}
    if not present:
        return None
    total_weight = sum(weights[n] for n in present)
    value = 0.0
    drivers: list[Driver] = []
    for name, c in present.items():
        share = weights[name] / total_weight
        value += share * (c.value or 0.0)
        drivers.extend(Driver(x.signal, -share * x.points, x.detail) for x in c.losses)
    value = max(0.0, min(100.0, value))
    coverage = total_weight / sum(weights.values())
    age = now - state.first_seen if state.first_seen is not None else 0.0
    maturity = max(0.1, min(1.0, age / policy.maturity)) if policy.maturity > 0 else 1.0
    shown = sorted(
        (d for d in drivers if d.impact <= -MIN_DRIVER_POINTS), key=lambda d: (d.impact, d.signal)
    )
    return HealthScore(
        customer_id=state.customer_id,
        score=round(value, 2),
        band=band_for(value, policy.bands, previous_band),
        components={n: None if c.value is None else round(c.value, 2) for n, c in parts.items()},
        drivers=tuple(Driver(d.signal, round(d.impact, 2), d.detail) for d in shown),
        confidence=round(coverage * maturity, 3),
        as_of=now,
        model=policy.model,
    )
