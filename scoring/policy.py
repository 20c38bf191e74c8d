"""The scoring policy: weights, half-lives, thresholds, SLAs and alert rules, validated.

`parse_policy` takes the parsed YAML document (a mapping) and returns plain frozen dataclasses, or
raises PolicyError naming the key, the value and what is allowed. Reading the file is the caller's
job (`stream.resources.load_policy`), so this module stays free of I/O.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from scoring.decay import DAY, HOUR
from scoring.events import PRIORITIES
from scoring.holdout import Holdout
from scoring.words import LANGUAGES

COMPONENTS: Final = ("usage", "support", "sentiment")
BANDS: Final = ("healthy", "at_risk", "critical")


class PolicyError(ValueError):
    """The policy document broke a rule; the message names source, key, value and the rule."""

    def __init__(self, source: str, key: str, rule: str, value: Any) -> None:
        self.source, self.key, self.rule, self.value = source, key, rule, value
        super().__init__(f"{source}: {key}: must be {rule}, got {value!r}")


USAGE_SIGNALS: Final = ("recency", "frequency", "trend", "slow_trend", "breadth", "seats")


@dataclass(frozen=True)
class UsagePolicy:
    short_half_life: float  # seconds
    long_half_life: float
    quarter_half_life: float
    year_half_life: float
    recency: float  # seconds of silence at which the recency signal reads 50
    typical_daily: Mapping[str, float]  # activity units a day at which frequency reads 50
    weights: Mapping[str, float]  # USAGE_SIGNALS
    segment_weights: Mapping[str, Mapping[str, float]]  # per segment overrides of `weights`
    feature_target: int
    feature_window: float
    seat_target: float
    idle_after: float
    # the trend's prior, in activity units: the short window's ratio to the baseline counts
    # e / (e + prior) for e units expected there (`reading.steady_trend`); 0 (policies written
    # before it) reads the ratio as it is
    trend_prior: float = 0.0

    def weights_for(self, segment: str | None) -> Mapping[str, float]:
        """Usage signal weights of a segment (`weights` unless the segment has its own)."""
        return self.segment_weights.get(segment or "default", self.weights)

    def typical_for(self, segment: str | None) -> float:
        """Typical activity a day of a segment (its own, else `default`)."""
        return self.typical_daily.get(segment or "default", self.typical_daily["default"])


# Tickets kept in detail per customer, the newest by opening time (optional in a policy file,
# so policies written before it stay valid)
DEFAULT_MAX_TICKETS: Final = 64


@dataclass(frozen=True)
class SupportPolicy:
    window: float
    priority_weights: Mapping[str, float]
    first_response_sla: Mapping[str, float]  # seconds per priority
    resolution_target: Mapping[str, float]
    open_points_per_unit: float
    open_max: float
    contact_window: float
    contact_max: float
    contact_half: float
    sla_breach_max: float
    reopen_max: float
    escalation_points_each: float
    escalation_max: float
    slow_resolution_max: float
    forget_resolved_after: float
    max_tickets: int = DEFAULT_MAX_TICKETS


@dataclass(frozen=True)
class SentimentPolicy:
    half_life: float
    weights: Mapping[str, float]  # SENTIMENT_MEASURES, summing to 1
    # the manager's assessment's weight halves every `csm_half_life` seconds of its age
    csm_half_life: float = 45 * DAY


SURVEY_MEASURES: Final = ("nps", "csat", "ces")
SENTIMENT_MEASURES: Final = (*SURVEY_MEASURES, "csm")
# the manager's assessment's share of the sentiment weights in a policy that names only the
# surveys' (written before it existed): the shipped policy's (docs/scoring.md)
DEFAULT_CSM_SHARE: Final = 0.2


@dataclass(frozen=True)
class BandPolicy:
    healthy: float  # score >= healthy is healthy
    at_risk: float  # at_risk <= score < healthy; below is critical
    hysteresis: float


# The rules a worklist suggests a next step for, and "review": a customer on the worklist for
# its revenue at risk alone. The steps' words are the catalogs' (`next-step`, stream/i18n);
# `alerts.next_steps` in a policy file replaces any of them, in one language or per language.
NEXT_STEP_RULES: Final = (
    "urgent_ticket_sla", "sharp_drop", "band_drop", "contraction", "inactivity", "high_risk",
    "detractor", "review",
)  # fmt: skip


@dataclass(frozen=True)
class AlertPolicy:
    """When a customer's health raises an alert, and what to do about it (`scoring.alerts`)."""

    cooldown: float
    sharp_drop_points: float
    sharp_drop_window: float
    inactivity_after: float
    detractor_max_score: int
    confidence_floor: float
    # silence judged against the customer's own rhythm: `inactivity_gaps` times its mean gap
    # between active days, within [floor, ceiling]; `inactivity_after` while it has too few
    # active days to tell its rhythm (see `scoring.reading.inactivity_threshold`)
    inactivity_floor: float = 4 * DAY
    inactivity_ceiling: float = 45 * DAY
    inactivity_gaps: float = 3.0
    inactivity_odds: float = 10_000.0  # and a silence its rhythm makes less likely than 1 in this
    # high risk: the score at or below `risk_score` (or, calibrated, the churn probability at or
    # above `risk_probability`) for `risk_for` seconds; it clears `risk_margin` points above
    risk_score: float = 50.0
    risk_probability: float = 0.5
    risk_for: float = 3 * DAY
    risk_margin: float = 8.0
    # a band drop counts once the score is this many points past the edge of the best band it
    # had within `band_drop_window` seconds
    band_drop_margin: float = 7.0
    band_drop_window: float = 14 * DAY
    # activity thinned out: fewer active days in the last `thinning_days` than the customer's
    # own rhythm makes likelier than 1 in `thinning_odds` (`scoring.alerts.thinning`)
    thinning_days: int = 14
    thinning_odds: float = 300.0
    # revenue contraction: the MRR at least `contraction_share` below the highest it was in
    # force at within the last `contraction_window` seconds (`scoring.alerts.contraction`)
    contraction_share: float = 0.2
    contraction_window: float = 30 * DAY
    # the rules that open an alert (page); the others only join an open one and show on the
    # customer's page and worklist. None: every rule (policies written before this key)
    page: frozenset[str] | None = None
    # alerts a manager can work: alerts raised (one per episode) per customer-month, the
    # volume `healthscore calibrate` tightens the paging rules' thresholds to meet
    budget: float = 0.2
    # what the worklist suggests doing instead of the catalogs' words, per rule leading the open
    # alert ("review": no alert), per language ("*": any language)
    next_steps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # an experiment that records but does not deliver the alerts of a stable share of customers
    # (`scoring.holdout`, docs/alerts.md); None: every alert is delivered
    holdout: Holdout | None = None

    @property
    def memory_window(self) -> float:
        """How far back the alert memory keeps the customer's scores (both drop windows)."""
        return max(self.sharp_drop_window, self.band_drop_window)

    def pages(self, rule: str) -> bool:
        return self.page is None or rule in self.page

    def held_out(self, customer_id: str) -> bool:
        """Are this customer's alerts held out of delivery by the holdout experiment?"""
        return self.holdout is not None and self.holdout.holds(customer_id)


