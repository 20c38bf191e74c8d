"""The three components of health (usage, support, sentiment), each 0-100 or None, with losses.

Each component starts from 100 and names what it lost and why: `losses` add up to
`100 - value`, so the drivers of the overall score add up exactly. The values are
`scoring.reading`'s, the losses and their words `scoring.drivers`'; this module puts them
together for readers that want a component whole (tests, tools, the backtest's signals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from scoring import drivers, reading
from scoring.decay import DAY, decay_factor
from scoring.drivers import contact_count
from scoring.policy import USAGE_SIGNALS, Policy
from scoring.reading import NEUTRAL
from scoring.state import CustomerState, assessment
from scoring.words import Message

__all__ = [
    "NEUTRAL",
    "Component",
    "Loss",
    "contact_count",
    "csm_signal",
    "plain_signals",
    "sentiment",
    "signals",
    "support",
    "usage",
    "usage_parts",
    "usage_value",
    "weighted_value",
]


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Loss:
    """Points a component lost to one signal, with the reason as a message (None when the
    caller asked for none)."""

    signal: str
    points: float
    detail: Message | None


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Component:
    """A component's value (None when there is no evidence) and the losses that explain it."""

    name: str
    value: float | None
    losses: tuple[Loss, ...] = ()


Part = tuple[str, float, float, Message | None]  # (signal, weight, sub-score 0-100, words)


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


usage_value = reading.usage_value


def usage(s: CustomerState, p: Policy, now: float) -> Component:
    """Usage: see `usage_parts`; None for a customer never heard of."""
    if s.first_seen is None:
        return Component("usage", None)
    subs = reading.usage_subs(s, p, now)
    losses = tuple(
        Loss(signal, points, drivers.usage_detail(signal[6:], s, p, now, subs))
        for signal, points in drivers.usage_losses(s, p, subs)
    )
    return Component("usage", reading.usage_value(s, p, now), losses)


def usage_parts(s: CustomerState, p: Policy, now: float, words: bool = True) -> list[Part]:
    """Usage signals as (signal, weight, sub-score 0-100, message; None unless `words`): how
    recently, how much and how steadily the customer uses the product, against its own
    baseline over two horizons and against its segment; breadth and seats in use.

    Every signal keeps ranking however long a customer is idle (none saturates at 0), so idle
    customers stay ordered by how long and how much they used the product before. A known
    customer with no usage at all reads as idle since it was first seen."""
    if s.first_seen is None:
        return []
    weights = p.usage.weights_for(s.segment)
    subs = reading.usage_subs(s, p, now)
    return [
        (
            name,
            weights[name],
            subs[i],
            drivers.usage_detail(name, s, p, now, subs) if words else None,
        )
        for i, name in enumerate(USAGE_SIGNALS)
    ]


# Components that do not depend on the moment (immutable, so shared rather than built each time)
_NO_SUPPORT: Final = Component("support", None)
_NO_TICKETS: Final = Component("support", 100.0)  # a customer who needed no support
_NO_SENTIMENT: Final = Component("sentiment", None)


def support(s: CustomerState, p: Policy, now: float, words: bool = True) -> Component:
    """Support burden: how often the customer needs support (tickets opened over the contact
    window), open tickets by priority and age, SLA misses, reopens, escalations, slow
    resolutions over the support window (`scoring.drivers.support_losses`). 100 for a
    customer who needed no support. Without `words` the losses carry no detail (the value is
    the same)."""
    if s.first_seen is None:
        return _NO_SUPPORT
    value, losses = drivers.support_losses(s, p, now)
    if not losses and value == 100.0:
        return _NO_TICKETS
    return Component(
        "support",
        value,
        tuple(
            Loss(signal, points, drivers.support_detail(signal, s, p, now) if words else None)
            for signal, points in losses
        ),
    )


def sentiment(s: CustomerState, p: Policy, now: float, words: bool = True) -> Component:
    """Sentiment: the customer's own NPS, CSAT and CES from decayed survey answers, and its
    manager's latest assessment, fading with its age. Without `words` the losses carry no
    detail (the value is the same)."""
    if s.first_seen is None:
        return _NO_SENTIMENT
    return Component(
        "sentiment",
        reading.sentiment_value(s, p, now),
        tuple(
            Loss(signal, points, drivers.sentiment_detail(signal, s, p, now) if words else None)
            for signal, points in drivers.sentiment_losses(s, p, now)
        ),
    )


def signals(s: CustomerState, p: Policy, now: float) -> dict[str, float]:
    """The model's inputs at `now`, each 0-100 with higher meaning healthier: the usage signals
    (`usage.<signal>`), the support component, the surveys' sentiment (`sentiment`) and the
    manager's assessment (`sentiment.csm`). What `healthscore calibrate` fits weights to and
    what a backtest compares the score with; empty for a customer never heard of."""
    if s.first_seen is None:
        return {}
    subs = reading.usage_subs(s, p, now)
    out = {f"usage.{name}": subs[i] for i, name in enumerate(USAGE_SIGNALS)}
    out["support"] = reading.support_value(s, p, now) or 0.0
    out["sentiment"] = reading.survey_sentiment(s, p, now)
    out[drivers.CSM] = csm_signal(s, p, now)
    return out


def csm_signal(s: CustomerState, p: Policy, now: float) -> float:
    """The manager's latest assessment as a signal for a linear fit: its sub-score drawn
    towards neutral as its weight fades (NEUTRAL + fade * (sub - NEUTRAL), the fade being
    `reading.csm_weight` over the policy's weight); neutral without one. In the score it
    weighs less with age against the surveys; a fit, adding signals up, sees it count less."""
    rating = assessment(s)
    if rating is None:
        return NEUTRAL
    fade = decay_factor(now - rating.at, p.sentiment.csm_half_life)
    return NEUTRAL + fade * (reading.csm_sub(int(rating.value)) - NEUTRAL)


def plain_signals(s: CustomerState, p: Policy, now: float) -> dict[str, float]:
    """Single plain measures a model has to beat, oriented so that higher means healthier:
    days since the last product activity (negated), activity over the last year, tickets opened
    in the contact window (negated)."""
    since = s.last_active_at if s.last_active_at is not None else s.first_seen
    idle = (now - since) / DAY if since is not None else 0.0
    return {
        "days since last activity": -idle,
        "activity over the last year": s.activity(3, p.usage.year_half_life, now),
        "tickets opened lately": -float(contact_count(s, p, now)),
    }
