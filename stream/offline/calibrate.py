"""`healthscore calibrate`: fit the policy's weights to outcomes and write a candidate policy.

Readings come from a backtest replay of the history under the current policy. Weights are fitted
per segment on a training set (rows at the training cutoff, or half the customers when there is
one cutoff) and measured on a validation set (rows at a later cutoff, or the other half), against
the current policy on the same rows. The result is a complete policy YAML carrying what it was
fitted on and what it reached; it is never written over an existing file without `--force`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from scoring import evaluation as evl
from scoring.decay import DAY
from scoring.fit import (
    CSM,
    FEATURES,
    Fit,
    as_weights,
    csm_share,
    fit_logistic,
    retarget_frequency,
    score_with,
)
from scoring.policy import ALERT_RULES, SURVEY_MEASURES, Policy, parse_policy
from scoring.reading import NEUTRAL
from stream.offline.backtest import (
    AlertVolume,
    BacktestError,
    History,
    Replayed,
    Row,
    RuleQuality,
    rule_quality,
)
from stream.offline.backtest import rows as joined_rows
from stream.offline.holdout import wilson

MIN_CLASS = 30  # churners and stayers a segment needs for weights of its own


def in_train(customer_id: str) -> bool:
    """A stable half of the customers (by a digest of the id) for single-cutoff histories."""
    return hashlib.blake2b(customer_id.encode(), digest_size=2).digest()[0] % 2 == 0


def split(
    table: Sequence[Row], train_cutoff: float, validate_cutoff: float
) -> tuple[list[Row], list[Row], str]:
    """Training and validation rows, and how they were split."""
    if train_cutoff < validate_cutoff:
        train = [r for r in table if r.reading.cutoff == train_cutoff]
        valid = [r for r in table if r.reading.cutoff == validate_cutoff]
        return train, valid, "by time"
    train = [r for r in table if in_train(r.customer_id)]
    valid = [r for r in table if not in_train(r.customer_id)]
    return train, valid, "by customer (one cutoff: half the customers each)"


def _typical(rows: Sequence[Row], policy: Policy, segment: str | None) -> float:
    """The median daily activity of these customers with any activity (each read back from its
    frequency signal against the typical activity of its own segment)."""
    daily = sorted(
        policy.usage.typical_for(r.segment) * f / (100.0 - f)
        for r in rows
        if 0.0 < (f := r.reading.signals.get("usage.frequency", 0.0)) < 100.0
    )
    return daily[len(daily) // 2] if daily else policy.usage.typical_for(segment)


def _signals(row: Row, policy: Policy, typical: float) -> dict[str, float]:
    out = dict(row.reading.signals)
    if "usage.frequency" in out:
        out["usage.frequency"] = retarget_frequency(
            out["usage.frequency"], policy.usage.typical_for(row.segment), typical
        )
    return out


def features(rows: Sequence[Row]) -> tuple[str, ...]:
    """The signals to fit: all of them, but the manager's assessment only when some customer
    has one at the cutoff (a column of neutral readings would be fitted a weight of 0, which
    would turn the assessment off for the histories that carry none)."""
    if any(r.reading.signals.get(CSM, NEUTRAL) != NEUTRAL for r in rows):
        return FEATURES
    return tuple(f for f in FEATURES if f != CSM)


def sentiment_weights(policy: Policy, share: float) -> dict[str, float]:
    """The sentiment measures' weights with the assessment's share of them `share` and the
    surveys the rest, in the policy's own proportions."""
    w = policy.sentiment.weights
    surveys = sum((w[k] for k in SURVEY_MEASURES), 0.0)
    if surveys <= 0:
        return {**dict.fromkeys(SURVEY_MEASURES, 0.0), "csm": 1.0}
    out = {k: w[k] / surveys * (1.0 - share) for k in SURVEY_MEASURES}
    out["csm"] = share
    return out


Auc = tuple[float | None, tuple[float, float] | None]


@dataclass
class SegmentFit:
    segment: str  # "default" for the pooled fit
    fit: Fit
    typical: float


