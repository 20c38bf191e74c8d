"""What pulls a score down, in points and as messages: worked out when a score is published or read.

Each component starts from 100 and loses points to its signals. The losses (signal, points)
follow the arithmetic of `scoring.reading`, so a component's losses add up to 100 less its
value and a score's drivers add up to 100 less the score. The message of a signal (`detail`:
an id and its numbers, worded at the edge by `stream.i18n`) is made only for the drivers
shown: an evaluation that publishes nothing makes none.
"""

from __future__ import annotations

from typing import Final

from scoring import events as ev
from scoring import formulas, reading
from scoring.decay import DAY, HOUR
from scoring.policy import USAGE_SIGNALS, Policy
from scoring.reading import NEUTRAL, Subs
from scoring.state import CustomerState, Ticket, assessment, assessment_author
from scoring.words import Message

NO_ANSWERS: Final = "sentiment.no_answers"
CSM: Final = "sentiment.csm"  # the manager's own assessment
_USAGE: Final = tuple(f"usage.{name}" for name in USAGE_SIGNALS)

Loss = tuple[str, float]  # (signal, points lost)


def whole_days(seconds: float) -> int:
    """A duration in whole days, as the words give it.

    >>> whole_days(DAY), whole_days(2.6 * DAY), whole_days(2.5 * DAY)
    (1, 3, 2)
    """
    return round(seconds / DAY)  # as "{:.0f}" rounds: half to even


def _hours(seconds: float) -> float:
    return formulas.rounded(seconds / HOUR, 2)


def _share(percent: float) -> float:
    """A percentage as the fraction the words show, rounded to the whole percent shown (so
    equal words are equal messages). `round(percent) / 100`, without the call into Python's
    `round` (+ 0.0: as that, never a negative zero)."""
    return formulas.rounded(percent, 0) / 100 + 0.0


# --- usage ----------------------------------------------------------------------------------


def usage_losses(s: CustomerState, p: Policy, subs: Subs) -> list[Loss]:
    """The points the usage signals with weight lose, from their sub-scores (`usage_subs`)."""
    m = p.model_for(s.segment)
    total = m.usage_signals
    out: list[Loss] = []
    if m.recency > 0:
        out.append((_USAGE[0], m.recency / total * (100.0 - subs[0])))
    if m.frequency > 0:
        out.append((_USAGE[1], m.frequency / total * (100.0 - subs[1])))
    if m.trend > 0:
        out.append((_USAGE[2], m.trend / total * (100.0 - subs[2])))
    if m.slow_trend > 0:
        out.append((_USAGE[3], m.slow_trend / total * (100.0 - subs[3])))
    if m.breadth > 0:
        out.append((_USAGE[4], m.breadth / total * (100.0 - subs[4])))
    if m.seats > 0:
        out.append((_USAGE[5], m.seats / total * (100.0 - subs[5])))
    return out


def usage_detail(name: str, s: CustomerState, p: Policy, now: float, subs: Subs) -> Message:
    """One usage signal (`USAGE_SIGNALS`) as a message."""
    u = p.usage
    if name == "recency":
        idle = reading.idle_seconds(s, now)
        if s.last_active_at is None:
            return Message("usage-recency-never", ("days", whole_days(idle)))
        if idle > u.idle_after:
            return Message("usage-recency-idle", ("days", whole_days(idle)))
        return Message("usage-recency-last", ("days", whole_days(idle)))
    if name == "frequency":
        m = p.model_for(s.segment)
        daily = s.activity(2, u.quarter_half_life, now) / (
            m.per_day_quarter * reading.observed(s, now, u.quarter_half_life)
        )
        return Message(
            "usage-frequency",
            ("daily", formulas.rounded(daily, 1), "typical", formulas.rounded(m.typical, 3)),
        )
    if name == "trend":
        return Message("usage-trend", ("share", _share(subs[2])))
    if name == "slow_trend":
        if reading.no_year(s):
            return Message("usage-slow-trend-no-year")
        return Message("usage-slow-trend", ("share", _share(subs[3])))
    if name == "breadth":
        if not s.features:
            return Message("usage-breadth-none")
        used = reading.features_used(s, u.feature_window, now)
        return Message(
            "usage-breadth",
            ("features", used, "days", whole_days(u.feature_window), "target", u.feature_target),
        )
    if s.seats is None:
        return Message("usage-seats-none")
    active, licensed = s.seats.value
    share = active / licensed if licensed else 0.0
    return Message(
        "usage-seats",
        (
            "active",
            active,
            "licensed",
            licensed,
            "share",
            _share(share * 100),
            "target",
            _share(u.seat_target * 100),
        ),
    )