@dataclass(frozen=True)
class Calibration:
    """A churn probability within `horizon` from the score: 1 / (1 + exp(-(intercept - slope *
    score / 100))), fitted on outcomes (`healthscore calibrate`), with what it was fitted on."""

    horizon: float
    intercept: float
    slope: float


class SegmentModel:
    """A policy's numbers for one segment as plain fields, worked out once: what every
    evaluation reads (`Policy.model_for`)."""

    def __init__(self, policy: Policy, segment: str | None) -> None:
        weights = policy.weights_for(segment)
        self.usage = weights["usage"]  # the components' weights
        self.support = weights["support"]
        self.sentiment = weights["sentiment"]
        everything = 0.0
        for w in weights.values():
            everything += w
        self.all_weights = everything
        u = policy.usage
        uw = u.weights_for(segment)
        self.recency = uw["recency"]  # the usage signals' weights
        self.frequency = uw["frequency"]
        self.trend = uw["trend"]
        self.slow_trend = uw["slow_trend"]
        self.breadth = uw["breadth"]
        self.seats = uw["seats"]
        total = 0.0
        for name in USAGE_SIGNALS:
            if uw[name] > 0:
                total += uw[name]
        self.usage_signals = total  # their sum, over those with weight
        self.typical = u.typical_for(segment)
        # what a steady one a day sums to, for each half-life of activity (`reading.per_day`)
        self.per_day_short = _per_day(u.short_half_life)
        self.per_day_long = _per_day(u.long_half_life)
        self.per_day_quarter = _per_day(u.quarter_half_life)
        self.per_day_year = _per_day(u.year_half_life)
        self.calibration = policy.calibration_for(segment)
        self.risk = _risk_threshold(policy, self.calibration)


