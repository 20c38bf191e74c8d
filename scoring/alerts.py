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
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from scoring.components import NEUTRAL_NOTE
from scoring.decay import DAY
from scoring.health import HealthScore
from scoring.policy import BANDS, Policy
from scoring.state import CustomerState

RULES = ("band_drop", "sharp_drop", "detractor", "urgent_ticket_sla", "inactivity")
# which rule leads a merged alert (names it, and its id): the most specific first
LEADS = ("urgent_ticket_sla", "sharp_drop", "band_drop", "detractor", "inactivity")
SEVERITIES = ("warning", "critical")
MAX_HISTORY = 48
MAX_REASONS = 6


@dataclass(frozen=True, slots=True)
class RuleState:
    """Whether a rule's condition holds, since when, and when it last raised an alert."""

    active: bool = False
    since: float | None = None
    last_raised_at: float | None = None


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


def _conditions(
    prev: AlertState, s: CustomerState, h: HealthScore, p: Policy, now: float
) -> dict[str, tuple[bool, str, Callable[[], str]]]:
    """Evaluate every rule: (holds, severity, the reason in words). The reason is worded only
    when an alert is raised: evaluation runs for every event, alerts are rare."""
    a = p.alerts
    out: dict[str, tuple[bool, str, Callable[[], str]]] = {}
    trusted = h.confidence >= a.confidence_floor and not s.is_churned

    worse = prev.band is not None and BANDS.index(h.band) > BANDS.index(prev.band)
    holding = (
        prev.rules.get("band_drop", RuleState()).active
        and h.band != "healthy"
        and (prev.band is None or BANDS.index(h.band) >= BANDS.index(prev.band))
    )
    out["band_drop"] = (
        trusted and (worse or holding),
        "critical" if h.band == "critical" else "warning",
        lambda: (
            f"health fell from {prev.band} to {h.band} (score {h.score:.0f}"
            + (f", was {prev.score:.0f})" if prev.score is not None else ")")
        ),
    )

    window = [sc for t, sc in prev.history if now - t <= a.sharp_drop_window]
    peak = max(window, default=h.score)
    drop = peak - h.score
    was = prev.rules.get("sharp_drop", RuleState()).active
    sharp = drop >= a.sharp_drop_points or (was and drop >= a.sharp_drop_points / 2)
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
    out["inactivity"] = (
        idle >= a.inactivity_after and not s.is_churned,
        "warning",
        lambda: f"no product activity for {idle / DAY:.0f} days",
    )
    return out


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
        rs = rules.get(rule, RuleState())
        if not holds:
            if rs.active:
                rules[rule] = replace(rs, active=False, since=None)
            continue
        holding = True
        if rs.active:
            continue
        rs = replace(rs, active=True, since=now)
        cooling = rs.last_raised_at is not None and now - rs.last_raised_at < policy.alerts.cooldown
        if not cooling:
            rs = replace(rs, last_raised_at=now)
            fresh = True
        started.append((rule, severity, reason))
        rules[rule] = rs
    episode = prev.open if holding else None
    raised: list[Alert] = []
    if started and (episode is not None or fresh):
        opening = episode is None
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