# --- support --------------------------------------------------------------------------------


def _known(s: CustomerState, now: float) -> list[Ticket]:
    return [k for k in s.tickets.values() if k.opened_at is not None and k.opened_at <= now]


def _recent(known: list[Ticket], p: Policy, now: float) -> list[Ticket]:
    start = now - p.support.window
    out = []
    for k in known:
        opened = k.opened_at
        if k.is_open or (opened is not None and opened >= start):
            out.append(k)
    return out


def contact_count(s: CustomerState, p: Policy, now: float) -> int:
    """Tickets opened in the contact window up to `now`: how often the customer needed help."""
    since = now - p.support.contact_window
    n = 0
    for k in s.tickets.values():
        if k.opened_at is not None and since <= k.opened_at <= now:
            n += 1
    return n


def _slow(recent: list[Ticket], p: Policy) -> tuple[int, int]:
    """Of the recent tickets resolved, how many took longer than their resolution target."""
    resolved = slow = 0
    for k in recent:
        r = k.resolution_seconds()
        if r is not None:
            resolved += 1
            if r > p.support.resolution_target[k.priority or "normal"]:
                slow += 1
    return slow, resolved


def support_losses(s: CustomerState, p: Policy, now: float) -> tuple[float, list[Loss]]:
    """The support component's value and the points its penalties take, scaled down together
    when they exceed 100 (so they still add up to 100 less the value).

    Every penalty grows with the count of what it penalises (never a share), so one more
    ticket, open or not, never raises the component."""
    sp = p.support
    known = _known(s, now)
    if not known:
        return 100.0, []
    recent = _recent(known, p, now)
    penalties: list[Loss] = []
    contacts = contact_count(s, p, now)
    if contacts:
        penalties.append(
            ("support.contacts", sp.contact_max * contacts / (contacts + sp.contact_half))
        )
    open_ = [k for k in known if k.is_open]
    if open_:
        load = 0.0
        for k in open_:
            load += sp.priority_weights[k.priority or "normal"] * (
                1.0 + min(2.0, (now - (k.opened_at or now)) / (7 * DAY))
            )
        penalties.append(("support.open_tickets", min(sp.open_max, sp.open_points_per_unit * load)))
    breached = 0
    for k in recent:
        if reading.breached(k, p, now):
            breached += 1
    if breached:
        penalties.append(("support.first_response", sp.sla_breach_max * breached / (breached + 1)))
    reopens = escalations = 0
    for k in recent:
        reopens += k.reopens
        escalations += k.escalations
    if reopens:
        penalties.append(("support.reopens", sp.reopen_max * reopens / (reopens + 1)))
    if escalations:
        points = min(sp.escalation_max, sp.escalation_points_each * escalations)
        penalties.append(("support.escalations", points))
    slow = _slow(recent, p)[0]
    if slow:
        penalties.append(("support.resolution_time", sp.slow_resolution_max * slow / (slow + 1)))
    lost = 0.0
    for _, points in penalties:
        lost += points
    value = max(0.0, 100.0 - lost)
    scale = (100.0 - value) / lost if lost > 0 else 0.0  # share out the clamp proportionally
    return value, [(signal, points * scale) for signal, points in penalties]