@dataclass
class Calibrated:
    """What calibrate found: the fits, the validation measures and the policy document."""

    fits: list[SegmentFit]
    split: str
    train_rows: int
    validate_rows: int
    default_auc: Auc = (None, None)
    calibrated_auc: Auc = (None, None)
    document: dict[str, Any] | None = None


def calibrate(
    table: Sequence[Row],
    policy: Policy,
    base_document: dict[str, Any],
    *,
    train_cutoff: float,
    validate_cutoff: float,
    horizon: float,
    sources: Sequence[str],
    draws: int = 500,
) -> Calibrated:
    """Fit per segment (pooled as `default`; own weights for segments with at least
    `MIN_CLASS` churners and stayers in training), validate, build the policy document."""
    train, valid, how = split(table, train_cutoff, validate_cutoff)
    for name, part in (("training", train), ("validation", valid)):
        churners = sum(r.churned for r in part)
        if churners == 0 or churners == len(part):
            raise BacktestError(
                f"the {name} set has {len(part)} customers and {churners} churners: it needs "
                "both churners and stayers (choose other cutoffs or a longer history)"
            )
    fits: dict[str, SegmentFit] = {}
    pooled_typical = _typical(train, policy, None)
    fitted_signals = features(train)
    fits["default"] = SegmentFit(
        "default",
        fit_logistic(
            [_signals(r, policy, pooled_typical) for r in train],
            [r.churned for r in train],
            features=fitted_signals,
        ),
        pooled_typical,
    )
    for segment in sorted({r.segment for r in train if r.segment}):
        rows = [r for r in train if r.segment == segment]
        churners = sum(r.churned for r in rows)
        if min(churners, len(rows) - churners) < MIN_CLASS:
            continue
        typical = _typical(rows, policy, segment)
        fits[segment] = SegmentFit(
            segment,
            fit_logistic(
                [_signals(r, policy, typical) for r in rows],
                [r.churned for r in rows],
                features=fitted_signals,
            ),
            typical,
        )

    def fitted(row: Row) -> SegmentFit:
        return fits.get(row.segment or "default", fits["default"])

    churned = [r.churned for r in valid]
    default_scores = [r.reading.score for r in valid]
    calibrated_scores = [
        score_with(fitted(r).fit, _signals(r, policy, fitted(r).typical)) for r in valid
    ]
    probabilities = [
        fitted(r).fit.probability(_signals(r, policy, fitted(r).typical)) for r in valid
    ]
    result = Calibrated(
        fits=list(fits.values()),
        split=how,
        train_rows=len(train),
        validate_rows=len(valid),
    )
    result.default_auc = (
        evl.churn_auc(default_scores, churned),
        evl.auc_interval(default_scores, churned, draws=draws),
    )
    result.calibrated_auc = (
        evl.churn_auc(calibrated_scores, churned),
        evl.auc_interval(calibrated_scores, churned, draws=draws),
    )
    brier = sum((p - c) ** 2 for p, c in zip(probabilities, churned, strict=True)) / len(valid)
    result.document = _document(
        base_document,
        policy,
        result,
        horizon=horizon,
        train_cutoff=train_cutoff,
        validate_cutoff=validate_cutoff,
        sources=sources,
        brier=brier,
    )
    parse_policy(result.document, "the calibrated policy")  # never write an invalid policy
    return result


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def _r(x: float) -> float:
    return round(x, 4)