def _per_day(half_life: float) -> float:
    """What a steady rate of one a day sums to: 1 / (1 - 2^(-1 day / h)) (`reading.per_day`)."""
    return 1.0 / (1.0 - math.pow(2.0, -DAY / half_life))


def _risk_threshold(p: Policy, c: Calibration | None) -> float:
    """The score at or below which a customer is at high risk: where the calibrated churn
    probability reaches `risk_probability`, else the policy's `risk_score`."""
    if c is None:
        return p.alerts.risk_score
    q = min(max(p.alerts.risk_probability, 1e-6), 1 - 1e-6)
    logit = math.log(q / (1 - q))
    if c.slope <= 0:
        return 100.0 if c.intercept >= logit else -1.0
    return min(100.0, max(-1.0, 100.0 * (c.intercept - logit) / c.slope))


@dataclass(frozen=True)
class Policy:
    """Everything the scoring core needs to turn a customer's history into a score and alerts."""

    version: str
    model: str  # a version string derived from the whole document
    segment_weights: Mapping[str, Mapping[str, float]]
    usage: UsagePolicy
    support: SupportPolicy
    sentiment: SentimentPolicy
    bands: BandPolicy
    alerts: AlertPolicy
    dedupe_window: float
    dedupe_max_ids: int
    maturity: float
    calibration: Mapping[str, Calibration] = dataclasses.field(default_factory=dict)
    # revenue.gross_margin: the share of revenue kept after the cost of serving it, for
    # lifetime value (`scoring.revenue`)
    gross_margin: float = 0.8
    # each segment's `SegmentModel`, made when first asked for; not a field `replace` copies,
    # so a policy made from another with other numbers works its own out
    _models: dict[str, SegmentModel] = dataclasses.field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def model_for(self, segment: str | None) -> SegmentModel:
        """The segment's numbers as plain fields (worked out once per policy and segment)."""
        key = segment or ""
        model = self._models.get(key)
        if model is None:
            model = self._models[key] = SegmentModel(self, segment)
        return model

    def calibration_for(self, segment: str | None) -> Calibration | None:
        """The churn-probability calibration of a segment (its own, else `default`, else None)."""
        return self.calibration.get(segment or "default", self.calibration.get("default"))

    def weights_for(self, segment: str | None) -> Mapping[str, float]:
        """Component weights of a segment; unknown or missing segments use `default`."""
        return self.segment_weights.get(segment or "default", self.segment_weights["default"])