def support_detail(signal: str, s: CustomerState, p: Policy, now: float) -> Message:
    """One support penalty (`support_losses`) as a message."""
    sp = p.support
    known = _known(s, now)
    recent = _recent(known, p, now)
    if signal == "support.contacts":
        return Message(
            "support-contacts",
            ("tickets", contact_count(s, p, now), "days", whole_days(sp.contact_window)),
        )
    if signal == "support.open_tickets":
        return _open_words([k for k in known if k.is_open], now)
    if signal == "support.first_response":
        return _breach_words([k for k in recent if reading.breached(k, p, now)], recent, p)
    if signal == "support.reopens":
        reopens = 0
        for k in recent:
            reopens += k.reopens
        return Message(
            "support-reopens",
            ("reopens", reopens, "tickets", len(recent), "days", whole_days(sp.window)),
        )
    if signal == "support.escalations":
        escalations = 0
        for k in recent:
            escalations += k.escalations
        return Message(
            "support-escalations", ("escalations", escalations, "days", whole_days(sp.window))
        )
    slow, resolved = _slow(recent, p)
    return Message("support-resolution-slow", ("slow", slow, "resolved", resolved))


def _open_words(open_: list[Ticket], now: float) -> Message:
    urgent = sum(1 for k in open_ if k.priority == "urgent")
    high = sum(1 for k in open_ if k.priority == "high")
    oldest = max(now - (k.opened_at or now) for k in open_)
    return Message(
        "support-open-tickets",
        ("tickets", len(open_), "urgent", urgent, "high", high, "oldest", whole_days(oldest)),
    )


def _breach_words(breached: list[Ticket], recent: list[Ticket], p: Policy) -> Message:
    """Tickets still waiting for a first answer past their SLA (the most pressing priority
    among them named, with its SLA), and tickets answered late, over the support window."""
    sp = p.support
    waiting = [k for k in breached if k.is_open and k.first_agent_reply_at is None]
    priority = "normal"
    for prio in reversed(ev.PRIORITIES):
        if any(k.priority == prio for k in waiting):
            priority = prio
            break
    return Message(
        "support-first-response",
        (
            "waiting",
            len(waiting),
            "priority",
            priority,
            "hours",
            _hours(sp.first_response_sla[priority]),
            "late",
            len(breached) - len(waiting),
            "tickets",
            len(recent),
            "days",
            whole_days(sp.window),
        ),
    )


# --- sentiment ------------------------------------------------------------------------------


def _sentiment_parts(s: CustomerState, p: Policy, now: float) -> list[tuple[str, float, float]]:
    """The sentiment measures with evidence and a weight: (signal, weight, sub-score 0-100),
    the surveys' and the manager's assessment's (its weight faded with its age), as
    `reading.sentiment_value` combines them."""
    h = p.sentiment.half_life
    w = p.sentiment.weights
    parts: list[tuple[str, float, float]] = []
    if reading.has_answers(s):
        nps = formulas.nps(
            s.promoters.value_at(now, h),
            s.passives.value_at(now, h),
            s.detractors.value_at(now, h),
        )
        if nps is not None and w["nps"] > 0:
            parts.append(("sentiment.nps", w["nps"], (nps + 100.0) / 2.0))
        csat = formulas.csat(s.csat_satisfied.value_at(now, h), s.csat_total.value_at(now, h))
        if csat is not None and w["csat"] > 0:
            parts.append(("sentiment.csat", w["csat"], csat))
        ces = formulas.ces(s.ces_easy.value_at(now, h), s.ces_total.value_at(now, h))
        if ces is not None and w["ces"] > 0:
            parts.append(("sentiment.ces", w["ces"], ces))
    rating = assessment(s)
    if rating is not None:
        weight = reading.csm_weight(rating.at, p, now)
        if weight > 0:
            parts.append((CSM, weight, reading.csm_sub(int(rating.value))))
    return parts


