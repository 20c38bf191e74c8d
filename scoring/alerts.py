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
import math
from dataclasses import dataclass, field, replace
from typing import Final

from scoring.decay import DAY
from scoring.health import HealthScore, band_for
from scoring.policy import ALERT_RULES, BANDS, AlertPolicy, Policy
from scoring.reading import MIN_GAPS, inactivity_threshold, usual_gap
from scoring.state import CustomerState, gap_summary
from scoring.words import NEUTRAL, Message, say

RULES: Final = ALERT_RULES
# which rule leads a merged alert (names it, and its id): the most specific first
LEADS: Final = (
    "urgent_ticket_sla", "sharp_drop", "band_drop", "contraction", "detractor", "inactivity",
    "high_risk",
)  # fmt: skip
# a sharp drop must also be this many times the customer's typical move between slots
NOISE_MULTIPLE: Final = 6.0
SEVERITIES: Final = ("warning", "critical")
MAX_HISTORY: Final = 48
MAX_REASONS: Final = 6


@dataclass(slots=True, eq=True, init=False)
class RuleState:
    """Whether a rule's condition holds, since when, and when it last raised an alert."""

    active: bool
    since: float | None
    last_raised_at: float | None

    def __init__(
        self, active: bool = False, since: float | None = None, last_raised_at: float | None = None
    ) -> None:
        self.active = active
        self.since = since
        self.last_raised_at = last_raised_at

    def copy(self) -> RuleState:
        return RuleState(self.active, self.since, self.last_raised_at)


QUIET: Final = RuleState()  # a rule that never held: read, never changed


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Alert:
    """A churn-risk alert for the customer's success manager: one per episode. Immutable."""

    alert_id: str
    customer_id: str
    rule: str  # the rule that leads (LEADS)
    severity: str
    score: float
    previous_score: float | None
    band: str
    reasons: tuple[Message, ...]  # worded at the edge, in the reader's language
    owner: str | None
    segment: str | None
    raised_at: float
    rules: tuple[str, ...] = ()  # every rule of the episode, the leading one first
    # the customer's revenue at risk when the alert was raised (`HealthScore.revenue_at_risk`),
    # and whether it is MRR x a calibrated churn probability; None when the MRR is unknown
    revenue_at_risk: float | None = None
    revenue_at_risk_calibrated: bool = False


@dataclass(slots=True, eq=True, init=False)
class AlertState:
    """What the alert policy remembers of one customer between evaluations (updated in place
    by `evaluate_into`)."""

    band: str | None
    score: float | None
    # the best score per slot of the drop window, as flat (event time, score) pairs, oldest
    # first: [t0, s0, t1, s1, ...]
    history: list[float]
    rules: dict[str, RuleState]
    open: Alert | None  # the alert of the episode under way, as it stands now
    # when a list, `evaluate_into` adds (rule, event time) each time a rule fires (starts out
    # of its cooldown), whether it opens an episode or joins one: what a backtest measures
    # each rule by. Not stored
    fired: list[tuple[str, float]] | None = field(default=None, compare=False)

    def __init__(
        self,
        band: str | None = None,
        score: float | None = None,
        history: list[float] | None = None,
        rules: dict[str, RuleState] | None = None,
        open: Alert | None = None,
    ) -> None:
        self.band = band
        self.score = score
        self.history = [] if history is None else history
        self.rules = {} if rules is None else rules
        self.open = open
        self.fired = None

    def copy(self) -> AlertState:
        return AlertState(
            self.band,
            self.score,
            list(self.history),
            {k: r.copy() for k, r in self.rules.items()},
            self.open,
        )

    def pairs(self) -> list[tuple[float, float]]:
        """The history as (event time, score) pairs."""
        h = self.history
        return [(h[i], h[i + 1]) for i in range(0, len(h), 2)]


def alert_id(customer_id: str, rule: str, episode_start: float) -> str:
    """A deterministic id: the same customer, rule and episode always give the same id.

    >>> alert_id("acme", "inactivity", 0.0) == alert_id("acme", "inactivity", 0.0)
    True
    >>> len(alert_id("acme", "inactivity", 0.0))
    24
    """
    raw = f"{customer_id}|{rule}|{episode_start:.3f}".encode()
    return hashlib.sha256(raw).hexdigest()[:24]


MIN_BASELINE_DAYS: Final = 28  # days of rhythm before the thinning window needed to judge it


class Thinning:
    """A customer's active days in the last `days` against its own rhythm before them: how
    many (`active`), how many it usually has in as many days (`usual`), and the chance of so
    few (`chance`)."""

    __slots__ = ("active", "chance", "days", "usual")

    def __init__(self, active: int, days: int, usual: float, chance: float) -> None:
        self.active, self.days, self.usual, self.chance = active, days, usual, chance


