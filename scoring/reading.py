"""The components' values at a moment, as straight-line arithmetic over the state's fields.

This is what every evaluation computes (the score, and the schedule's look-ahead): no parts, no
losses, no words, no containers. `scoring.components` explains the same values in words, and
only when a score is published or read; the two agree exactly (a property test checks it),
because both take the usage signals from `usage_subs` and the same formulas in the same order.
"""

from __future__ import annotations

import math
from typing import Final

from scoring import formulas
from scoring.decay import DAY, decay_factor
from scoring.policy import AlertPolicy, Policy, SegmentModel, UsagePolicy
from scoring.state import CSM_RATING, CustomerState, Ticket, gap_summary

NEUTRAL: Final = 50.0  # the sub-score of a signal without evidence: neither good nor bad
# the usage signals' sub-scores (0-100), in `USAGE_SIGNALS` order (`usage_subs`)
Subs = tuple[float, float, float, float, float, float]
_WEEK: Final = 7 * DAY


def per_day(half_life: float) -> float:
    """What a steady rate of one a day sums to: 1 / (1 - 2^(-1 day / h)).

    >>> round(per_day(DAY), 6)
    2.0
    """
    return 1.0 / (1.0 - decay_factor(DAY, half_life))


def ratio(recent: float, baseline: float) -> float:
    """100 * recent / baseline, capped at 100 (using more than usual is not a risk).

    >>> ratio(1.0, 4.0), ratio(5.0, 4.0), ratio(1.0, 0.0)
    (25.0, 100.0, 0.0)
    """
    return 100.0 * min(1.0, recent / baseline) if baseline > 0 else 0.0


def steady_trend(lately: float, days: float, baseline: float, habit: float, prior: float) -> float:
    """The trend (0-100): the short window's rate (`lately` units over `days`) against the
    customer's own `baseline` rate, believed in proportion to what the window should hold at
    its habit (`habit`, its baseline rate when it was last active): with e units expected, the
    ratio counts e / (e + prior) and a steady 100 the rest. A window that should hold a
    handful of units says little, one that should hold dozens says it all: a customer active
    twice a week shows no fall from one quiet week, one active twenty times a day still does.
    The weight is fixed by the habit, so a silence only ever lowers the trend.

    >>> round(steady_trend(0.0, 4.8, 10.0, 10.0, 5.0), 1)  # 48 units expected, none came
    9.4
    >>> round(steady_trend(0.0, 4.8, 0.3, 0.3, 5.0), 1)  # 1.4 units expected, none came
    77.6
    >>> steady_trend(2.0, 4.0, 1.0, 1.0, 0.0)
    50.0
    """
    if baseline <= 0.0:
        return 0.0
    raw = ratio(lately / days, baseline) if days > 0.0 else 0.0
    if prior <= 0.0:
        return raw
    expected = habit * days
    return raw + (100.0 - raw) * prior / (expected + prior)


def observed(s: CustomerState, now: float, half_life: float) -> float:
    """The share of a steady rate's full sum that a customer seen for its age can have
    gathered: 1 - 2^(-(age + 1 day) / h). An activity sum divided by it reads the rate over
    the days the customer has been seen, not over a past it was never seen in, so a customer
    seen for a week (or every customer, a week after the engine started) is not read as using
    the product a tenth as much as it does.

    >>> from scoring.state import CustomerState
    >>> s = CustomerState("c", first_seen=0.0, usage_since=0.0)
    >>> round(observed(s, 0.0, DAY), 3), round(observed(s, 9 * DAY, DAY), 4)
    (0.5, 0.999)
    """
    first = s.usage_since
    age = now - first if first is not None and now > first else 0.0
    return 1.0 - decay_factor(age + DAY, half_life)


def _first(s: CustomerState, ref: float) -> float:
    first = s.usage_since
    return first if first is not None and first < ref else ref


def _remember_seen(s: CustomerState, ref: float, u: UsagePolicy) -> None:
    """Work out and keep on the state the four factors `usage_subs` reads the days seen by."""
    key = ref - _first(s, ref)
    base = key + DAY
    s.seen_short = decay_factor(base, u.short_half_life)
    s.seen_long = decay_factor(base, u.long_half_life)
    s.seen_quarter = decay_factor(base, u.quarter_half_life)
    s.seen_year = decay_factor(base, u.year_half_life)
    s.seen_key, s.seen_of = key, u