def _document(
    base: dict[str, Any],
    policy: Policy,
    result: Calibrated,
    *,
    horizon: float,
    train_cutoff: float,
    validate_cutoff: float,
    sources: Sequence[str],
    brier: float,
) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(yaml.safe_dump(base))  # a deep copy
    segments = dict(doc["segments"])
    usage = dict(doc["usage"])
    segment_weights: dict[str, Any] = {}
    typical: dict[str, float] = {}
    calibration: dict[str, Any] = {}
    for sf in result.fits:
        weights = as_weights(sf.fit)
        if weights is None:
            continue
        components, signals = weights
        segments[sf.segment] = {k: _r(v) for k, v in components.items()}
        if sf.segment == "default":
            usage["weights"] = {k: _r(v) for k, v in signals.items()}
        else:
            segment_weights[sf.segment] = {k: _r(v) for k, v in signals.items()}
        typical[sf.segment] = _r(sf.typical)
        share = csm_share(sf.fit)
        if sf.segment == "default" and share is not None:
            # the sentiment measures' weights are the policy's, not a segment's: the pooled fit's
            sentiment = dict(doc["sentiment"])
            sentiment["weights"] = {k: _r(v) for k, v in sentiment_weights(policy, share).items()}
            doc["sentiment"] = sentiment
        calibration[sf.segment] = {
            "horizon_days": horizon / DAY,
            "intercept": _r(sf.fit.intercept),
            "slope": _r(sf.fit.slope),
        }
    # segments without a fit of their own take the pooled one
    for name in list(segments):
        if name != "default" and name not in typical:
            segments[name] = segments["default"]
    usage["typical_daily_activity"] = typical
    if segment_weights:
        usage["segment_weights"] = segment_weights
    doc["segments"] = segments
    doc["usage"] = usage
    doc["calibration"] = calibration
    doc["version"] = f"{base.get('version', '1')}-calibrated"
    auc_d, int_d = result.default_auc
    auc_c, int_c = result.calibrated_auc
    doc["fitted"] = {
        "from": list(sources),
        "base_model": policy.model,
        "horizon_days": horizon / DAY,
        "train_cutoff": _day(train_cutoff),
        "validate_cutoff": _day(validate_cutoff),
        "split": result.split,
        "train_customers": result.train_rows,
        "validate_customers": result.validate_rows,
        "validation": {
            "auc_base_policy": None if auc_d is None else _r(auc_d),
            "auc_base_policy_interval": None if int_d is None else [_r(x) for x in int_d],
            "auc_calibrated": None if auc_c is None else _r(auc_c),
            "auc_calibrated_interval": None if int_c is None else [_r(x) for x in int_c],
            "brier_score": _r(brier),
        },
    }
    return doc


def check_target(out: Path, *, force: bool, default: Path) -> None:
    """Refuse to replace the shipped default policy or, without `force`, any existing file
    (checked before the work, and again when writing)."""
    if out.resolve() == default.resolve():
        raise BacktestError(
            f"{out} is the shipped default policy: write the candidate elsewhere and point "
            "HEALTHSCORE_POLICY_FILE (or HEALTHSCORE_SHADOW_POLICY_FILE) at it"
        )
    if out.exists() and not force:
        raise BacktestError(f"{out} exists: pass --force to replace it")


def write_policy(document: dict[str, Any], out: Path, *, force: bool, default: Path) -> None:
    """Write the policy YAML, with a header saying where it came from."""
    check_target(out, force=force, default=default)
    header = (
        "# A policy calibrated by `healthscore calibrate` on the data named under `fitted`.\n"
        "# Review the validation figures under `fitted.validation` before switching to it.\n"
    )
    out.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


# --- the alert budget ------------------------------------------------------------------------

# How each paging rule's threshold moves with one strictness s: from 0 (the policy's own) to 1
# (the strictest this search goes), each rule along its own scale, so one number moves them
# all towards fewer, surer alerts; and from 0 down to -1 (the loosest), towards more alerts,
# so a budget the policy leaves unused is spent on catching more churners.
STRICTEST = {
    "risk_probability": 0.95,  # the churn probability that counts as high risk
    "risk_score": 0.4,  # times the policy's risk score (uncalibrated policies)
    "inactivity_gaps": 4.0,  # times the policy's (silence against the customer's rhythm)
    "inactivity_floor_days": 4.0,  # times the policy's, never past the ceiling
    "thinning_odds": 2.0,  # the policy's odds to this power: 1 in 300 becomes 1 in 90,000
    "band_drop_margin": 20.0,  # points added past the band edge
    "sharp_drop_points": 0.5,  # share of the way from the policy's points to 100
    "contraction_share": 0.5,  # share of the way from the policy's share to 1
}
LOOSEST = {
    "risk_probability": 0.2,  # the churn probability that counts as high risk
    "risk_score": 1.4,  # times the policy's risk score (uncalibrated policies), at most 100
    "inactivity_odds": 0.5,  # the policy's odds to this power: 1 in 10,000 becomes 1 in 100
    "inactivity_gaps": 0.5,  # times the policy's
    "thinning_odds": 0.5,  # the policy's odds to this power: 1 in 300 becomes 1 in 17
    "band_drop_margin": 0.0,  # times the policy's: a band drop counts at the edge
    "sharp_drop_points": 0.5,  # times the policy's
    "contraction_share": 0.5,  # times the policy's
}
BUDGET_STEPS = 6  # bisection steps: strictness found to 1/64


