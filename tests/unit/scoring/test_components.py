"""Usage, support and sentiment components against hand-computed expectations."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from scoring import components as comp
from scoring import reading
from scoring.policy import Policy, parse_policy
from scoring.words import say
from stream.i18n import words
from stream.resources import resource

from .builders import (
    POLICY,
    build,
    ces,
    csat,
    daily_sessions,
    day,
    escalated,
    feature,
    hour,
    nps,
    opened,
    reopened,
    replied,
    resolved,
    seats,
    session,
)

SHIPPED: dict[str, Any] = yaml.safe_load(resource("scoring.yaml").read_text(encoding="utf-8"))


def shipped_with(changes: Mapping[str, Any]) -> Policy:
    """The shipped policy document with the values at dotted paths replaced (for example
    {"usage.weights.recency": 0.3}), validated as any policy file is: for the tests of a
    mechanism the shipped numbers switch off."""
    doc = copy.deepcopy(SHIPPED)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        node[leaf] = value
    return parse_policy(doc, f"config/scoring.yaml changed for a test: {dict(changes)}")


# The shipped policy gives recency no weight (silence counts through the trend and the
# inactivity alert, docs/scoring.md); what recency does is tested under the shipped policy with
# the weight recency had before (0.30, beside frequency's 1.0)
WITH_RECENCY = shipped_with({"usage.weights.recency": 0.30})


def _rate(half_life_days: float, days: int = 100, after: float = 0.0) -> float:
    """`rate_at` of one unit a day for `days` days, read `after` days past the last one."""
    q = 2 ** (-1 / half_life_days)
    return (1 - q**days) * 2 ** (-after / half_life_days)


def _seen(half_life_days: float, days: float) -> float:
    """The share of a steady rate's full sum that a customer seen `days` days can gather: the
    rate signals divide by it (the rate over the days seen, `scoring.reading.observed`)."""
    return 1 - 2 ** (-days / half_life_days)


def _per_day(half_life_days: float) -> float:
    """What one unit a day sums to in a window of this half-life (`scoring.reading.per_day`):
    `_rate` times it is the window's activity, `_seen` times it the days it holds."""
    return 1 / (1 - 2 ** (-1 / half_life_days))


def test_steady_usage_with_one_feature_and_40_percent_seats_reads_each_signal() -> None:
    # recency: active today -> 100; trend and slow trend: steady (capped) -> 100
    # frequency: quarter rate d (sessions plus the feature's unit, over the 100 days seen)
    # against the policy's typical daily activity t: 100 * d / (t + d); breadth: 1 of 5
    # features -> 50 + 50 * 0.2 = 60; seats: 0.4 / 0.8 -> 50
    s = build([*daily_sessions(0, 99), feature(day(99)), seats(day(99), 4, 10)])
    d = (_rate(90) + (1 - 2 ** (-1 / 90))) / _seen(90, 100)
    assert pytest.approx(1 + (1 - 2 ** (-1 / 90)) / _seen(90, 100)) == d  # one a day, and more
    typical = POLICY.usage.typical_for(None)
    parts = {name: sub for name, _, sub, _ in comp.usage_parts(s, POLICY, day(99))}
    assert (
        pytest.approx(
            {
                "recency": 100.0,
                "frequency": 100 * d / (typical + d),
                "trend": 100.0,
                "slow_trend": 100.0,
                "breadth": 60.0,
                "seats": 50.0,
            }
        )
        == parts
    )
    w = POLICY.usage.weights
    expected = sum(w[name] * sub for name, sub in parts.items()) / sum(w.values())
    assert pytest.approx(expected) == comp.usage_value(s, POLICY, day(99))
    assert pytest.approx(expected) == comp.usage(s, POLICY, day(99)).value


def test_without_seat_snapshots_or_features_those_signals_read_neutral() -> None:
    s = build(daily_sessions(0, 99))
    parts = {name: (sub, words) for name, _, sub, words in comp.usage_parts(s, POLICY, day(99))}
    assert (comp.NEUTRAL, say("usage-seats-none")) == parts["seats"]
    assert (comp.NEUTRAL, say("usage-breadth-none")) == parts["breadth"]
    assert "no seat snapshot reported (counted as neutral)" == words("en")(parts["seats"][1])


