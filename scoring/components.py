"""The three components of health (usage, support, sentiment), each 0-100 or None, with losses.

Each component starts from 100 and names what it lost and why: `losses` add up to
`100 - value`, so the drivers of the overall score add up exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from scoring import events as ev
from scoring import formulas
from scoring.decay import DAY, HOUR
from scoring.policy import USAGE_SIGNALS, Policy
from scoring.state import CustomerState, Ticket


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Loss:
    """Points a component lost to one signal, with the reason in words."""

    signal: str
    points: float
    detail: str


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Component:
    """A component's value (None when there is no evidence) and the losses that explain it."""

    name: str
    value: float | None
    losses: tuple[Loss, ...] = ()


Part = tuple[str, float, float, str]  # (signal, weight, sub-score 0-100, words)


def weighted_value(parts: list[Part]) -> float | None:
    """The parts with weight, combined with renormalised weights (0-100); None without any."""
    return _weighted_mean([w for _, w, _, _ in parts], [sub for _, _, sub, _ in parts])


def _weighted_mean(weights: Sequence[float], subs: Sequence[float]) -> float | None:
    """The sub-scores with weight, combined with renormalised weights and clamped to 0-100."""
    total = 0.0
    for w in weights:
        if w > 0:
            total += w
    if not total:
        return None
    acc = 0.0
    for w, sub in zip(weights, subs, strict=True):
        if w > 0:
            acc += w / total * sub
    return max(0.0, min(100.0, acc))


def _weighted(name: str, parts: list[Part]) -> Component:
    """A component from its parts (each with weight), and what each part lost."""
    total = sum((w for _, w, _, _ in parts), 0.0)
    losses = tuple(
        Loss(f"{name}.{sig}", w / total * (100.0 - sub), detail) for sig, w, sub, detail in parts
    )
    return Component(name, weighted_value(parts), losses)


def _days(seconds: float) -> str:
    days = seconds / DAY
    return f"{days:.0f} day{'s' if round(days) != 1 else ''}"


def _hours(seconds: float) -> str:
    return f"{seconds / HOUR:g} h"


NEUTRAL = 50.0  # the sub-score of a signal without evidence: neither good nor bad
NEUTRAL_NOTE = "(counted as neutral)"  # ends the words of a signal read at NEUTRAL


def _ratio(recent: float, baseline: float) -> float:
    """100 * recent / baseline, capped at 100 (using more than usual is not a risk)."""
    return 100.0 * min(1.0, recent / baseline) if baseline > 0 else 0.0


def usage(s: CustomerState, p: Policy, now: float) -> Component:
    """Usage: see `usage_parts`; None for a customer never heard of."""
    parts = usage_parts(s, p, now)
    if not parts:
        return Component("usage", None)
    return _weighted("usage", [x for x in parts if x[1] > 0])


class _Usage(NamedTuple):
    """What the usage signals read at one moment: their sub-scores (0-100, in `USAGE_SIGNALS`
    order) and the figures their words quote."""

    subs: tuple[float, float, float, float, float, float]
    idle: float
    daily: float
    typical: float
    used: int
    share: float
    no_year: bool


def _usage(s: CustomerState, p: Policy, now: float, first_seen: float) -> _Usage:
    u = p.usage
    active = s.last_active_at
    idle = max(0.0, now - (active if active is not None else first_seen))
    typical = u.typical_for(s.segment)
    daily = s.activity_quarter.rate_at(now, u.quarter_half_life)
    level = daily / typical
    trend = _ratio(
        s.activity_short.rate_at(now, u.short_half_life),
        s.activity_long.rate_at(now, u.long_half_life),
    )
    no_year = s.activity_year.ref is None and s.activity_long.ref is not None
    slow = NEUTRAL if no_year else _ratio(daily, s.activity_year.rate_at(now, u.year_half_life))
    window = u.feature_window
    used = sum(1 for last in s.features.values() if now - last <= window)
    # above neutral only: reporting a first feature never lowers the score
    breadth = (
        NEUTRAL + (100.0 - NEUTRAL) * min(1.0, used / u.feature_target) if s.features else NEUTRAL
    )
    share, seats = 0.0, NEUTRAL
    if s.seats is not None:
        active_users, licensed = s.seats.value
        share = active_users / licensed if licensed else 0.0
        seats = 100.0 * min(1.0, share / u.seat_target)
    subs = (
        100.0 * u.recency / (u.recency + idle),
        100.0 * level / (1.0 + level),
        trend,
        slow,
        breadth,
        seats,
    )
    return _Usage(subs, idle, daily, typical, used, share, no_year)