def tightened(alerts: dict[str, Any], s: float) -> dict[str, Any]:
    """The policy document's `alerts` section with every paging threshold moved by `s`:
    stricter for `s` > 0, looser for `s` < 0 (`loosened`).

    >>> t = tightened({"risk_probability": 0.5, "band_drop_margin": 4, "sharp_drop_points": 20,
    ...                "inactivity_gaps": 3, "inactivity_floor_days": 4,
    ...                "inactivity_ceiling_days": 45}, 1.0)
    >>> t["risk_probability"], t["band_drop_margin"], t["sharp_drop_points"], t["inactivity_gaps"]
    (0.95, 24.0, 60.0, 12.0)
    >>> t["thinning_odds"]  # the shipped 300 when the section leaves it out, squared
    90000.0
    """
    if s < 0:
        return loosened(alerts, -s)
    out = dict(alerts)
    if s == 0:
        return out
    q = float(alerts.get("risk_probability", 0.5))
    out["risk_probability"] = _r(q + s * max(0.0, STRICTEST["risk_probability"] - q))
    if "risk_score" in alerts:
        shrink = 1 - s * (1 - STRICTEST["risk_score"])
        out["risk_score"] = _r(float(alerts["risk_score"]) * shrink)
    gaps = float(alerts.get("inactivity_gaps", 3.0))
    out["inactivity_gaps"] = _r(gaps * (1 + s * (STRICTEST["inactivity_gaps"] - 1)))
    ceiling = float(alerts.get("inactivity_ceiling_days", 45.0))
    floor = float(alerts.get("inactivity_floor_days", 4.0))
    factor = 1 + s * (STRICTEST["inactivity_floor_days"] - 1)
    out["inactivity_floor_days"] = _r(min(ceiling, floor * factor))
    thin = float(alerts.get("thinning_odds", 300.0))
    out["thinning_odds"] = _r(thin ** (1 + s * (STRICTEST["thinning_odds"] - 1)))
    margin = float(alerts.get("band_drop_margin", 7.0))
    out["band_drop_margin"] = _r(margin + s * STRICTEST["band_drop_margin"])
    points = float(alerts.get("sharp_drop_points", 20.0))
    out["sharp_drop_points"] = _r(points + s * STRICTEST["sharp_drop_points"] * (100 - points))
    cut = float(alerts.get("contraction_share", 0.2))
    out["contraction_share"] = _r(cut + s * STRICTEST["contraction_share"] * (1 - cut))
    return out


