"""The alert policy: turn changes in a customer's health into churn-risk alerts, without floods.

Each rule has a condition. A customer is in an *episode* from the moment a rule's condition
becomes true until no rule's condition holds. One episode raises one alert: the rules that start
together are merged into it (a drop usually takes the band down and counts as a sharp drop at
once), and a rule that starts later joins the open episode (its reasons are added, and
its severity if higher) instead of raising another alert. A rule whose last alert is within
`cooldown` does not open an episode on its own. Score thresholds have hysteresis (see
`health.band_for`; a sharp drop clears only once half the drop is recovered). Alert ids are
derived from customer, leading rule and the event time the episode started, so a replay raises
the very same alerts.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from scoring.components import NEUTRAL_NOTE
from scoring.decay import DAY
from scoring.health import HealthScore, band_for
from scoring.policy import ALERT_RULES, BANDS, Policy
from scoring.state import CustomerState, active_gaps

RULES = ALERT_RULES
# which rule leads a merged alert (names it, and its id): the most specific first
LEADS = ("urgent_ticket_sla", "sharp_drop", "band_drop", "detractor", "inactivity", "high_risk")
# gaps between active days needed before silence is judged by the customer's own rhythm
MIN_GAPS = 2
# a sharp drop must also be this many times the customer's typical move between slots
NOISE_MULTIPLE = 6.0
SEVERITIES = ("warning", "critical")
MAX_HISTORY = 48
MAX_REASONS = 6


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class RuleState:
    """Whether a rule's condition holds, since when, and when it last raised an alert."""

    active: bool = False
    since: float | None = None
    last_raised_at: float | None = None


QUIET = RuleState()  # a rule that never held (immutable, so shared)


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Alert:
    """A churn-risk alert for the customer's success manager: one per episode."""

    alert_id: str
    customer_id: str
    rule: str  # the rule that leads (LEADS)
    severity: str
    score: float
    previous_score: float | None
    band: str
    reasons: tuple[str, ...]
    owner: str | None
    segment: str | None
    raised_at: float
    rules: tuple[str, ...] = ()  # every rule of the episode, the leading one first
    # the customer's revenue at risk when the alert was raised (`HealthScore.revenue_at_risk`),
    # and whether it is MRR x a calibrated churn probability; None when the MRR is unknown
    revenue_at_risk: float | None = None
    revenue_at_risk_calibrated: bool = False


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class AlertState:
    """What the alert policy remembers of one customer between evaluations."""

    band: str | None = None
    score: float | None = None
    history: tuple[tuple[float, float], ...] = ()  # (event time, score) within the drop window
    rules: dict[str, RuleState] = field(default_factory=dict)
    open: Alert | None = None  # the alert of the episode under way, as it stands now


def alert_id(customer_id: str, rule: str, episode_start: float) -> str:
    """A deterministic id: the same customer, rule and episode always give the same id.

    >>> alert_id("acme", "inactivity", 0.0) == alert_id("acme", "inactivity", 0.0)
    True
    >>> len(alert_id("acme", "inactivity", 0.0))
    24
    """
    raw = f"{customer_id}|{rule}|{episode_start:.3f}".encode()
    return hashlib.sha256(raw).hexdigest()[:24]