def assessment_words(s: CustomerState, now: float) -> Message | None:
    """The manager's latest assessment as a message (its rating, who gave it, how many whole
    days before `now`); None without one. The drivers' and the customer page's words."""
    rating = assessment(s)
    if rating is None:
        return None
    return Message(
        "sentiment-csm",
        (
            "rating",
            int(rating.value),
            "author",
            assessment_author(s),
            "days",
            whole_days(max(0.0, now - rating.at)),
        ),
    )


def sentiment_losses(s: CustomerState, p: Policy, now: float) -> list[Loss]:
    """The points the sentiment measures lose; without any evidence, the neutral half."""
    if not reading.has_sentiment(s):
        return [(NO_ANSWERS, 100.0 - NEUTRAL)]
    parts = _sentiment_parts(s, p, now)
    if not parts:
        return [(NO_ANSWERS, 100.0 - NEUTRAL)]
    total = 0.0
    for _, w, _ in parts:
        total += w
    return [(signal, w / total * (100.0 - sub)) for signal, w, sub in parts]


def sentiment_detail(signal: str, s: CustomerState, p: Policy, now: float) -> Message:
    """One sentiment measure (`sentiment_losses`) as a message."""
    if signal == NO_ANSWERS:
        return Message("sentiment-no-answers")
    if signal == CSM:
        said = assessment_words(s, now)
        return Message("sentiment-no-answers") if said is None else said
    h = p.sentiment.half_life
    if signal == "sentiment.nps":
        nps = formulas.nps(
            s.promoters.value_at(now, h),
            s.passives.value_at(now, h),
            s.detractors.value_at(now, h),
        )
        signed = f"{nps or 0.0:+.0f}"  # NPS is written signed, as the field writes it
        if s.last_nps is not None:
            return Message("sentiment-nps-latest", ("nps", signed, "latest", s.last_nps.value))
        return Message("sentiment-nps", ("nps", signed))
    if signal == "sentiment.csat":
        csat = formulas.csat(s.csat_satisfied.value_at(now, h), s.csat_total.value_at(now, h))
        return Message("sentiment-csat", ("share", _share(csat or 0.0)))
    ces = formulas.ces(s.ces_easy.value_at(now, h), s.ces_total.value_at(now, h))
    return Message("sentiment-ces", ("share", _share(ces or 0.0)))


# --- a score's drivers ----------------------------------------------------------------------


def detail(signal: str, s: CustomerState, p: Policy, now: float, subs: Subs) -> Message:
    """Any signal's message."""
    if signal.startswith("usage."):
        return usage_detail(signal[6:], s, p, now, subs)
    if signal.startswith("support."):
        return support_detail(signal, s, p, now)
    return sentiment_detail(signal, s, p, now)


def shown(
    s: CustomerState, p: Policy, now: float, least: float, subs: Subs | None = None
) -> tuple[list[tuple[float, str]], Subs]:
    """The score's losses of at least `least` points once shared out by the component weights,
    as (impact, signal), most negative first; and the usage sub-scores they were read from
    (`subs`, when the caller has them: `reading.usage_subs` at `now`)."""
    m = p.model_for(s.segment)
    if subs is None:
        subs = reading.usage_subs(s, p, now)
    wu, ws, wm = m.usage, m.support, m.sentiment
    has_u = s.first_seen is not None and m.usage_signals > 0 and wu > 0  # usage has a value
    total = 0.0
    if has_u:
        total += wu
    if ws > 0:
        total += ws
    if wm > 0:
        total += wm
    out: list[tuple[float, str]] = []
    if total <= 0:
        return out, subs
    if has_u:
        share = wu / total
        for signal, points in usage_losses(s, p, subs):
            impact = -share * points
            if impact <= -least:
                out.append((impact, signal))
    if ws > 0:
        share = ws / total
        for signal, points in support_losses(s, p, now)[1]:
            impact = -share * points
            if impact <= -least:
                out.append((impact, signal))
    if wm > 0:
        share = wm / total
        for signal, points in sentiment_losses(s, p, now):
            impact = -share * points
            if impact <= -least:
                out.append((impact, signal))
    out.sort()
    return out, subs