def loosened(alerts: dict[str, Any], s: float) -> dict[str, Any]:
    """The `alerts` section with every paging threshold loosened by `s` from 0 (the policy's
    own) to 1 (`LOOSEST`): more alerts, for a budget the policy leaves unused.

    >>> t = loosened({"risk_probability": 0.5, "risk_score": 50, "inactivity_odds": 10000,
    ...               "inactivity_gaps": 3, "band_drop_margin": 7, "sharp_drop_points": 20}, 1.0)
    >>> t["risk_probability"], t["risk_score"], t["inactivity_odds"], t["inactivity_gaps"]
    (0.2, 70.0, 100.0, 1.5)
    >>> t["band_drop_margin"], t["sharp_drop_points"], round(t["thinning_odds"], 1)
    (0.0, 10.0, 17.3)
    """
    out = dict(alerts)
    if s <= 0:
        return out

    def toward(value: float, factor: float) -> float:
        return value * (1 - s * (1 - factor))

    q = float(alerts.get("risk_probability", 0.5))
    out["risk_probability"] = _r(q - s * max(0.0, q - LOOSEST["risk_probability"]))
    if "risk_score" in alerts:
        out["risk_score"] = _r(
            min(100.0, toward(float(alerts["risk_score"]), LOOSEST["risk_score"]))
        )
    odds = float(alerts.get("inactivity_odds", 10_000.0))
    out["inactivity_odds"] = _r(max(2.0, odds ** (1 - s * (1 - LOOSEST["inactivity_odds"]))))
    gaps = float(alerts.get("inactivity_gaps", 3.0))
    out["inactivity_gaps"] = _r(toward(gaps, LOOSEST["inactivity_gaps"]))
    thin = float(alerts.get("thinning_odds", 300.0))
    out["thinning_odds"] = _r(max(2.0, thin ** (1 - s * (1 - LOOSEST["thinning_odds"]))))
    margin = float(alerts.get("band_drop_margin", 7.0))
    out["band_drop_margin"] = _r(toward(margin, LOOSEST["band_drop_margin"]))
    points = float(alerts.get("sharp_drop_points", 20.0))
    out["sharp_drop_points"] = _r(toward(points, LOOSEST["sharp_drop_points"]))
    cut = float(alerts.get("contraction_share", 0.2))
    out["contraction_share"] = _r(toward(cut, LOOSEST["contraction_share"]))
    return out


@dataclass
class BudgetChoice:
    """The strictness chosen for the alert budget and the volume it reached on training."""

    budget: float
    strictness: float
    per_customer_month: float | None  # alerts raised on the training window at that strictness
    met: bool
    tried: list[tuple[float, float | None]] = field(default_factory=list)  # (s, volume)
    # "any" alert's precision on the training window at that strictness, and `Trial.assured`
    precision: float | None = None
    assured: float | None = None
    held: bool | None = None  # the assured precision at or above the floor (None: no floor)


def window(history: History, until: float, keep: Callable[[str], bool] | None = None) -> History:
    """The history's events up to `until`, of the customers `keep` accepts."""
    out = History()
    for customer, events in history.customers.items():
        if keep is not None and not keep(customer):
            continue
        for e in events:
            if e.occurred_at <= until:
                out.add(e)
    return out


ASSURANCE_Z = 1.6448536269514722  # the standard normal's 95% quantile: a one-sided bound


@dataclass(frozen=True)
class Trial:
    """A candidate policy on the training window: alerts raised per customer-month up to the
    training cutoff, the precision of "any" alert at it (None: nothing to measure) and the
    customers it alerted there (0: not counted)."""

    volume: float | None
    precision: float | None = None
    alerted: int = 0

    def assured(self) -> float | None:
        """The precision the policy can be counted on to hold on customers it has not seen:
        the lower end of a one-sided 95% Wilson interval around the training precision (the
        precision itself when the customers alerted were not counted). The loosest setting
        whose training precision only just clears a target falls short of it on new customers
        about half the time; this bound keeps it clear of the target by the sampling noise of
        the alerts it is judged on.

        >>> Trial(0.1, 0.4, 500).assured() < 0.4 < Trial(0.1, 0.4, 5000).assured() + 0.02
        True
        >>> Trial(0.1, 0.4).assured()
        0.4
        """
        if self.precision is None or self.alerted <= 0:
            return self.precision
        return assured(round(self.precision * self.alerted), self.alerted)


def assured(churned: int, alerted: int) -> float:
    """The lower end of a one-sided 95% Wilson interval for `churned` of `alerted` customers
    (alerted > 0): the precision they can be counted on to hold on customers not yet seen."""
    return wilson(churned, alerted, ASSURANCE_Z)[0]


Measure = Callable[[Policy], Trial]