def usage_value(s: CustomerState, p: Policy, now: float) -> float | None:
    """The value of the usage component (`weighted_value` of `usage_parts`) without building
    its parts: what the schedule asks many times when it looks ahead for a silent customer."""
    if s.first_seen is None:
        return None
    weights = p.usage.weights_for(s.segment)
    subs = _usage(s, p, now, s.first_seen).subs
    return _weighted_mean([weights[name] for name in USAGE_SIGNALS], subs)


def usage_parts(s: CustomerState, p: Policy, now: float, words: bool = True) -> list[Part]:
    """Usage signals as (signal, weight, sub-score 0-100, words; "" unless `words`): how
    recently, how much and how steadily the customer uses the product, against its own
    baseline over two horizons and against its segment; breadth and seats in use.

    Every signal keeps ranking however long a customer is idle (none saturates at 0), so idle
    customers stay ordered by how long and how much they used the product before. A known
    customer with no usage at all reads as idle since it was first seen."""
    u = p.usage
    if s.first_seen is None:
        return []
    weights = u.weights_for(s.segment)
    reading = _usage(s, p, now, s.first_seen)
    parts = [
        (name, weights[name], sub) for name, sub in zip(USAGE_SIGNALS, reading.subs, strict=True)
    ]
    if not words:
        return [(name, w, sub, "") for name, w, sub in parts]
    active, idle, daily, typical = s.last_active_at, reading.idle, reading.daily, reading.typical
    trend, slow, used, share = reading.subs[2], reading.subs[3], reading.used, reading.share
    no_year = reading.no_year
    if active is None:
        recency = f"no product activity since first seen {_days(idle)} ago"
    elif idle > u.idle_after:
        recency = f"no product activity for {_days(idle)}"
    else:
        recency = f"last active {_days(idle)} ago"
    said = {
        "recency": recency,
        "frequency": f"{daily:.1f} uses a day over recent months, against {typical:g} "
        "typical for the segment",
        "trend": f"activity lately is {trend:.0f}% of this customer's usual rate (last weeks)",
        "slow_trend": "no year of activity recorded yet " + NEUTRAL_NOTE
        if no_year
        else f"activity over the last quarter is {slow:.0f}% of its rate over the year",
        "breadth": f"{used} feature{'s' if used != 1 else ''} used in the last "
        f"{_days(u.feature_window)} (target {u.feature_target})"
        if s.features
        else "no feature usage reported " + NEUTRAL_NOTE,
        "seats": f"{s.seats.value[0]} of {s.seats.value[1]} licensed seats active "
        f"({share * 100:.0f}%, target {u.seat_target * 100:.0f}%)"
        if s.seats is not None
        else "no seat snapshot reported " + NEUTRAL_NOTE,
    }
    return [(name, w, sub, said[name]) for name, w, sub in parts]


def contact_count(s: CustomerState, p: Policy, now: float) -> int:
    """Tickets opened in the contact window up to `now`: how often the customer needed help."""
    since = now - p.support.contact_window
    return sum(
        1 for k in s.tickets.values() if k.opened_at is not None and since <= k.opened_at <= now
    )


def _breached(k: Ticket, p: Policy, now: float) -> bool:
    """Did the ticket miss its first-response SLA (answered late, or still unanswered past it)?"""
    if k.opened_at is None or k.priority is None:
        return False
    sla = p.support.first_response_sla[k.priority]
    first = k.first_response_seconds()
    if first is not None:
        return first > sla
    return k.is_open and now - k.opened_at > sla