def test_six_silent_days_after_steady_use_lower_recency_and_trend_as_decay_says() -> None:
    """A customer active every day: its usual gap is one day, so recency reads the five silent
    days beyond it; the short trend reads all six. The trend's ratio of the short window to the
    baseline counts e / (e + prior), e the units the window should hold at the customer's
    habit (its baseline when last active), and a steady 1 the rest: read with the shipped
    prior, and with none (the window's decay alone). The shipped policy gives recency no
    weight, so recency is read where it has one (`WITH_RECENCY`)."""
    s = build(daily_sessions(0, 99))
    # six days on: the short window's activity and the days it holds (over the days seen),
    # the baseline's rate a day (the long window's), and that rate on the last active day
    lately, days = _rate(3, after=6) * _per_day(3), _seen(3, 106) * _per_day(3)
    baseline = _rate(28, after=6) / _seen(28, 106)
    habit = _rate(28) / _seen(28, 100)
    assert POLICY.usage.trend_prior > 0
    for policy in (POLICY, shipped_with({"usage.trend_prior_units": 0})):
        prior = policy.usage.trend_prior
        raw = min(1.0, lately / days / baseline)
        expected = raw + (1 - raw) * prior / (habit * days + prior)
        assert expected < 1.0  # the silence lowers it, prior or not
        losses = {x.signal: x for x in comp.usage(s, policy, day(105)).losses}
        w = policy.usage.weights  # they add up to 1
        assert pytest.approx(w["trend"] * 100 * (1 - expected)) == losses["usage.trend"].points
    losses = {x.signal: x for x in comp.usage(s, WITH_RECENCY, day(105)).losses}
    w = WITH_RECENCY.usage.weights
    assert pytest.approx(w["recency"] * (100 - 100 * 30 / 35)) == losses["usage.recency"].points
    assert say("usage-recency-idle", days=6) == losses["usage.recency"].detail


def test_a_silence_within_the_customers_usual_gap_costs_no_recency() -> None:
    """A customer active every seven days is not fading on the sixth silent day; on the
    fourteenth it reads seven days of silence, the ones beyond its rhythm."""
    weekly = build([session(day(d)) for d in range(0, 98, 7)])
    subs = dict(zip(comp.USAGE_SIGNALS, reading.usage_subs(weekly, POLICY, day(97)), strict=True))
    assert 100.0 == subs["recency"]
    subs = dict(zip(comp.USAGE_SIGNALS, reading.usage_subs(weekly, POLICY, day(105)), strict=True))
    assert pytest.approx(100 * 30 / (30 + 7)) == subs["recency"]
    # silent as long, without a rhythm to judge it by (a single active day): all of it counts
    once = build([session(day(91))])
    subs = dict(zip(comp.USAGE_SIGNALS, reading.usage_subs(once, POLICY, day(105)), strict=True))
    assert pytest.approx(100 * 30 / (30 + 14)) == subs["recency"]


def test_a_known_customer_without_usage_reads_as_idle_since_first_seen() -> None:
    """Recency 100 * 30 / (30 + 1); frequency, trend and slow trend 0; breadth, seats neutral.
    The shipped policy gives recency no weight: its words are read where it has one."""
    for policy in (POLICY, WITH_RECENCY):
        usage = comp.usage(build([nps(day(1), 9)], policy), policy, day(2))
        w = policy.usage.weights  # they add up to 1
        assert (
            pytest.approx(w["recency"] * 100 * 30 / 31 + (w["breadth"] + w["seats"]) * 50)
            == usage.value
        )
    usage = comp.usage(build([nps(day(1), 9)], WITH_RECENCY), WITH_RECENCY, day(2))
    words = {x.signal: x.detail for x in usage.losses}
    assert say("usage-recency-never", days=1) == words["usage.recency"]


def test_a_customer_never_heard_of_has_no_components() -> None:
    s = build([])
    assert (None, None, None) == (
        comp.usage(s, POLICY, day(1)).value,
        comp.support(s, POLICY, day(1)).value,
        comp.sentiment(s, POLICY, day(1)).value,
    )


def test_an_urgent_ticket_unanswered_for_6_hours_costs_contact_open_load_and_the_sla() -> None:
    # contacts 40 * 1 / (1 + 3) = 10; open load 4 * (1 + 6h / 7d) * 5 points = 20.714;
    # SLA breach 30 * 1 / (1 + 1) = 15
    s = build([opened(hour(0), "t1", "urgent")])
    support = comp.support(s, POLICY, hour(6))
    assert pytest.approx(100 - 10 - 20 * (1 + 6 / 168) - 15) == support.value
    english = words("en")
    details = {x.signal: english(x.detail) for x in support.losses if x.detail}
    assert (
        "1 ticket waiting for a first answer past the first-response SLA (most pressing: "
        "urgent, 4 h)" == details["support.first_response"]
    )
    assert "1 open ticket (1 urgent), oldest open 0 days" == details["support.open_tickets"]
    assert "1 ticket opened in the last 90 days" == details["support.contacts"]