def training_trial(
    replayed: Sequence[Replayed],
    until: float,
    end: float,
    horizon: float,
    labels: dict[str, tuple[bool, float | None]] | None,
    window_days: float = 30.0,
) -> Trial:
    """A `Trial` from one replay of the training customers' history to `end` with the training
    cutoff: the alerts raised by `until` (the latest event at or before the cutoff, where a
    replay of the training window alone ends) per customer-month, and "any" alert's
    precision at the cutoff with the customers it alerted."""
    v = AlertVolume.up_to(replayed, until, end)
    quality = rule_quality(
        replayed, joined_rows(replayed, horizon, labels), window_days * DAY, horizon
    )
    any_alert = next((q for q in quality if q.rule == "any"), None)
    if any_alert is None:
        return Trial(v.per_month(v.alerts))
    return Trial(v.per_month(v.alerts), any_alert.precision, any_alert.alerted)


def meet_budget(
    document: dict[str, Any],
    measure: Measure,
    *,
    source: str,
    floor: float | None = None,
) -> tuple[dict[str, Any], BudgetChoice]:
    """Move the paging rules' thresholds (one strictness, `tightened`) so the alerts raised on
    the training window meet the policy's budget: tighter while they exceed it, looser while
    it is left unused and "any" alert's precision there, as `Trial.assured` bounds it, stays
    at `floor` or more (so it holds on the customers the policy has not seen); the loosest
    such setting wins, so the volume a team can work is spent on catching churners, never on
    alerts below the precision the rules must hold. When no looser setting holds it, not even
    the policy's own, the surest setting tried within budget wins (the highest bound; the
    looser of two as sure), and the choice says the floor was not held. The decision stays
    per customer: only the thresholds move, the fold shares nothing."""
    budget = parse_policy(document, source).alerts.budget
    base = dict(document["alerts"])
    trials: dict[float, Trial] = {}  # by strictness

    def trial(s: float) -> Trial:
        if s in trials:
            return trials[s]
        result = measure(parse_policy({**document, "alerts": tightened(base, s)}, source))
        trials[s] = result
        return result

    def within(s: float) -> bool:
        v = trial(s).volume
        return v is None or v <= budget

    def holds(s: float) -> bool:
        assured = trial(s).assured()
        return floor is None or assured is None or assured >= floor

    def spendable(s: float) -> bool:
        r = trial(s)
        return r.volume is not None and r.volume <= budget and holds(s)

    def bisect(low: float, high: float, ok: Callable[[float], bool]) -> float:
        """The least strict s in (low, high] that is `ok`: low is not, high is."""
        for _ in range(BUDGET_STEPS - 1):
            mid = (low + high) / 2
            low, high = (low, mid) if ok(mid) else (mid, high)
        return high

    if within(0.0):
        met = True
        if trials[0.0].volume is None:
            chosen = 0.0  # nothing to measure the volume on: keep the policy's own
        elif spendable(-1.0):
            chosen = -1.0
        else:
            chosen = bisect(-1.0, 0.0, spendable)
            if not spendable(chosen):
                chosen = _surest(trials, budget, chosen)
    elif not within(1.0):
        chosen, met = 1.0, False
    else:
        chosen, met = bisect(0.0, 1.0, within), True
    at = trials[chosen]
    out = {**document, "alerts": tightened(base, chosen)}
    tried = sorted((s, t.volume) for s, t in trials.items())
    held = None if floor is None else holds(chosen)
    return out, BudgetChoice(
        budget, chosen, at.volume, met, tried, at.precision, at.assured(), held
    )


def _surest(trials: dict[float, Trial], budget: float, fallback: float) -> float:
    """The setting tried, at the policy's own thresholds or looser and within budget, with
    the highest assured precision (the looser of two as sure); `fallback` without any."""
    sure = [
        (assured, -s)
        for s, r in trials.items()
        if s <= 0
        and r.volume is not None
        and r.volume <= budget
        and (assured := r.assured()) is not None
    ]
    return -max(sure)[1] if sure else fallback


# --- which rules page: each rule's own precision on the training window -----------------------

PAGE_LIFT = 2.5  # a rule pages when its training precision is this many times the base rate ...
HIGH_BASE = 0.3  # ... or, from this base rate up, base + (1 - base) / 3
MIN_ALERTED = 20  # fewer customers alerted on training than this: too few to judge the rule
NOT_ABOUT_CHURN = frozenset({"urgent_ticket_sla"})  # a broken promise pages whatever churn does