class _Reader:
    """Walk the document, remembering the key path for error messages."""

    def __init__(self, doc: Any, source: str, path: str = "") -> None:
        self.doc, self.source, self.path = doc, source, path
        if not isinstance(doc, Mapping):
            raise PolicyError(source, path or "(document)", "a mapping of keys to values", doc)

    def _key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def section(self, name: str) -> _Reader:
        if name not in self.doc:
            raise PolicyError(self.source, self._key(name), "present (a mapping)", None)
        return _Reader(self.doc[name], self.source, self._key(name))

    def number(
        self, name: str, *, low: float = 0.0, high: float = float("inf"), strict_low: bool = True
    ) -> float:
        value = self.doc.get(name)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            ok = (value > low if strict_low else value >= low) and value <= high
        if not ok:
            lower = f"> {low:g}" if strict_low else f">= {low:g}"
            upper = "" if high == float("inf") else f" and <= {high:g}"
            raise PolicyError(self.source, self._key(name), f"a number {lower}{upper}", value)
        return float(value)

    def optional(
        self, name: str, default: float, *, high: float = float("inf"), strict_low: bool = True
    ) -> float:
        """`number`, or `default` when the key is absent (keys added after a policy was written)."""
        if name not in self.doc:
            return default
        return self.number(name, high=high, strict_low=strict_low)

    def integer(self, name: str, *, low: int, high: int, default: int | None = None) -> int:
        """An integer within bounds; `default` when the key is absent (None: required)."""
        if default is not None and name not in self.doc:
            return default
        value = self.doc.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise PolicyError(
                self.source, self._key(name), f"an integer from {low} to {high}", value
            )
        return value

    def weights(self, name: str, keys: tuple[str, ...]) -> dict[str, float]:
        sec = self.section(name)
        unknown = sorted(set(sec.doc) - set(keys))
        if unknown:
            raise PolicyError(
                self.source, sec._key(unknown[0]), "one of " + ", ".join(keys), unknown[0]
            )
        out = {k: sec.number(k, low=0.0, strict_low=False) for k in keys}
        if sum(out.values(), 0.0) <= 0:
            raise PolicyError(self.source, sec.path, "weights with a positive sum", sec.doc)
        total = sum(out.values(), 0.0)
        return {k: v / total for k, v in out.items()}

    def per_priority(self, name: str, scale: float) -> dict[str, float]:
        sec = self.section(name)
        unknown = sorted(set(sec.doc) - set(PRIORITIES))
        if unknown:
            raise PolicyError(
                self.source, sec._key(unknown[0]), "one of " + ", ".join(PRIORITIES), unknown[0]
            )
        return {p: sec.number(p) * scale for p in PRIORITIES}


def _sentiment_weights(se: _Reader) -> dict[str, float]:
    """The sentiment measures' weights, summing to 1; a policy without `csm` (written before
    the manager's assessment existed) gives it `DEFAULT_CSM_SHARE`, the surveys the rest in
    their own proportions."""
    sec = se.section("weights")
    unknown = sorted(set(sec.doc) - set(SENTIMENT_MEASURES))
    if unknown:
        rule = "one of " + ", ".join(SENTIMENT_MEASURES)
        raise PolicyError(se.source, sec._key(unknown[0]), rule, unknown[0])
    if "csm" in sec.doc:
        return se.weights("weights", SENTIMENT_MEASURES)
    surveys = se.weights("weights", SURVEY_MEASURES)
    out = {k: v * (1.0 - DEFAULT_CSM_SHARE) for k, v in surveys.items()}
    out["csm"] = DEFAULT_CSM_SHARE
    return out


def model_version(doc: Mapping[str, Any]) -> str:
    """Derive a short, stable version string from the policy document's content.

    >>> model_version({"version": "1"}) == model_version({"version": "1"})
    True
    >>> model_version({"version": "1"}).startswith("1+")
    True
    """
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return f"{doc.get('version', '0')}+{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"