def thinning(mask: int, last_active_at: float | None, now: float, days: int) -> Thinning | None:
    """Activity thinned out: fewer than half the active days in the last `days` that the
    customer's own rhythm before them gives, with the chance of so few (None otherwise, or
    while there is less than `MIN_BASELINE_DAYS` of rhythm before them to judge by, or when it
    was silent all of them: a silence is judged by `inactivity_threshold`).

    The chance is the beta-binomial tail: each day active with the share of days the customer
    was active from its oldest active day in the window up to these days, that share known
    only as well as those days tell it (a uniform prior), so a short rhythm is judged with its
    uncertainty. A silence is the case of no active day; this is a customer still coming, but
    far less often than it did, as a declining customer does.

    >>> day = 86_400.0
    >>> daily = (1 << 60) - 1  # active every day for 60 days up to today
    >>> thinning(daily, 59 * day, 59 * day, 14) is None
    True
    >>> t = thinning(daily & ~0b1111111110110, 59 * day, 59 * day, 14)  # 3 of the last 14
    >>> t.active, t.usual, t.chance < 1e-9
    (3, 14.0, True)
    """
    if last_active_at is None or not mask:
        return None
    since = int(now // DAY) - int(last_active_at // DAY)
    recent_days = days - since  # bits of `mask` (latest active day first) within the days
    if recent_days <= 0:
        return None
    older = mask >> recent_days
    baseline = older.bit_length()  # days from the oldest active day up to the window
    if baseline < MIN_BASELINE_DAYS:
        return None
    active_before = older.bit_count()
    usual = active_before / baseline * days
    recent = (mask & ((1 << recent_days) - 1)).bit_count()
    if recent >= usual / 2:
        return None
    # P(at most `recent` active days of `days`), X ~ BetaBinomial(days, a, b)
    a, b = active_before + 1.0, baseline - active_before + 1.0
    term = 1.0
    for j in range(days):
        term *= (b + j) / (a + b + j)
    tail = term
    for k in range(recent):
        term *= (days - k) / (k + 1) * (k + a) / (days - k - 1 + b)
        tail += term
    return Thinning(recent, days, usual, tail)


def _thinned(s: CustomerState, a: AlertPolicy, now: float, holding: bool) -> bool:
    """Has the customer's activity thinned out past the policy's odds? Once it holds, it
    clears only when the odds of what follows are back above their square root (hysteresis:
    one returning day is not a recovery)."""
    t = thinning(s.active_days, s.last_active_at, now, a.thinning_days)
    if t is None:
        return False
    odds = math.sqrt(a.thinning_odds) if holding else a.thinning_odds
    return t.chance * odds < 1.0


def risk_threshold(p: Policy, segment: str | None) -> float:
    """The score at or below which a customer is at high risk: where the segment's calibrated
    churn probability reaches `risk_probability`, else the policy's `risk_score`."""
    return p.model_for(segment).risk


def _typical_move(history: list[float]) -> float:
    """The median move between successive slots of the drop window: the customer's own noise."""
    moves = sorted(abs(history[i + 3] - history[i + 1]) for i in range(0, len(history) - 2, 2))
    return moves[len(moves) // 2] if moves else 0.0


def _floor_of(band: int, p: Policy) -> float:
    return p.bands.healthy if band == 0 else p.bands.at_risk if band == 1 else 0.0


def _late_urgent(s: CustomerState, p: Policy, now: float) -> list[str]:
    """Open urgent tickets still unanswered past their first-response SLA, by id."""
    if not s.tickets:
        return []
    sla = p.support.first_response_sla["urgent"]
    return [
        tid
        for tid, k in sorted(s.tickets.items())
        if k.is_open
        and k.priority == "urgent"
        and k.first_agent_reply_at is None
        and k.opened_at is not None
        and now - k.opened_at > sla
    ]


def _idle(s: CustomerState, now: float) -> float:
    """Seconds of silence that inactivity judges (0 for a customer without usage)."""
    since = s.last_active_at if s.last_active_at is not None else s.first_seen
    return now - since if since is not None and s.has_usage else 0.0


class _Reading:
    """What the rules read at one evaluation, for the words of the reasons (made only when an
    alert is raised or grows)."""

    __slots__ = ("best", "drop", "peak", "threshold")

    def __init__(self, peak: float, best: float, drop: float, threshold: float) -> None:
        self.peak, self.best, self.drop, self.threshold = peak, best, drop, threshold


def _reason(
    rule: str, r: _Reading, s: CustomerState, h: HealthScore, p: Policy, now: float
) -> Message:
    """A rule's reason, as a message."""
    a = p.alerts
    if rule == "band_drop":
        return say(
            "alert-band-drop",
            was_band=band_for(r.best, p.bands),
            band=h.band,
            score=round(h.score),
            was=round(r.best),
            days=round(a.band_drop_window / DAY),
        )
    if rule == "sharp_drop":
        return say(
            "alert-sharp-drop",
            drop=round(r.drop),
            days=round(a.sharp_drop_window / DAY),
            was=round(r.peak),
            score=round(h.score),
        )
    if rule == "detractor":
        latest = s.last_nps
        if latest is None:
            return say("rule", rule=rule)
        return say("alert-detractor", latest=latest.value)
    if rule == "urgent_ticket_sla":
        late = _late_urgent(s, p, now)
        sla = p.support.first_response_sla["urgent"]
        return say(
            "alert-urgent-ticket-sla",
            tickets=len(late),
            hours=round(sla / 3600, 2),
            ids=", ".join(late[:3]),
        )
    if rule == "inactivity":
        idle = _idle(s, now)
        thin = (
            None
            if idle >= inactivity_threshold(s, p)
            else thinning(s.active_days, s.last_active_at, now, a.thinning_days)
        )
        if thin is not None:  # still coming, far less often than it did
            return say(
                "alert-inactivity-thinning",
                active=thin.active,
                days=thin.days,
                usual=round(thin.usual),
            )
        days = round(idle / DAY)
        count, total, _ = gap_summary(s.active_days)
        if count >= MIN_GAPS:
            every = max(1, round(total / count))
            return say("alert-inactivity-rhythm", days=days, every=every)
        # the recency driver's own message: the alert's reasons name it once, not twice
        return say("usage-recency-idle", days=days)
    if rule == "contraction":
        return say(
            "alert-contraction",
            share=round(contraction(s.mrr_days, now, a.contraction_window), 2),
            was=round(_highest(s.mrr_days, now, a.contraction_window)),
            mrr=round(_in_force(s.mrr_days, now)),
            days=round(a.contraction_window / DAY),
        )
    if h.churn_probability is not None:
        return say(
            "alert-high-risk-calibrated",
            probability=round(h.churn_probability, 2),
            score=round(h.score),
            days=round(a.risk_for / DAY, 2),
        )
    return say(
        "alert-high-risk",
        score=round(h.score),
        threshold=round(r.threshold),
        days=round(a.risk_for / DAY, 2),
    )


def _highest(days: list[float], now: float, window: float) -> float:
    """The highest MRR in force at any time within `window` before `now`, of a customer's
    `mrr_days` (each in force from its time to the next one's)."""
    start = now - window
    n = len(days)
    best = 0.0
    for i in range(0, n, 2):
        if days[i] > now:
            break
        if (i + 2 >= n or days[i + 2] > start) and days[i + 1] > best:
            best = days[i + 1]
    return best


def contraction(days: list[float], now: float, window: float) -> float:
    """How far the customer's MRR now is below the highest it was in force at within `window`
    before `now` (0.4: 40% below; 0 when it is not below), of its `mrr_days`
    (`CustomerState.mrr_days`). A contraction is judged by what the customer pays, whatever the
    score says: a downgrade often comes before the customer leaves.

    >>> DAYS = [0.0, 500.0, 40 * DAY, 300.0]
    >>> contraction(DAYS, 45 * DAY, 30 * DAY), contraction(DAYS, 71 * DAY, 30 * DAY)
    (0.4, 0.0)
    """
    if len(days) < 4:
        return 0.0
    mrr = _in_force(days, now)
    best = _highest(days, now, window)
    if best <= 0 or mrr >= best:
        return 0.0
    return 1.0 - mrr / best


def _in_force(days: list[float], now: float) -> float:
    """The MRR in force at `now` of a customer's `mrr_days` (the first when none is yet)."""
    i = len(days) - 2
    while i > 0 and days[i] > now:
        i -= 2
    return days[i + 1]


def pending_until(memory: AlertState, state: CustomerState, policy: Policy) -> float | None:
    """When a condition that holds but has not yet persisted becomes an alert: high risk after
    `risk_for`, a band drop after `persist_for`; the earlier of the two."""
    out: float | None = None
    rules = memory.rules
    rs = rules.get("high_risk")
    if rs is not None and not rs.active and rs.since is not None:
        out = rs.since + policy.alerts.risk_for
    rs = rules.get("band_drop")
    if rs is not None and not rs.active and rs.since is not None:
        at = rs.since + persist_for(state, policy)
        if out is None or at < out:
            out = at
    return out


def persist_for(state: CustomerState, policy: Policy) -> float:
    """How long a band drop must hold to raise an alert: the customer's usual gap between
    active days (a score that dips between two visits and recovers at the next is the
    customer's rhythm, not a drop), at least `risk_for` and at most half the band-drop window
    (a drop is judged against the best band within the window, so one that must outlast it
    never could: a customer active every few weeks would have no band drop at all)."""
    a = policy.alerts
    return max(a.risk_for, min(usual_gap(state), a.band_drop_window / 2))


def _active(memory: AlertState, rule: str) -> bool:
    rs = memory.rules.get(rule)
    return rs is not None and rs.active


def _holding(
    memory: AlertState, s: CustomerState, h: HealthScore, p: Policy, now: float
) -> tuple[int, int, _Reading]:
    """Which rules' conditions hold (a bit per rule, in RULES order) and which are critical,
    with what their reasons read."""
    a = p.alerts
    hist = memory.history
    window = a.sharp_drop_window
    band_window = a.band_drop_window
    score = h.score
    # the best score within the sharp-drop window (what a sharp drop falls from) and within
    # the band-drop window (the best band a band drop leaves)
    peak = -1.0
    best = -1.0
    for i in range(0, len(hist), 2):
        if now - hist[i] <= window and hist[i + 1] > peak:
            peak = hist[i + 1]
        if now - hist[i] <= band_window and hist[i + 1] > best:
            best = hist[i + 1]
    if peak < 0:
        peak = score
    if best < 0:
        best = score
    drop = peak - score
    churned = s.is_churned
    trusted = h.confidence >= a.confidence_floor and not churned
    band = BANDS.index(h.band)
    peak_band = 0 if best >= p.bands.healthy else 1 if best >= p.bands.at_risk else 2
    # a band edge crossed by a wobble is no news: the score must be past the edge of the best
    # band it had within the drop window by a margin, itself larger for a noisy customer; a
    # sharp drop must be large for this customer too. Its noise is read only when it matters
    below = memory.band is not None and band > peak_band
    noise = _typical_move(hist) if below or drop >= a.sharp_drop_points / 2 else 0.0
    holds = critical = 0
    if trusted:
        margin = max(a.band_drop_margin, NOISE_MULTIPLE / 2 * noise)
        worse = below and score <= _floor_of(peak_band, p) - margin
        prev = memory.band
        holding = (
            _active(memory, "band_drop")
            and band != 0
            and (prev is None or band >= BANDS.index(prev))
        )
        if worse or holding:
            holds |= _BAND_DROP
            if band == 2:
                critical |= _BAND_DROP
        needed = max(a.sharp_drop_points, NOISE_MULTIPLE * noise)
        if drop >= needed or (_active(memory, "sharp_drop") and drop >= needed / 2):
            holds |= _SHARP_DROP
            if drop >= 2 * a.sharp_drop_points:
                critical |= _SHARP_DROP
    threshold = -1.0
    if not churned:
        latest = s.last_nps
        if latest is not None and int(latest.value) <= a.detractor_max_score:
            holds |= _DETRACTOR
        if s.tickets and _late_urgent(s, p, now):
            holds |= _URGENT
            critical |= _URGENT
        idle = _idle(s, now)
        if idle > 0 and (
            idle >= inactivity_threshold(s, p) or _thinned(s, a, now, _active(memory, "inactivity"))
        ):
            holds |= _INACTIVITY
        if len(s.mrr_days) > 2:
            fell = contraction(s.mrr_days, now, a.contraction_window)
            if fell >= a.contraction_share:
                holds |= _CONTRACTION
                if fell >= 2 * a.contraction_share:
                    critical |= _CONTRACTION
    if trusted:
        threshold = risk_threshold(p, s.segment)
        level = threshold + a.risk_margin if _active(memory, "high_risk") else threshold
        if score <= level:
            holds |= _HIGH_RISK
            critical |= _HIGH_RISK
    return holds, critical, _Reading(peak, best, drop, threshold)


_BAND_DROP, _SHARP_DROP, _DETRACTOR, _URGENT, _INACTIVITY, _HIGH_RISK, _CONTRACTION = (
    1 << i for i in range(7)
)


def evaluate_into(
    memory: AlertState, state: CustomerState, health: HealthScore, policy: Policy, now: float
) -> Alert | None:
    """Evaluate every rule at event time `now`, updating the alert memory in place; return the
    alert raised (at most one: an episode starts), or None. `AlertState.open` is the episode's
    alert as it stands, None once the customer has recovered."""
    holds, critical, reading = _holding(memory, state, health, policy, now)
    a = policy.alerts
    rules = memory.rules
    started: list[tuple[str, str]] = []  # rules whose condition began now, and severities
    fresh = False  # one of them is out of its cooldown: it may open an episode
    holding = False
    for i, rule in enumerate(RULES):
        rs = rules.get(rule)
        if not holds >> i & 1:
            if rs is not None and (rs.active or rs.since is not None):
                rs.active, rs.since = False, None
            continue
        if rs is None:
            rs = rules[rule] = RuleState()
        if (i == 5 or i == 0) and not rs.active:  # high_risk, band_drop
            # persistence (Prometheus `for:`): pending since it began, an alert once it held
            # (`pending_until`)
            since = rs.since
            if since is None:
                rs.since = now
            wait = a.risk_for if i == 5 else persist_for(state, policy)
            if now - (since if since is not None else now) < wait:
                continue
        holding = True
        if rs.active:
            continue
        rs.active, rs.since = True, now
        last = rs.last_raised_at
        if last is None or now - last >= a.cooldown:
            rs.last_raised_at = now
            fresh = fresh or a.pages(rule)
            if memory.fired is not None:
                memory.fired.append((rule, now))
        started.append((rule, "critical" if critical >> i & 1 else "warning"))
    episode = memory.open if holding else None
    raised: Alert | None = None
    if started and (episode is not None or fresh):
        opening = episode is None
        if opening:
            # rules already holding that do not page (or were cooling) join the new alert
            named = {r for r, _ in started}
            started += [
                (r, "critical" if critical >> i & 1 else "warning")
                for i, r in enumerate(RULES)
                if r not in named and holds >> i & 1 and _active(memory, r)
            ]
        said = [(r, sev, _reason(r, reading, state, health, policy, now)) for r, sev in started]
        episode = _merge(episode, said, state, health, memory.score, now)
        if opening:
            raised = episode
    memory.open = episode
    _remember(memory.history, now, health.score, a.memory_window)
    memory.band, memory.score = health.band, health.score
    return raised


def evaluate(
    prev: AlertState, state: CustomerState, health: HealthScore, policy: Policy, now: float
) -> tuple[AlertState, list[Alert]]:
    """`evaluate_into` on a copy of `prev`: the new alert state, and the alert raised."""
    memory = prev.copy()
    raised = evaluate_into(memory, state, health, policy, now)
    return memory, [] if raised is None else [raised]


def _merge(
    episode: Alert | None,
    started: list[tuple[str, str, Message]],
    state: CustomerState,
    health: HealthScore,
    previous_score: float | None,
    now: float,
) -> Alert:
    """Open an episode's alert with the rules that started, the leading rule first, or add them
    to the open one (their reasons first: what changed)."""
    started = sorted(started, key=lambda s: LEADS.index(s[0]))
    said = [reason for _, _, reason in started]
    severity = max((sev for _, sev, _ in started), key=SEVERITIES.index)
    if episode is not None:
        return replace(
            episode,
            rules=tuple(dict.fromkeys([*episode.rules, *(r for r, _, _ in started)])),
            severity=max(episode.severity, severity, key=SEVERITIES.index),
            reasons=tuple(dict.fromkeys([*said, *episode.reasons]))[:MAX_REASONS],
        )
    lead = started[0][0]
    named = [d.detail for d in health.drivers if d.detail.id not in NEUTRAL]
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


def _remember(history: list[float], now: float, score: float, window: float) -> None:
    """Keep the highest score per slot of `window / MAX_HISTORY` seconds, within the window
    (in place)."""
    slot = window / MAX_HISTORY
    start = (now // slot) * slot
    n = len(history)
    if n and history[n - 2] == start and history[0] >= now - window:
        # the latest slot again, and nothing left the window: the common case, made cheap
        if score > history[n - 1]:
            history[n - 1] = score
        return
    if n == 0 or start > history[n - 2]:
        # a later slot (the slots are kept in order): add it, drop those that left the window
        history.append(start)
        history.append(score)
        horizon = now - window
        gone = 0
        while gone < n and history[gone] < horizon:
            gone += 2
        gone = max(gone, len(history) - 2 * (MAX_HISTORY + 1))
        if gone:
            del history[:gone]
        return
    kept = [
        (history[i], history[i + 1])
        for i in range(0, n, 2)
        if history[i] >= now - window and history[i] != start
    ]
    best = score
    for i in range(0, n, 2):
        if history[i] == start and history[i + 1] > best:
            best = history[i + 1]
    pairs = sorted([*kept, (start, best)])[-MAX_HISTORY - 1 :]
    history[:] = [x for pair in pairs for x in pair]