def page_target(base: float) -> float:
    """The precision a rule needs on the training window to keep paging (issue 22's target for
    a calibrated policy: 2.5x a base rate under 30%, base + (1 - base) / 3 above it).

    >>> page_target(0.16), round(page_target(0.466), 3)
    (0.4, 0.644)
    """
    return PAGE_LIFT * base if base < HIGH_BASE else base + (1 - base) / 3


@dataclass
class PagingChoice:
    """The paging rules `calibrate` kept and the ones it stopped paging, with why."""

    target: float | None  # the precision a rule needed; None: no outcomes to judge by
    kept: list[str]
    dropped: list[tuple[str, float]]  # (rule, its precision on the training window)


def choose_paging(
    document: dict[str, Any], training: Sequence[RuleQuality], *, source: str
) -> tuple[dict[str, Any], PagingChoice]:
    """Stop paging the rules whose precision on the training window, as `Trial.assured`
    bounds it, falls short of `page_target`: they still join an open alert and show on the
    worklist. A rule alerting fewer than `MIN_ALERTED` customers there is kept (too few to
    judge), as is `urgent_ticket_sla` (`NOT_ABOUT_CHURN`), and the most precise rule always
    pages."""
    alerts = parse_policy(document, source).alerts
    listed = document["alerts"].get("page") or ALERT_RULES  # in the policy's own order
    paging = [r for r in listed if alerts.pages(r)]
    by_rule = {q.rule: q for q in training}
    rows = max((q.rows for q in training), default=0)
    churners = max((q.churners for q in training), default=0)
    if not rows or not churners or not paging:
        return document, PagingChoice(None, paging, [])
    target = page_target(churners / rows)
    judged = [
        by_rule[r]
        for r in paging
        if r in by_rule and r not in NOT_ABOUT_CHURN and by_rule[r].alerted >= MIN_ALERTED
    ]
    dropped = [
        (q.rule, q.churned_alerted / q.alerted)
        for q in judged
        if assured(q.churned_alerted, q.alerted) < target
    ]
    if len(dropped) == len(paging):  # none reaches it: the best of them still pages
        best = max(dropped, key=lambda d: d[1])
        dropped.remove(best)
    kept = [r for r in paging if r not in {d[0] for d in dropped}]
    out = {**document, "alerts": {**document["alerts"], "page": kept}}
    return out, PagingChoice(target, kept, dropped)


def alert_quality(
    history: History,
    policy: Policy,
    replay: Callable[[History, Policy, list[float]], list[Replayed]],
    *,
    cutoff: float,
    horizon: float,
    labels: dict[str, tuple[bool, float | None]] | None,
    keep: Callable[[str], bool] | None = None,
    window_days: float = 30.0,
) -> list[RuleQuality]:
    """Each rule's and "any" alert's precision, recall, volume and lead time at the validation
    cutoff, replayed under `policy` (the customers `keep` accepts)."""
    part = history if keep is None else window(history, history.last or cutoff, keep)
    replayed = replay(part, policy, [cutoff])
    table = joined_rows(replayed, horizon, labels)
    return rule_quality(replayed, table, window_days * DAY, horizon)


def quality_document(
    quality: Sequence[RuleQuality], choice: BudgetChoice, paging: PagingChoice | None = None
) -> dict[str, Any]:
    """The alert figures `fitted.validation.alerts` records."""

    def num(x: float | None) -> float | None:
        return None if x is None else _r(x)

    return {
        "budget_per_customer_month": choice.budget,
        "strictness": _r(choice.strictness),
        "training_alerts_per_customer_month": num(choice.per_customer_month),
        "training_precision": num(choice.precision),
        "training_precision_assured": num(choice.assured),
        "budget_met_on_training": choice.met,
        **(
            {}
            if paging is None
            else {
                "paging_target_precision": num(paging.target),
                "paging": paging.kept,
                "stopped_paging": [
                    {"rule": r, "training_precision": _r(p)} for r, p in paging.dropped
                ],
            }
        ),
        "rules": [
            {k: num(v) if isinstance(v, float) else v for k, v in q.to_dict().items()}
            for q in quality
        ],
    }