# Components that do not depend on the moment (immutable, so shared rather than built each time)
_NO_SUPPORT = Component("support", None)
_NO_TICKETS = Component("support", 100.0)  # a customer who needed no support
_NO_SENTIMENT = Component("sentiment", None)
_NO_ANSWERS = Component(
    "sentiment",
    NEUTRAL,
    (Loss("sentiment.no_answers", 100.0 - NEUTRAL, "no survey answers " + NEUTRAL_NOTE),),
)


def support(s: CustomerState, p: Policy, now: float, words: bool = True) -> Component:
    """Support burden: how often the customer needs support (tickets opened over the contact
    window), open tickets by priority and age, SLA misses, reopens, escalations, slow
    resolutions over the support window. 100 for a customer who needed no support. Without
    `words` the losses carry no detail (the value is the same).

    Every penalty grows with the count of what it penalises (never a share), so one more
    ticket, open or not, never raises the component."""
    sp = p.support
    if s.first_seen is None:
        return _NO_SUPPORT
    known = [k for k in s.tickets.values() if k.opened_at is not None and k.opened_at <= now]
    if not known:
        return _NO_TICKETS
    open_ = [k for k in known if k.is_open]
    recent = [k for k in known if k.is_open or k.opened_at >= now - sp.window]  # type: ignore[operator]
    contacts = contact_count(s, p, now)
    penalties: list[Loss] = []
    if contacts:
        penalties.append(
            Loss(
                "support.contacts",
                sp.contact_max * contacts / (contacts + sp.contact_half),
                f"{contacts} ticket{'s' if contacts != 1 else ''} opened in the last "
                f"{_days(sp.contact_window)}"
                if words
                else "",
            )
        )

    if open_:
        load = sum(
            (
                sp.priority_weights[k.priority or "normal"]
                * (1.0 + min(2.0, (now - (k.opened_at or now)) / (7 * DAY)))
                for k in open_
            ),
            0.0,
        )
        penalties.append(
            Loss(
                "support.open_tickets",
                min(sp.open_max, sp.open_points_per_unit * load),
                _open_words(open_, now) if words else "",
            )
        )

    breached = [k for k in recent if _breached(k, p, now)]
    if breached:
        penalties.append(
            Loss(
                "support.first_response",
                sp.sla_breach_max * len(breached) / (len(breached) + 1),
                _breach_words(breached, recent, p) if words else "",
            )
        )

    reopens = sum(k.reopens for k in recent)
    if reopens:
        penalties.append(
            Loss(
                "support.reopens",
                sp.reopen_max * reopens / (reopens + 1),
                f"{reopens} reopen{'s' if reopens != 1 else ''} across "
                f"{len(recent)} tickets in the last {_days(sp.window)}"
                if words
                else "",
            )
        )

    escalations = sum(k.escalations for k in recent)
    if escalations:
        penalties.append(
            Loss(
                "support.escalations",
                min(sp.escalation_max, sp.escalation_points_each * escalations),
                f"{escalations} escalation{'s' if escalations != 1 else ''} in the "
                f"last {_days(sp.window)}"
                if words
                else "",
            )
        )

    resolved = [(k, r) for k in recent if (r := k.resolution_seconds()) is not None]
    slow = [k for k, r in resolved if r > sp.resolution_target[k.priority or "normal"]]
    if slow:
        penalties.append(
            Loss(
                "support.resolution_time",
                sp.slow_resolution_max * len(slow) / (len(slow) + 1),
                f"{len(slow)} of {len(resolved)} resolved tickets took longer than "
                "the resolution target"
                if words
                else "",
            )
        )

    lost = sum((x.points for x in penalties), 0.0)
    value = max(0.0, 100.0 - lost)
    scale = (100.0 - value) / lost if lost > 0 else 0.0  # share out the clamp proportionally
    return Component(
        "support", value, tuple(Loss(x.signal, x.points * scale, x.detail) for x in penalties)
    )