def parse_policy(doc: Any, source: str = "scoring policy") -> Policy:
    """Validate a parsed policy document and build the Policy; raise PolicyError on any fault."""
    r = _Reader(doc, source)
    version = str(doc.get("version", ""))
    if not version:
        raise PolicyError(source, "version", "a non-empty version label", doc.get("version"))

    seg = r.section("segments")
    if "default" not in seg.doc:
        raise PolicyError(
            source, "segments.default", "present (weights for unknown segments)", None
        )
    segment_weights = {name: seg.weights(str(name), COMPONENTS) for name in seg.doc}

    u = r.section("usage")
    typical = u.section("typical_daily_activity")
    if "default" not in typical.doc:
        raise PolicyError(
            source, "usage.typical_daily_activity.default", "present (a number > 0)", None
        )
    per_segment = u.section("segment_weights") if "segment_weights" in u.doc else None
    usage = UsagePolicy(
        short_half_life=u.number("short_half_life_days") * DAY,
        long_half_life=u.number("long_half_life_days") * DAY,
        quarter_half_life=u.number("quarter_half_life_days") * DAY,
        year_half_life=u.number("year_half_life_days") * DAY,
        recency=u.number("recency_days") * DAY,
        typical_daily={str(k): typical.number(str(k)) for k in typical.doc},
        weights=u.weights("weights", USAGE_SIGNALS),
        segment_weights={}
        if per_segment is None
        else {str(k): per_segment.weights(str(k), USAGE_SIGNALS) for k in per_segment.doc},
        feature_target=u.integer("feature_target", low=1, high=1000),
        feature_window=u.number("feature_window_days") * DAY,
        seat_target=u.number("seat_target", high=1.0),
        idle_after=u.number("idle_after_days") * DAY,
        trend_prior=u.optional("trend_prior_units", 0.0, strict_low=False),
    )
    for shorter, longer in (("short", "long"), ("quarter", "year")):
        if u.doc[f"{shorter}_half_life_days"] >= u.doc[f"{longer}_half_life_days"]:
            raise PolicyError(
                source,
                f"usage.{shorter}_half_life_days",
                f"shorter than usage.{longer}_half_life_days",
                u.doc[f"{shorter}_half_life_days"],
            )

    s = r.section("support")
    pen = s.section("penalties")
    support = SupportPolicy(
        window=s.number("window_days") * DAY,
        priority_weights=s.per_priority("priority_weights", 1.0),
        first_response_sla=s.per_priority("first_response_sla_hours", HOUR),
        resolution_target=s.per_priority("resolution_target_hours", HOUR),
        open_points_per_unit=pen.number("open_points_per_unit", strict_low=False),
        open_max=pen.number("open_max", strict_low=False, high=100),
        contact_window=s.number("contact_window_days") * DAY,
        contact_max=pen.number("contact_max", strict_low=False, high=100),
        contact_half=pen.number("contact_half"),
        sla_breach_max=pen.number("sla_breach_max", strict_low=False, high=100),
        reopen_max=pen.number("reopen_max", strict_low=False, high=100),
        escalation_points_each=pen.number("escalation_points_each", strict_low=False),
        escalation_max=pen.number("escalation_max", strict_low=False, high=100),
        slow_resolution_max=pen.number("slow_resolution_max", strict_low=False, high=100),
        forget_resolved_after=s.number("forget_resolved_after_days") * DAY,
        max_tickets=s.integer("max_tickets", low=1, high=10_000, default=DEFAULT_MAX_TICKETS),
    )

    if support.contact_window > support.forget_resolved_after:
        raise PolicyError(
            source,
            "support.contact_window_days",
            "at most support.forget_resolved_after_days (tickets are counted while remembered)",
            s.doc["contact_window_days"],
        )

    se = r.section("sentiment")
    sentiment = SentimentPolicy(
        half_life=se.number("half_life_days") * DAY,
        weights=_sentiment_weights(se),
        csm_half_life=se.optional("csm_half_life_days", 45.0, high=3650) * DAY,
    )

    b = r.section("bands")
    bands = BandPolicy(
        healthy=b.number("healthy", high=100),
        at_risk=b.number("at_risk", high=100),
        hysteresis=b.number("hysteresis", strict_low=False, high=20),
    )
    if bands.at_risk >= bands.healthy:
        raise PolicyError(
            source, "bands.at_risk", f"below bands.healthy ({bands.healthy:g})", b.doc["at_risk"]
        )

    a = r.section("alerts")
    alerts = AlertPolicy(
        cooldown=a.number("cooldown_hours", strict_low=False) * HOUR,
        sharp_drop_points=a.number("sharp_drop_points", high=100),
        sharp_drop_window=a.number("sharp_drop_window_days") * DAY,
        inactivity_after=a.number("inactivity_days") * DAY,
        detractor_max_score=a.integer("detractor_max_score", low=0, high=9),
        confidence_floor=a.number("confidence_floor", strict_low=False, high=1.0),
        inactivity_floor=a.optional("inactivity_floor_days", 4.0, high=365) * DAY,
        inactivity_ceiling=a.optional("inactivity_ceiling_days", 45.0, high=365) * DAY,
        inactivity_gaps=a.optional("inactivity_gaps", 3.0, high=100),
        inactivity_odds=a.optional("inactivity_odds", 10_000.0, high=1e12),
        risk_score=a.optional("risk_score", bands.at_risk, high=100),
        risk_probability=a.optional("risk_probability", 0.5, high=1.0),
        risk_for=a.optional("risk_for_days", 3.0, strict_low=False, high=90) * DAY,
        risk_margin=a.optional("risk_margin", 8.0, strict_low=False, high=50),
        band_drop_margin=a.optional("band_drop_margin", 7.0, strict_low=False, high=100),
        band_drop_window=a.optional("band_drop_window_days", 14.0, high=90) * DAY,
        thinning_days=a.integer("thinning_days", low=7, high=60, default=14),
        thinning_odds=a.optional("thinning_odds", 300.0, high=1e12),
        contraction_share=a.optional("contraction_share", 0.2, high=1.0),
        contraction_window=a.optional("contraction_window_days", 30.0, high=365) * DAY,
        page=_rule_names(a, "page"),
        budget=a.optional("budget_per_customer_month", 0.2, high=31),
        next_steps=_next_steps(a),
        holdout=_holdout(a),
    )
    if alerts.inactivity_odds <= 1:
        raise PolicyError(source, "alerts.inactivity_odds", "more than 1", a.doc["inactivity_odds"])
    if alerts.thinning_odds <= 1:
        raise PolicyError(source, "alerts.thinning_odds", "more than 1", a.doc["thinning_odds"])
    if alerts.inactivity_floor > alerts.inactivity_ceiling:
        raise PolicyError(
            source,
            "alerts.inactivity_floor_days",
            "at most alerts.inactivity_ceiling_days",
            a.doc.get("inactivity_floor_days"),
        )
    return Policy(
        version=version,
        model=model_version(doc),
        segment_weights=segment_weights,
        usage=usage,
        support=support,
        sentiment=sentiment,
        bands=bands,
        alerts=alerts,
        dedupe_window=r.number("dedupe_window_days") * DAY,
        dedupe_max_ids=r.integer("dedupe_max_ids", low=1, high=100_000),
        maturity=r.number("maturity_days") * DAY,
        calibration=_calibration(r),
        gross_margin=(
            r.section("revenue").optional("gross_margin", 0.8, high=1.0)
            if "revenue" in r.doc
            else 0.8
        ),
    )