def inactivity_threshold(s: CustomerState, p: Policy) -> float:
    """Seconds of silence that count as inactivity for this customer, from its own rhythm
    (`active_days`): a silence its rhythm makes less likely than 1 in `inactivity_odds`, longer
    than `inactivity_gaps` times its mean gap between active days and a day longer than any
    silence it had in the window, within the policy's floor and ceiling; `inactivity_after`
    while it has too few active days to tell.

    The odds treat each day as active with the share of days the customer was active since its
    oldest active day in the window (one more day counted, so no customer is certain): a
    silence of t days then has probability (1 - share) ** t, as the BG/NBD family of models
    judges a customer still active from its frequency and recency. A customer active every
    day is inactive after the floor (4 days by default); one active most days, but at random,
    after about a week; one active once a month not before the ceiling (45 days).
    """
    a = p.alerts
    gaps = active_gaps(s.active_days)
    if len(gaps) < MIN_GAPS:
        return a.inactivity_after
    observed = s.active_days.bit_length() + 1  # days since its oldest active day, and one more
    quiet = 1.0 - s.active_days.bit_count() / observed  # the chance a day is silent
    unlikely = math.log(a.inactivity_odds) / -math.log(quiet)
    mean = sum(gaps) / len(gaps)
    typical = max(a.inactivity_gaps * mean, unlikely, max(gaps) + 1) * DAY
    return min(a.inactivity_ceiling, max(a.inactivity_floor, typical))


def risk_threshold(p: Policy, segment: str | None) -> float:
    """The score at or below which a customer is at high risk: where the segment's calibrated
    churn probability reaches `risk_probability`, else the policy's `risk_score`."""
    c = p.calibration_for(segment)
    if c is None:
        return p.alerts.risk_score
    q = min(max(p.alerts.risk_probability, 1e-6), 1 - 1e-6)
    logit = math.log(q / (1 - q))
    if c.slope <= 0:
        return 100.0 if c.intercept >= logit else -1.0
    return min(100.0, max(-1.0, 100.0 * (c.intercept - logit) / c.slope))


