"""Health: the weighted sum of the components, its band, drivers and confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from scoring import components as comp
from scoring import drivers, reading
from scoring.formulas import rounded
from scoring.policy import BANDS, BandPolicy, Calibration, Policy, SegmentModel
from scoring.reading import Subs
from scoring.state import CustomerState
from scoring.words import Message

MIN_DRIVER_POINTS: Final = 0.05


@dataclass(slots=True, unsafe_hash=True, init=False)  # not frozen: scoring/__init__.py
class Driver:
    """One signal that moved the score: `impact` in points (negative pulls the score down),
    and why, as a message the edge words in the reader's language (`stream.i18n`)."""

    signal: str
    impact: float
    detail: Message

    def __init__(self, signal: str, impact: float, detail: Message) -> None:
        # written out, as `scoring.state.Stamped`'s is: a driver is made for every driver of
        # every score published
        self.signal = signal
        self.impact = impact
        self.detail = detail

    def __reduce__(self) -> tuple[type[Driver], tuple[str, float, Message]]:
        return Driver, (self.signal, self.impact, self.detail)  # `scoring.state.Stamped`


@dataclass(slots=True, eq=True, init=False)
class HealthScore:
    """A customer's health at one moment of event time, and why.

    `drivers` are worked out when first read (`score(..., explain=False)`), from the state the
    score was computed from: the engine evaluates a customer more often than it publishes or
    alerts, and the drivers in words cost more than the score. The state is updated in place by
    the engine's fold, so they must be read (or the record published) before the next event is
    applied to it, which the fold and the replay do."""

    customer_id: str
    score: float
    band: str
    # the components, each 0-100 (None without evidence of any kind), as computed: rounded to
    # two decimals where they are shown (`components`)
    usage: float | None
    support: float | None
    sentiment: float | None
    confidence: float
    as_of: float
    model: str
    churn_probability: float | None  # within the calibration's horizon, when calibrated
    mrr: float | None  # the account's monthly recurring revenue, when known
    _drivers: tuple[Driver, ...] | None = field(repr=False, compare=False)
    # what they are worked out from: the state, the policy and the usage sub-scores the score
    # read (`reading.usage_subs`)
    _source: tuple[CustomerState, Policy, Subs] | None = field(repr=False, compare=False)

    def __init__(
        self,
        customer_id: str,
        score: float,
        band: str,
        usage: float | None,
        support: float | None,
        sentiment: float | None,
        confidence: float,
        as_of: float,
        model: str,
        churn_probability: float | None = None,
        mrr: float | None = None,
        _drivers: tuple[Driver, ...] | None = None,
        _source: tuple[CustomerState, Policy, Subs] | None = None,
    ) -> None:
        self.customer_id = customer_id
        self.score = score
        self.band = band
        self.usage = usage
        self.support = support
        self.sentiment = sentiment
        self.confidence = confidence
        self.as_of = as_of
        self.model = model
        self.churn_probability = churn_probability
        self.mrr = mrr
        self._drivers = _drivers
        self._source = _source

    @property
    def components(self) -> dict[str, float | None]:
        """The components by name (what `health-scores` carries)."""
        return {
            "usage": _rounded2(self.usage),
            "support": _rounded2(self.support),
            "sentiment": _rounded2(self.sentiment),
        }

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
        return rounded(self.mrr * risk, 2)

    @property
    def revenue_at_risk_calibrated(self) -> bool:
        return self.churn_probability is not None

    @property
    def drivers(self) -> tuple[Driver, ...]:
        """The signals that pulled the score down, most first, in words."""
        if self._drivers is None:
            assert self._source is not None
            state, policy, subs = self._source
            self._drivers = drivers_at(state, policy, self.as_of, subs)  # the one lazy field
            self._source = None
        assert self._drivers is not None
        return self._drivers


def _raw_band(score: float, bands: BandPolicy) -> int:
    """The index in BANDS of a score's band, without hysteresis."""
    return 0 if score >= bands.healthy else 1 if score >= bands.at_risk else 2


def band_for(score: float, bands: BandPolicy, previous: str | None = None) -> str:
    """Band of a score; moving back up a band needs `hysteresis` points above its threshold.

    >>> from scoring.policy import BandPolicy
    >>> b = BandPolicy(healthy=70, at_risk=40, hysteresis=3)
    >>> band_for(71, b), band_for(55, b), band_for(39.9, b)
    ('healthy', 'at_risk', 'critical')
    >>> band_for(71, b, previous="at_risk"), band_for(73, b, previous="at_risk")
    ('at_risk', 'healthy')
    """
    raw = _raw_band(score, bands)
    if previous is None:
        return BANDS[raw]
    was = BANDS.index(previous)
    if raw >= was:
        return BANDS[raw]
    return BANDS[min(was, _raw_band(score - bands.hysteresis, bands))]


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
    return _probability(value, policy.model_for(segment).calibration)