ALERT_RULES: Final = (
    "band_drop",
    "sharp_drop",
    "detractor",
    "urgent_ticket_sla",
    "inactivity",
    "high_risk",
    "contraction",
)


_STEP_LANGUAGES: Final = (*LANGUAGES, "*")  # "*": any language


def _next_steps(r: _Reader) -> dict[str, dict[str, str]]:
    """The optional `next_steps` map: rule (or "review") -> text for every language, or ->
    {language: text}. Unset rules keep the catalogs' words."""
    if "next_steps" not in r.doc:
        return {}
    value = r.doc["next_steps"]
    out: dict[str, dict[str, str]] = {}
    ok = isinstance(value, dict)
    if ok:
        for rule, text in value.items():
            if rule not in NEXT_STEP_RULES:
                ok = False
            elif isinstance(text, str) and text.strip():
                out[rule] = {"*": text.strip()}
            elif (
                isinstance(text, dict)
                and text
                and all(
                    k in _STEP_LANGUAGES and isinstance(v, str) and v.strip()
                    for k, v in text.items()
                )
            ):
                out[rule] = {k: v.strip() for k, v in text.items()}
            else:
                ok = False
    if not ok:
        raise PolicyError(
            r.source,
            r._key("next_steps"),
            "a map from rules (" + ", ".join(NEXT_STEP_RULES) + ") to non-empty text, or to "
            "a map from languages (" + ", ".join(_STEP_LANGUAGES) + ") to non-empty text",
            value,
        )
    return out


