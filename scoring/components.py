"""The three components of health (usage, support, sentiment), each 0-100 or None, with losses.

Each component starts from 100 and names what it lost and why: `losses` add up to
`100 - value`, so the drivers of the overall score add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring import events as ev
from scoring import formulas
from scoring.decay import DAY, HOUR
from scoring.policy import Policy
from scoring.state import CustomerState, Ticket


@dataclass(frozen=True, slots=True)
class Loss:
    """Points a component lost to one signal, with the reason in words."""

    signal: str
    points: float
    detail: str


@dataclass(frozen=True, slots=True)
class Component:
    """A component's value (None when there is no evidence) and the losses that explain it."""

    name: str
    value: float | None
    losses: tuple[Loss, ...] = ()


def _weighted(name: str, parts: list[tuple[str, float, float, str]]) -> Component:
    """Combine (signal, weight, sub-score 0-100, detail) parts with renormalised weights."""
    total = sum(w for _, w, _, _ in parts)
    losses = tuple(
        Loss(f"{name}.{sig}", w / total * (100.0 - sub), detail) for sig, w, sub, detail in parts
    )
    value = sum(w / total * sub for _, w, sub, _ in parts)
    return Component(name, max(0.0, min(100.0, value)), losses)


def _days(seconds: float) -> str:
    days = seconds / DAY
    return f"{days:.0f} day{'s' if round(days) != 1 else ''}"


def _hours(seconds: float) -> str:
    return f"{seconds / HOUR:g} h"


def usage(s: CustomerState, p: Policy, now: float) -> Component:
    """Usage: activity against the customer's own baseline, breadth of features, seats in use."""
    if not s.has_usage:
        return Component("usage", None)
    u = p.usage
    parts: list[tuple[str, float, float, str]] = []

    long_rate = s.activity_long.rate_at(now, u.long_half_life)
    short_rate = s.activity_short.rate_at(now, u.short_half_life)
    ratio = min(1.0, short_rate / long_rate) if long_rate > 0 else 0.0
    if s.last_active_at is None:
        trend_detail = "no product activity recorded"
    elif now - s.last_active_at > u.idle_after:
        trend_detail = f"no product activity for {_days(now - s.last_active_at)}"
    else:
        trend_detail = f"activity lately is {ratio * 100:.0f}% of this customer's usual rate"
    parts.append(("trend", u.weights["trend"], 100.0 * ratio, trend_detail))

    used = sum(1 for last in s.features.values() if now - last <= u.feature_window)
    breadth = min(1.0, used / u.feature_target)
    parts.append(
        (
            "breadth",
            u.weights["breadth"],
            100.0 * breadth,
            f"{used} feature{'s' if used != 1 else ''} used in the last "
            f"{_days(u.feature_window)} (target {u.feature_target})",
        )
    )

    if s.seats is not None and u.weights["seats"] > 0:
        active, licensed = s.seats.value
        share = active / licensed if licensed else 0.0
        parts.append(
            (
                "seats",
                u.weights["seats"],
                100.0 * min(1.0, share / u.seat_target),
                f"{active} of {licensed} licensed seats active ({share * 100:.0f}%, "
                f"target {u.seat_target * 100:.0f}%)",
            )
        )
    if sum(w for _, w, _, _ in parts) <= 0:
        return Component("usage", None)
    return _weighted("usage", parts)


def _breached(k: Ticket, p: Policy, now: float) -> bool:
    """Did the ticket miss its first-response SLA (answered late, or still unanswered past it)?"""
    if k.opened_at is None or k.priority is None:
        return False
    sla = p.support.first_response_sla[k.priority]
    first = k.first_response_seconds()
    if first is not None:
        return first > sla
    return k.is_open and now - k.opened_at > sla