def test_a_ticket_answered_in_time_and_resolved_costs_only_the_contact() -> None:
    s = build([opened(hour(0), "t1", "high"), replied(hour(1), "t1"), resolved(hour(5), "t1")])
    support = comp.support(s, POLICY, hour(6))
    assert 90.0 == support.value
    assert ["support.contacts"] == [x.signal for x in support.losses]


def test_reopens_and_escalations_each_cost_their_points() -> None:
    # contact 10; reopened once: 15 * 1 / (1 + 1) = 7.5; escalated once: 10
    s = build(
        [
            opened(hour(0), "t1"),
            replied(hour(1), "t1"),
            resolved(hour(2), "t1"),
            reopened(hour(3), "t1"),
            escalated(hour(3), "t1"),
            resolved(hour(4), "t1"),
        ]
    )
    assert pytest.approx(72.5) == comp.support(s, POLICY, hour(5)).value


def test_support_losses_are_scaled_down_when_they_exceed_100_points() -> None:
    # open 35 (capped) + SLA 30 + escalations 20 + reopens 15 + slow resolution 10 = 110
    events = [opened(day(0) + i, f"t{i}", "urgent") for i in range(3)]
    events += [escalated(day(1), "t1"), escalated(day(1), "t2"), resolved(day(2), "t0")]
    events += [reopened(day(3), "t0"), resolved(day(3) + 1, "t0"), reopened(day(3) + 2, "t0")]
    events += [resolved(day(3) + 3, "t0"), reopened(day(3) + 4, "t0")]
    support = comp.support(build(events), POLICY, day(6))
    assert 0.0 == support.value
    assert pytest.approx(100.0) == sum(x.points for x in support.losses)


def test_support_is_100_once_no_ticket_is_in_the_contact_window() -> None:
    s = build([opened(day(0), "t1"), replied(day(0) + 60, "t1"), resolved(day(1), "t1")])
    assert 90.0 == comp.support(s, POLICY, day(40)).value  # still a contact
    support = comp.support(s, POLICY, day(91))
    assert (100.0, ()) == (support.value, support.losses)


def test_without_survey_answers_sentiment_reads_neutral_and_says_so() -> None:
    sentiment = comp.sentiment(build([session(day(0))]), POLICY, day(1))
    assert comp.NEUTRAL == sentiment.value
    assert [say("sentiment-no-answers")] == [x.detail for x in sentiment.losses]


def test_sentiment_combines_nps_csat_and_ces_with_their_weights() -> None:
    # NPS (2 - 1) / 3 = 33.3 -> 66.67; CSAT 1 of 2 -> 50; CES 1 of 1 -> 100
    s = build(
        [
            nps(day(1), 10),
            nps(day(1), 9),
            nps(day(1), 3),
            csat(day(1), 5),
            csat(day(1), 2),
            ces(day(1), 6),
        ]
    )
    expected = 0.5 * (100 + 100 / 3) / 2 + 0.3 * 50 + 0.2 * 100
    assert pytest.approx(expected) == comp.sentiment(s, POLICY, day(1)).value


def test_a_newer_answer_weighs_more_than_an_old_one() -> None:
    s = build([nps(day(0), 0), nps(day(90), 10)])
    # weights: old 0.5 (one 90-day half-life), new 1 -> NPS = (1 - 0.5) / 1.5 * 100
    value = comp.sentiment(s, POLICY, day(90)).value
    assert value is not None
    assert math.isclose((100 + 100 / 3) / 2, value, rel_tol=1e-9)


def test_a_customer_seen_for_a_week_reads_its_rate_over_that_week() -> None:
    # two sessions a day: seen for 7 days or for 300, the frequency says the same rate; the
    # trend and slow trend see a steady customer, not one whose use rises
    typical = POLICY.usage.typical_for(None)
    for first in (0, 293):
        s = build(daily_sessions(first, 299, per_day=2))
        parts = {name: sub for name, _, sub, _ in comp.usage_parts(s, POLICY, day(299))}
        # the rate r it reads, against the typical daily activity t: 100 * r / (r + t)
        frequency = parts["frequency"]
        assert pytest.approx(2, abs=0.05) == typical * frequency / (100 - frequency)
        assert parts["trend"] >= 99
        assert parts["slow_trend"] >= 99