def no_year(s: CustomerState) -> bool:
    """Activity without a year of it recorded (records written before the year sum existed)."""
    return s.act_ref is not None and s.act_year < 0


def idle_seconds(s: CustomerState, now: float) -> float:
    """Seconds since the last product activity (since first seen, without any)."""
    active = s.last_active_at
    since = active if active is not None else s.first_seen
    return 0.0 if since is None else max(0.0, now - since)


def features_used(s: CustomerState, window: float, now: float) -> int:
    """Features last used within `window` before `now`."""
    used = 0
    for last in s.features.values():
        if now - last <= window:
            used += 1
    return used


def usage_subs(s: CustomerState, p: Policy, now: float) -> Subs:
    """The usage signals' sub-scores (0-100, in `USAGE_SIGNALS` order): recency, frequency,
    trend, slow trend, breadth, seats. See `scoring.components.usage_parts` for what they mean."""
    u = p.usage
    m = p.model_for(s.segment)
    idle = idle_seconds(s, now)
    # a silence within the customer's usual gap between active days is its rhythm: recency
    # reads the silence beyond it. The short trend reads the whole silence, believed only as
    # far as its window should hold activity (`steady_trend`): a customer between two visits
    # days apart expects little in the window and shows no fall, and a returning visit does
    # not lower the trend (held through the gap, the visit's own decay had lowered it)
    grace = usual_gap(s)
    if grace > idle:
        grace = idle
    idle -= grace
    daily = trend = slow = 0.0
    ref = s.act_ref
    if ref is not None:
        # each sum read as a rate a day over the days the customer has been seen: its decay
        # since act_ref, d, over per_day * (1 - d * 2^(-(act_ref - usage_since + 1 day) / h))
        if s.seen_of is not u or s.seen_key != ref - _first(s, ref):
            _remember_seen(s, ref, u)
        elapsed = now - ref
        # past act_ref (elapsed >= 0) each d is at most 1; before it, the days seen up to it
        late = elapsed >= 0.0
        d = decay_factor(elapsed, u.quarter_half_life)
        daily = (
            s.act_quarter * d / (m.per_day_quarter * (1.0 - (d if late else 1.0) * s.seen_quarter))
        )
        d = decay_factor(elapsed, u.short_half_life)
        lately = s.act_short * d  # the activity in the short window, and its days
        days = m.per_day_short * (1.0 - (d if late else 1.0) * s.seen_short)
        d = decay_factor(elapsed, u.long_half_life)
        long = s.act_long * d / (m.per_day_long * (1.0 - (d if late else 1.0) * s.seen_long))
        # the baseline rate at the latest activity: what the short window should hold
        habit = s.act_long / (m.per_day_long * (1.0 - s.seen_long))
        trend = steady_trend(lately, days, long, habit, u.trend_prior)
        if s.act_year < 0:
            slow = NEUTRAL
        else:
            d = decay_factor(elapsed, u.year_half_life)
            year = s.act_year * d / (m.per_day_year * (1.0 - (d if late else 1.0) * s.seen_year))
            slow = ratio(daily, year)
    level = daily / m.typical
    if level > 1.0:
        # a silence past what the customer's rhythm allows (`inactivity_threshold`) brings a
        # level above the segment's typical one down towards it: t / (t + the silence past t)
        # of it, never below typical, so a heavy user silent for months no longer reads as
        # healthy on its past, while a light user's level (a silence says little about it on
        # irregular visits) is read as it is
        quiet = inactivity_threshold(s, p)
        past = idle_seconds(s, now) - quiet
        if past > 0.0:
            level = max(1.0, level * quiet / (quiet + past))
    breadth = NEUTRAL
    if s.features:
        used = features_used(s, u.feature_window, now)
        breadth = NEUTRAL + (100.0 - NEUTRAL) * min(1.0, used / u.feature_target)
    seats = NEUTRAL
    if s.seats is not None:
        active_users, licensed = s.seats.value
        share = active_users / licensed if licensed else 0.0
        seats = 100.0 * min(1.0, share / u.seat_target)
    return (
        100.0 * u.recency / (u.recency + idle),
        100.0 * level / (1.0 + level),
        trend,
        slow,
        breadth,
        seats,
    )


MIN_GAPS: Final = 2  # gaps between active days needed before a customer's rhythm is read