def _typical_move(history: tuple[tuple[float, float], ...]) -> float:
    """The median move between successive slots of the drop window: the customer's own noise."""
    moves = sorted(abs(b[1] - a[1]) for a, b in itertools.pairwise(history))
    return moves[len(moves) // 2] if moves else 0.0


def _floor_of(band: str, p: Policy) -> float:
    return p.bands.healthy if band == "healthy" else p.bands.at_risk if band == "at_risk" else 0.0


def _conditions(
    prev: AlertState, s: CustomerState, h: HealthScore, p: Policy, now: float
) -> dict[str, tuple[bool, str, Callable[[], str]]]:
    """Evaluate every rule: (holds, severity, the reason in words). The reason is worded only
    when an alert is raised: evaluation runs for every event, alerts are rare."""
    a = p.alerts
    out: dict[str, tuple[bool, str, Callable[[], str]]] = {}
    trusted = h.confidence >= a.confidence_floor and not s.is_churned

    window = [sc for t, sc in prev.history if now - t <= a.sharp_drop_window]
    peak = max(window, default=h.score)
    drop = peak - h.score
    # a band edge crossed by a wobble is no news: the score must be past the edge of the best
    # band it had within the drop window by a margin, itself larger for a noisy customer
    noise = _typical_move(prev.history)
    edge = _floor_of(band_for(peak, p.bands), p)
    margin = max(a.band_drop_margin, NOISE_MULTIPLE / 2 * noise)
    worse = (
        prev.band is not None
        and BANDS.index(h.band) > BANDS.index(band_for(peak, p.bands))
        and h.score <= edge - margin
    )
    holding = (
        prev.rules.get("band_drop", QUIET).active
        and h.band != "healthy"
        and (prev.band is None or BANDS.index(h.band) >= BANDS.index(prev.band))
    )
    out["band_drop"] = (
        trusted and (worse or holding),
        "critical" if h.band == "critical" else "warning",
        lambda: (
            f"health fell from {band_for(peak, p.bands)} to {h.band} "
            f"(score {h.score:.0f}, was {peak:.0f} within {a.sharp_drop_window / DAY:.0f} days)"
        ),
    )

    was = prev.rules.get("sharp_drop", QUIET).active
    # large for this customer: past the policy's points and well past its own usual moves
    needed = max(a.sharp_drop_points, NOISE_MULTIPLE * noise)
    sharp = drop >= needed or (was and drop >= needed / 2)
    out["sharp_drop"] = (
        trusted and sharp,
        "critical" if drop >= 2 * a.sharp_drop_points else "warning",
        lambda: (
            f"score dropped {drop:.0f} points within {a.sharp_drop_window / DAY:.0f} days "
            f"(from {peak:.0f} to {h.score:.0f})"
        ),
    )

    latest = s.last_nps
    detractor = latest is not None and int(latest.value) <= a.detractor_max_score
    out["detractor"] = (
        detractor and not s.is_churned,
        "warning",
        lambda: f"latest NPS answer was {latest.value}/10 (a detractor)" if latest else "",
    )

    sla = p.support.first_response_sla["urgent"]
    late = [
        tid
        for tid, k in sorted(s.tickets.items())
        if k.is_open
        and k.priority == "urgent"
        and k.first_agent_reply_at is None
        and k.opened_at is not None
        and now - k.opened_at > sla
    ]
    out["urgent_ticket_sla"] = (
        bool(late) and not s.is_churned,
        "critical",
        lambda: (
            f"{len(late)} urgent ticket{'s' if len(late) != 1 else ''} unanswered past the "
            f"{sla / 3600:g} h first-response SLA ({', '.join(late[:3])})"
        ),
    )

    since = s.last_active_at if s.last_active_at is not None else s.first_seen
    idle = now - since if since is not None and s.has_usage else 0.0
    quiet = inactivity_threshold(s, p) if idle > 0 else 0.0
    out["inactivity"] = (
        idle > 0 and idle >= quiet and not s.is_churned,
        "warning",
        lambda: (
            f"no product activity for {idle / DAY:.0f} days"
            + (
                f", unusual for this customer (usually active {_rhythm_words(s)})"
                if len(active_gaps(s.active_days)) >= MIN_GAPS
                else ""
            )
        ),
    )

    threshold = risk_threshold(p, s.segment)
    in_risk = prev.rules.get("high_risk", QUIET).active
    level = threshold + a.risk_margin if in_risk else threshold
    calibrated = h.churn_probability is not None
    out["high_risk"] = (
        trusted and h.score <= level,
        "critical",
        lambda: (
            f"high churn risk: {h.churn_probability:.0%} likely to churn "
            f"(score {h.score:.0f}) for {a.risk_for / DAY:g}+ days"
            if calibrated and h.churn_probability is not None
            else f"high churn risk: score {h.score:.0f}, at or below {threshold:.0f} "
            f"for {a.risk_for / DAY:g}+ days"
        ),
    )
    return out


def _rhythm_words(s: CustomerState) -> str:
    """The customer's usual rhythm in words: "every day", "every 3 days"."""
    gaps = active_gaps(s.active_days)
    mean = round(sum(gaps) / len(gaps)) if gaps else 1
    return "every day" if mean <= 1 else f"every {mean} days"


def pending_until(memory: AlertState, policy: Policy) -> float | None:
    """When a high-risk condition that holds but has not yet persisted becomes an alert."""
    rs = memory.rules.get("high_risk")
    if rs is None or rs.active or rs.since is None:
        return None
    return rs.since + policy.alerts.risk_for


def evaluate(
    prev: AlertState, state: CustomerState, health: HealthScore, policy: Policy, now: float
) -> tuple[AlertState, list[Alert]]:
    """Evaluate every rule at event time `now`; return the new alert state and the alert raised
    (at most one: an episode starts). `AlertState.open` is the episode's alert as it stands,
    None once the customer has recovered."""
    conditions = _conditions(prev, state, health, policy, now)
    rules = dict(prev.rules)
    started: list[tuple[str, str, Callable[[], str]]] = []  # rules whose condition began now
    fresh = False  # one of them is out of its cooldown: it may open an episode
    holding = False
    for rule in RULES:
        holds, severity, reason = conditions[rule]
        rs = rules.get(rule, QUIET)
        if not holds:
            if rs.active or rs.since is not None:
                rules[rule] = replace(rs, active=False, since=None)
            continue
        if rule == "high_risk" and not rs.active:
            # persistence (Prometheus `for:`): pending since it began, an alert once it held
            if rs.since is None:
                rules[rule] = replace(rs, since=now)
            if now - (rs.since if rs.since is not None else now) < policy.alerts.risk_for:
                continue
        holding = True
        if rs.active:
            continue
        rs = replace(rs, active=True, since=now)
        cooling = rs.last_raised_at is not None and now - rs.last_raised_at < policy.alerts.cooldown
        if not cooling:
            rs = replace(rs, last_raised_at=now)
            fresh = fresh or policy.alerts.pages(rule)
        started.append((rule, severity, reason))
        rules[rule] = rs
    episode = prev.open if holding else None
    raised: list[Alert] = []
    if started and (episode is not None or fresh):
        opening = episode is None
        if opening:
            # rules already holding that do not page (or were cooling) join the new alert
            named = {r for r, _, _ in started}
            started += [
                (r, conditions[r][1], conditions[r][2])
                for r in RULES
                if r not in named and conditions[r][0] and rules.get(r, QUIET).active
            ]
        episode = _merge(episode, started, state, health, prev.score, now)
        if opening:
            raised.append(episode)
    history = _remember(prev.history, now, health.score, policy.alerts.sharp_drop_window)
    return AlertState(health.band, health.score, history, rules, episode), raised


def _merge(
    episode: Alert | None,
    started: list[tuple[str, str, Callable[[], str]]],
    state: CustomerState,
    health: HealthScore,
    previous_score: float | None,
    now: float,
) -> Alert:
    """Open an episode's alert with the rules that started, the leading rule first, or add them
    to the open one (their reasons first: what changed)."""
    started = sorted(started, key=lambda s: LEADS.index(s[0]))
    said = [reason() for _, _, reason in started]
    severity = max((sev for _, sev, _ in started), key=SEVERITIES.index)
    if episode is not None:
        return replace(
            episode,
            rules=tuple(dict.fromkeys([*episode.rules, *(r for r, _, _ in started)])),
            severity=max(episode.severity, severity, key=SEVERITIES.index),
            reasons=tuple(dict.fromkeys([*said, *episode.reasons]))[:MAX_REASONS],
        )
    lead = started[0][0]
    named = [d.detail for d in health.drivers if not d.detail.endswith(NEUTRAL_NOTE)]
    reasons = [*said, *named[: max(1, MAX_REASONS - len(said))]]
    return Alert(
        alert_id=alert_id(state.customer_id, lead, now),
        customer_id=state.customer_id,
        rule=lead,
        severity=severity,
        score=health.score,
        previous_score=previous_score,
        band=health.band,
        reasons=tuple(dict.fromkeys(reasons))[:MAX_REASONS],
        owner=state.owner,
        segment=state.segment,
        raised_at=now,
        rules=tuple(r for r, _, _ in started),
        revenue_at_risk=health.revenue_at_risk,
        revenue_at_risk_calibrated=health.revenue_at_risk_calibrated,
    )


def _remember(
    history: tuple[tuple[float, float], ...], now: float, score: float, window: float
) -> tuple[tuple[float, float], ...]:
    """Keep the highest score per slot of `window / MAX_HISTORY` seconds, within the window."""
    slot = window / MAX_HISTORY
    start = (now // slot) * slot
    if history and history[-1][0] == start and history[0][0] >= now - window:
        # the latest slot again, and nothing left the window: the common case, made cheap
        if score <= history[-1][1]:
            return history
        return (*history[:-1], (start, score))
    kept = [(t, sc) for t, sc in history if t >= now - window and t != start]
    best = max([score, *(sc for t, sc in history if t == start)])
    return tuple(sorted([*kept, (start, best)]))[-MAX_HISTORY - 1 :]