def support(s: CustomerState, p: Policy, now: float) -> Component:
    """Support burden: open tickets by priority and age, SLA misses, reopens, escalations,
    slow resolutions, over the support window."""
    sp = p.support
    known = [k for k in s.tickets.values() if k.opened_at is not None and k.opened_at <= now]
    open_ = [k for k in known if k.is_open]
    recent = [k for k in known if k.is_open or k.opened_at >= now - sp.window]  # type: ignore[operator]
    if not recent:
        return Component("support", None)
    penalties: list[Loss] = []

    if open_:
        load = sum(
            sp.priority_weights[k.priority or "normal"]
            * (1.0 + min(2.0, (now - (k.opened_at or now)) / (7 * DAY)))
            for k in open_
        )
        by = {pr: sum(1 for k in open_ if k.priority == pr) for pr in ("urgent", "high")}
        mix = ", ".join(f"{n} {pr}" for pr, n in by.items() if n)
        oldest = max(now - (k.opened_at or now) for k in open_)
        penalties.append(
            Loss(
                "support.open_tickets",
                min(sp.open_max, sp.open_points_per_unit * load),
                f"{len(open_)} open ticket{'s' if len(open_) != 1 else ''}"
                f"{' (' + mix + ')' if mix else ''}, oldest open {_days(oldest)}",
            )
        )

    breached = [k for k in recent if _breached(k, p, now)]
    if breached:
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
        penalties.append(
            Loss(
                "support.first_response",
                sp.sla_breach_max * len(breached) / len(recent),
                "; ".join(phrases),
            )
        )

    reopens = sum(k.reopens for k in recent)
    if reopens:
        penalties.append(
            Loss(
                "support.reopens",
                sp.reopen_max * min(1.0, reopens / len(recent)),
                f"{reopens} reopen{'s' if reopens != 1 else ''} across "
                f"{len(recent)} tickets in the last {_days(sp.window)}",
            )
        )

    escalations = sum(k.escalations for k in recent)
    if escalations:
        penalties.append(
            Loss(
                "support.escalations",
                min(sp.escalation_max, sp.escalation_points_each * escalations),
                f"{escalations} escalation{'s' if escalations != 1 else ''} in the "
                f"last {_days(sp.window)}",
            )
        )

    resolved = [(k, r) for k in recent if (r := k.resolution_seconds()) is not None]
    slow = [k for k, r in resolved if r > sp.resolution_target[k.priority or "normal"]]
    if slow:
        penalties.append(
            Loss(
                "support.resolution_time",
                sp.slow_resolution_max * len(slow) / len(resolved),
                f"{len(slow)} of {len(resolved)} resolved tickets took longer than "
                "the resolution target",
            )
        )

    lost = sum(x.points for x in penalties)
    value = max(0.0, 100.0 - lost)
    scale = (100.0 - value) / lost if lost > 0 else 0.0  # share out the clamp proportionally
    return Component(
        "support", value, tuple(Loss(x.signal, x.points * scale, x.detail) for x in penalties)
    )


def sentiment(s: CustomerState, p: Policy, now: float) -> Component:
    """Sentiment: the customer's own NPS, CSAT and CES from decayed survey answers."""
    h = p.sentiment.half_life
    w = p.sentiment.weights
    parts: list[tuple[str, float, float, str]] = []
    nps = formulas.nps(
        s.promoters.value_at(now, h), s.passives.value_at(now, h), s.detractors.value_at(now, h)
    )
    if nps is not None and w["nps"] > 0:
        latest = f" (latest answer {s.last_nps.value}/10)" if s.last_nps is not None else ""
        parts.append(("nps", w["nps"], (nps + 100.0) / 2.0, f"NPS {nps:+.0f}{latest}"))
    csat = formulas.csat(s.csat_satisfied.value_at(now, h), s.csat_total.value_at(now, h))
    if csat is not None and w["csat"] > 0:
        parts.append(("csat", w["csat"], csat, f"CSAT {csat:.0f}% satisfied (4-5 of 5)"))
    ces = formulas.ces(s.ces_easy.value_at(now, h), s.ces_total.value_at(now, h))
    if ces is not None and w["ces"] > 0:
        parts.append(
            ("ces", w["ces"], ces, f"CES: {ces:.0f}% of answers say low effort (5-7 of 7)")
        )
    if not parts:
        return Component("sentiment", None)
    return _weighted("sentiment", parts)