def usual_gap(s: CustomerState) -> float:
    """The customer's usual silence: the mean gap in seconds between its active days
    (`active_days`, the last 120 days), 0 while it has fewer than `MIN_GAPS` of them. A silence
    within it is the customer's rhythm, not news: a customer active every ten days is not read
    as fading on the ninth. Kept with the state until its active days change.

    >>> from scoring.state import CustomerState
    >>> s = CustomerState("c")
    >>> s.active_days = 0b1001001001  # active every third day
    >>> usual_gap(s) / DAY
    3.0
    """
    mask = s.active_days
    if s.gap_mask != mask:
        count, total, _ = gap_summary(mask)
        s.gap_mask, s.gap = mask, total / count * DAY if count >= MIN_GAPS else 0.0
    return s.gap


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

    Kept with the state until its active days change (it is read at every evaluation).
    """
    a = p.alerts
    mask = s.active_days
    if s.rhythm_mask == mask and s.rhythm_of is a:
        return s.rhythm
    threshold = _inactivity_threshold(mask, a)
    s.rhythm_mask, s.rhythm_of, s.rhythm = mask, a, threshold
    return threshold


def _inactivity_threshold(mask: int, a: AlertPolicy) -> float:
    count, total, longest = gap_summary(mask)
    if count < MIN_GAPS:
        return a.inactivity_after
    observed = mask.bit_length() + 1  # days since its oldest active day, and one more
    quiet = 1.0 - mask.bit_count() / observed  # the chance a day is silent
    unlikely = math.log(a.inactivity_odds) / -math.log(quiet)
    mean = total / count
    typical = max(a.inactivity_gaps * mean, unlikely, longest + 1) * DAY
    return min(a.inactivity_ceiling, max(a.inactivity_floor, typical))


def usage_value(s: CustomerState, p: Policy, now: float) -> float | None:
    """The usage component (0-100): its signals combined with the segment's weights; None for
    a customer never heard of."""
    if s.first_seen is None:
        return None
    m = p.model_for(s.segment)
    if not m.usage_signals:
        return None
    return usage_of(m, usage_subs(s, p, now))


def usage_of(m: SegmentModel, subs: Subs) -> float:
    """The usage component from its sub-scores (`usage_subs`) under a segment's weights (which
    give at least one usage signal a weight)."""
    total = m.usage_signals
    recency, frequency, trend, slow, breadth, seats = subs
    acc = 0.0
    if m.recency > 0:
        acc += m.recency / total * recency
    if m.frequency > 0:
        acc += m.frequency / total * frequency
    if m.trend > 0:
        acc += m.trend / total * trend
    if m.slow_trend > 0:
        acc += m.slow_trend / total * slow
    if m.breadth > 0:
        acc += m.breadth / total * breadth
    if m.seats > 0:
        acc += m.seats / total * seats
    return max(0.0, min(100.0, acc))


def breached(k: Ticket, p: Policy, now: float) -> bool:
    """Did the ticket miss its first-response SLA (answered late, or still unanswered past it)?"""
    opened, priority = k.opened_at, k.priority
    if opened is None or priority is None:
        return False
    sla = p.support.first_response_sla[priority]
    reply = k.first_agent_reply_at
    if reply is not None:
        return max(0.0, reply - opened) > sla
    return k.is_open and now - opened > sla


def support_value(s: CustomerState, p: Policy, now: float) -> float | None:
    """The support component (0-100): 100 less the penalties `scoring.components.support`
    names; None for a customer never heard of."""
    if s.first_seen is None:
        return None
    tickets = s.tickets
    if not tickets:
        return 100.0
    sp = p.support
    since = now - sp.contact_window
    window_start = now - sp.window
    known = contacts = breaches = reopens = escalations = slow = 0
    load = 0.0
    for k in tickets.values():
        opened = k.opened_at
        if opened is None or opened > now:
            continue
        known += 1
        if since <= opened:
            contacts += 1
        is_open = k.is_open
        if is_open:
            weight = sp.priority_weights[k.priority or "normal"]
            # an opening at 0.0 (the epoch) counts as now, as it always has
            load += weight * (1.0 + min(2.0, (now - (opened or now)) / _WEEK))
        if not (is_open or opened >= window_start):
            continue
        if breached(k, p, now):
            breaches += 1
        reopens += k.reopens
        escalations += k.escalations
        resolved = k.first_resolved_at
        if resolved is not None:
            target = sp.resolution_target[k.priority or "normal"]
            if max(0.0, resolved - opened) > target:
                slow += 1
    if not known:
        return 100.0
    lost = 0.0
    if contacts:
        lost += sp.contact_max * contacts / (contacts + sp.contact_half)
    if load > 0.0:
        lost += min(sp.open_max, sp.open_points_per_unit * load)
    if breaches:
        lost += sp.sla_breach_max * breaches / (breaches + 1)
    if reopens:
        lost += sp.reopen_max * reopens / (reopens + 1)
    if escalations:
        lost += min(sp.escalation_max, sp.escalation_points_each * escalations)
    if slow:
        lost += sp.slow_resolution_max * slow / (slow + 1)
    return max(0.0, 100.0 - lost)


def has_answers(s: CustomerState) -> bool:
    """Has the customer answered any survey?"""
    return (
        s.promoters.ref is not None
        or s.passives.ref is not None
        or s.detractors.ref is not None
        or s.csat_total.ref is not None
        or s.ces_total.ref is not None
    )


def has_sentiment(s: CustomerState) -> bool:
    """Is there evidence of the customer's sentiment: a survey answer, or its manager's own
    assessment?"""
    return has_answers(s) or CSM_RATING in s.attributes


def csm_sub(rating: int) -> float:
    """A manager's assessment (1-5) as a sub-score: (rating - 1) / 4 * 100, neutral at 3.

    >>> csm_sub(1), csm_sub(3), csm_sub(5)
    (0.0, 50.0, 100.0)
    """
    return (min(5, max(1, rating)) - 1) * 25.0


def csm_weight(at: float, p: Policy, now: float) -> float:
    """The weight at `now` of an assessment given at `at`: the policy's, halving every
    `csm_half_life` of its age (an assessment is a read of one moment; surveys keep coming)."""
    return p.sentiment.weights["csm"] * decay_factor(now - at, p.sentiment.csm_half_life)


def sentiment_value(s: CustomerState, p: Policy, now: float) -> float | None:
    """The sentiment component (0-100): NPS, CSAT and CES from the decayed answers and the
    manager's latest assessment, combined with the policy's weights (the assessment's fading
    with its age); neutral without any; None for a customer never heard of."""
    if s.first_seen is None:
        return None
    return _sentiment(s, p, now, True)


def survey_sentiment(s: CustomerState, p: Policy, now: float) -> float:
    """The sentiment of the surveys alone (NPS, CSAT, CES; neutral without answers): what the
    customer says, without its manager's read (`scoring.components.signals`)."""
    return _sentiment(s, p, now, False)