def _open_words(open_: list[Ticket], now: float) -> str:
    by = {pr: sum(1 for k in open_ if k.priority == pr) for pr in ("urgent", "high")}
    mix = ", ".join(f"{n} {pr}" for pr, n in by.items() if n)
    oldest = max(now - (k.opened_at or now) for k in open_)
    return (
        f"{len(open_)} open ticket{'s' if len(open_) != 1 else ''}"
        f"{' (' + mix + ')' if mix else ''}, oldest open {_days(oldest)}"
    )


def _breach_words(breached: list[Ticket], recent: list[Ticket], p: Policy) -> str:
    sp = p.support
    waiting = [k for k in breached if k.is_open and k.first_agent_reply_at is None]
    phrases = []
    for prio in reversed(ev.PRIORITIES):
        n = sum(1 for k in waiting if k.priority == prio)
        if n:
            phrases.append(
                f"{n} {prio} ticket{'s' if n != 1 else ''} open longer than the "
                f"{_hours(sp.first_response_sla[prio])} first-response SLA"
            )
    late = len(breached) - len(waiting)
    if late:
        phrases.append(
            f"{late} of {len(recent)} tickets answered later than the "
            f"first-response SLA in the last {_days(sp.window)}"
        )
    return "; ".join(phrases)


def sentiment(s: CustomerState, p: Policy, now: float, words: bool = True) -> Component:
    """Sentiment: the customer's own NPS, CSAT and CES from decayed survey answers. Without
    `words` the losses carry no detail (the value is the same)."""
    h = p.sentiment.half_life
    w = p.sentiment.weights
    parts: list[tuple[str, float, float, str]] = []
    nps = formulas.nps(
        s.promoters.value_at(now, h), s.passives.value_at(now, h), s.detractors.value_at(now, h)
    )
    if nps is not None and w["nps"] > 0:
        latest = f" (latest answer {s.last_nps.value}/10)" if s.last_nps is not None else ""
        said = f"NPS {nps:+.0f}{latest}" if words else ""
        parts.append(("nps", w["nps"], (nps + 100.0) / 2.0, said))
    csat = formulas.csat(s.csat_satisfied.value_at(now, h), s.csat_total.value_at(now, h))
    if csat is not None and w["csat"] > 0:
        said = f"CSAT {csat:.0f}% satisfied (4-5 of 5)" if words else ""
        parts.append(("csat", w["csat"], csat, said))
    ces = formulas.ces(s.ces_easy.value_at(now, h), s.ces_total.value_at(now, h))
    if ces is not None and w["ces"] > 0:
        said = f"CES: {ces:.0f}% of answers say low effort (5-7 of 7)" if words else ""
        parts.append(("ces", w["ces"], ces, said))
    if not parts:
        return _NO_SENTIMENT if s.first_seen is None else _NO_ANSWERS
    if not words:
        return Component("sentiment", weighted_value(parts))
    return _weighted("sentiment", parts)


def signals(s: CustomerState, p: Policy, now: float) -> dict[str, float]:
    """The model's inputs at `now`, each 0-100 with higher meaning healthier: the usage signals
    (`usage.<signal>`), and the support and sentiment components. What `healthscore
    calibrate` fits weights to and what a backtest compares the score with; empty for a
    customer never heard of."""
    out = {f"usage.{name}": sub for name, _, sub, _ in usage_parts(s, p, now)}
    if not out:
        return out
    out["support"] = support(s, p, now).value or 0.0
    out["sentiment"] = sentiment(s, p, now).value or 0.0
    return out


def plain_signals(s: CustomerState, p: Policy, now: float) -> dict[str, float]:
    """Single plain measures a model has to beat, oriented so that higher means healthier:
    days since the last product activity (negated), activity over the last year, tickets opened
    in the contact window (negated)."""
    since = s.last_active_at if s.last_active_at is not None else s.first_seen
    idle = (now - since) / DAY if since is not None else 0.0
    return {
        "days since last activity": -idle,
        "activity over the last year": s.activity_year.value_at(now, p.usage.year_half_life),
        "tickets opened lately": -float(contact_count(s, p, now)),
    }