def _probability(value: float, c: Calibration | None) -> float | None:
    if c is None:
        return None
    z = c.intercept - c.slope * value / 100.0
    return 1.0 / (1.0 + math.exp(-z))


def _weighted(
    usage: float | None, support: float | None, sentiment: float | None, m: SegmentModel
) -> float:
    """The weighted sum of the components with a value and a weight (0-100), the weights
    renormalised over those; -1 when none has both."""
    wu, ws, wm = m.usage, m.support, m.sentiment
    total_weight = 0.0
    if usage is not None and wu > 0:
        total_weight += wu
    if support is not None and ws > 0:
        total_weight += ws
    if sentiment is not None and wm > 0:
        total_weight += wm
    if total_weight <= 0:
        return -1.0
    total = 0.0
    if usage is not None and wu > 0:
        total += wu / total_weight * usage
    if support is not None and ws > 0:
        total += ws / total_weight * support
    if sentiment is not None and wm > 0:
        total += wm / total_weight * sentiment
    return max(0.0, min(100.0, total))


def value(state: CustomerState, policy: Policy, now: float) -> float | None:
    """The score `score` gives (rounded the same), without drivers or words: what the schedule
    asks many times when it looks ahead for a silent customer."""
    if state.first_seen is None:
        return None
    v = _weighted(
        reading.usage_value(state, policy, now),
        reading.support_value(state, policy, now),
        reading.sentiment_value(state, policy, now),
        policy.model_for(state.segment),
    )
    return None if v < 0 else rounded(v, 2)


def drivers_at(state: CustomerState, policy: Policy, now: float, subs: Subs) -> tuple[Driver, ...]:
    """What pulls the score at `now` down, in points and messages, most first (those of at
    least `MIN_DRIVER_POINTS`); empty for a customer never heard of. Only those get a message.
    `subs`: the usage sub-scores the score read at `now` (`reading.usage_subs`)."""
    if state.first_seen is None:
        return ()
    shown, subs = drivers.shown(state, policy, now, MIN_DRIVER_POINTS, subs)
    return tuple(
        Driver(signal, rounded(impact, 2), drivers.detail(signal, state, policy, now, subs))
        for impact, signal in shown
    )


def _rounded2(x: float | None) -> float | None:
    return None if x is None else rounded(x, 2)


def score(
    state: CustomerState,
    policy: Policy,
    now: float,
    previous_band: str | None = None,
    explain: bool = True,
) -> HealthScore | None:
    """Score the customer at event time `now`; None for a customer never heard of.

    Every known customer has all three components: a signal without evidence counts as
    neutral (`reading.NEUTRAL`) and lowers the confidence instead, so a missing feed never
    moves a customer up or down the ranking. Confidence is the weight share of the components
    with evidence, times how long the customer has been known against `maturity_days`.
    Without `explain`, the drivers are worked out when first read (`HealthScore.drivers`).
    """
    first_seen = state.first_seen
    if first_seen is None:
        return None
    m = policy.model_for(state.segment)
    subs = reading.usage_subs(state, policy, now)  # kept for the drivers
    usage = reading.usage_of(m, subs) if m.usage_signals else None
    support = reading.support_value(state, policy, now)
    sentiment = reading.sentiment_value(state, policy, now)
    v = _weighted(usage, support, sentiment, m)
    if v < 0:
        return None
    # the weight share of the components with evidence: no ticket is evidence too (the
    # customer needed no help)
    covered = 0.0
    if usage is not None and m.usage > 0 and state.has_usage:
        covered += m.usage
    if support is not None and m.support > 0:
        covered += m.support
    if sentiment is not None and m.sentiment > 0 and reading.has_sentiment(state):
        covered += m.sentiment
    coverage = covered / m.all_weights
    age = now - first_seen
    maturity = max(0.1, min(1.0, age / policy.maturity)) if policy.maturity > 0 else 1.0
    two = rounded(v, 2)
    health = HealthScore(
        state.customer_id,
        two,
        band_for(v, policy.bands, previous_band),
        usage,
        support,
        sentiment,
        rounded(coverage * maturity, 3),
        now,
        policy.model,
        _rounded(_probability(two, m.calibration)),
        state.mrr,
    )
    if explain:
        health._drivers = drivers_at(state, policy, now, subs)
    else:
        health._source = (state, policy, subs)
    return health


def _rounded(p: float | None) -> float | None:
    return None if p is None else rounded(p, 4)