def _sentiment(s: CustomerState, p: Policy, now: float, with_csm: bool) -> float:
    rating = s.attributes.get(CSM_RATING) if with_csm else None
    answered = has_answers(s)
    if rating is None and not answered:
        return NEUTRAL
    h = p.sentiment.half_life
    w = p.sentiment.weights
    # each measure's weight (0: absent) and sub-score, summed in this order: no list per call
    w_nps = w_csat = w_ces = w_csm = 0.0
    v_nps = v_csat = v_ces = v_csm = 0.0
    if answered:
        nps = formulas.nps(
            s.promoters.value_at(now, h),
            s.passives.value_at(now, h),
            s.detractors.value_at(now, h),
        )
        if nps is not None and w["nps"] > 0:
            w_nps, v_nps = w["nps"], (nps + 100.0) / 2.0
        csat = formulas.csat(s.csat_satisfied.value_at(now, h), s.csat_total.value_at(now, h))
        if csat is not None and w["csat"] > 0:
            w_csat, v_csat = w["csat"], csat
        ces = formulas.ces(s.ces_easy.value_at(now, h), s.ces_total.value_at(now, h))
        if ces is not None and w["ces"] > 0:
            w_ces, v_ces = w["ces"], ces
    if rating is not None:
        weight = csm_weight(rating.at, p, now)
        if weight > 0:
            w_csm, v_csm = weight, csm_sub(int(rating.value))
    weights = w_nps + w_csat + w_ces + w_csm
    if weights <= 0:
        return NEUTRAL
    total = (
        w_nps / weights * v_nps
        + w_csat / weights * v_csat
        + w_ces / weights * v_ces
        + w_csm / weights * v_csm
    )
    return max(0.0, min(100.0, total))