MAX_EXPERIMENT: Final = 100  # characters of a holdout experiment's name


def _holdout(r: _Reader) -> Holdout | None:
    """The optional `holdout` section: `experiment` (a name: who is held out is drawn anew
    for each name) and `share` (at least 0, below 1: the share of customers held out)."""
    if "holdout" not in r.doc:
        return None
    h = r.section("holdout")
    unknown = sorted(set(h.doc) - {"experiment", "share"})
    if unknown:
        raise PolicyError(r.source, h._key(unknown[0]), "one of experiment, share", unknown[0])
    name = h.doc.get("experiment")
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > MAX_EXPERIMENT
        or not name.isprintable()
    ):
        raise PolicyError(
            r.source,
            h._key("experiment"),
            f"a name of 1 to {MAX_EXPERIMENT} printable characters",
            name,
        )
    share = h.number("share", strict_low=False)
    if share >= 1:
        raise PolicyError(r.source, h._key("share"), "a number >= 0 and < 1", h.doc["share"])
    return Holdout(name.strip(), share)


def _rule_names(r: _Reader, name: str) -> frozenset[str] | None:
    """An optional list of alert rule names."""
    if name not in r.doc:
        return None
    value = r.doc[name]
    if not isinstance(value, list) or not all(v in ALERT_RULES for v in value):
        raise PolicyError(
            r.source, r._key(name), "a list of rules from " + ", ".join(ALERT_RULES), value
        )
    return frozenset(value)


def _calibration(r: _Reader) -> dict[str, Calibration]:
    """The optional `calibration` section: per segment (and `default`), horizon, intercept,
    slope (>= 0: a higher score never means a higher churn probability)."""
    if "calibration" not in r.doc:
        return {}
    sec = r.section("calibration")
    out: dict[str, Calibration] = {}
    for name in sec.doc:
        c = sec.section(str(name))
        out[str(name)] = Calibration(
            horizon=c.number("horizon_days") * DAY,
            intercept=c.number("intercept", low=-50.0, high=50.0, strict_low=False),
            slope=c.number("slope", low=0.0, high=200.0, strict_low=False),
        )
    return out


def state_differences(live: Policy, candidate: Policy) -> list[str]:
    """The policy keys that shape a customer's *state* (half-lives, windows, id memory) on
    which two policies differ. A shadow policy is scored from the live policy's states, so
    it must agree on all of them; weights, targets, bands, alerts and calibration may differ.
    """
    pairs = {
        "usage.short_half_life_days": (live.usage.short_half_life, candidate.usage.short_half_life),
        "usage.long_half_life_days": (live.usage.long_half_life, candidate.usage.long_half_life),
        "usage.quarter_half_life_days": (
            live.usage.quarter_half_life,
            candidate.usage.quarter_half_life,
        ),
        "usage.year_half_life_days": (live.usage.year_half_life, candidate.usage.year_half_life),
        "sentiment.half_life_days": (live.sentiment.half_life, candidate.sentiment.half_life),
        "support.forget_resolved_after_days": (
            live.support.forget_resolved_after,
            candidate.support.forget_resolved_after,
        ),
        "support.max_tickets": (live.support.max_tickets, candidate.support.max_tickets),
        "dedupe_window_days": (live.dedupe_window, candidate.dedupe_window),
        "dedupe_max_ids": (live.dedupe_max_ids, candidate.dedupe_max_ids),
        "alerts.detractor_max_score": (
            live.alerts.detractor_max_score,
            candidate.alerts.detractor_max_score,
        ),
        "alerts.contraction_window_days": (
            live.alerts.contraction_window,
            candidate.alerts.contraction_window,
        ),
    }
    return [key for key, (a, b) in pairs.items() if a != b]
