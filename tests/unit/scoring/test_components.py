"""Usage, support and sentiment components against hand-computed expectations."""

from __future__ import annotations

import math

import pytest

from scoring import components as comp

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
)


def test_steady_usage_with_one_feature_and_40_percent_seats_scores_69() -> None:
    # trend: steady -> 100; breadth: 1 of 5 -> 20; seats: 0.4 / 0.8 -> 50
    # usage = 0.5 * 100 + 0.2 * 20 + 0.3 * 50 = 69
    s = build([*daily_sessions(0, 99), feature(day(99)), seats(day(99), 4, 10)])
    assert pytest.approx(69.0) == comp.usage(s, POLICY, day(99)).value


def test_without_seat_snapshots_the_usage_weights_are_renormalised() -> None:
    # (0.5 * 100 + 0.2 * 20) / 0.7 = 77.142857
    s = build([*daily_sessions(0, 99), feature(day(99))])
    assert pytest.approx(77.142857) == comp.usage(s, POLICY, day(99)).value


def test_six_silent_days_after_steady_use_lower_the_trend_as_decay_says() -> None:
    s = build(daily_sessions(0, 99))

    # closed forms of the two daily geometric series, read 6 days after the last session
    def rate(h: float, n: int = 100) -> float:
        q = 2 ** (-1 / h)
        return (1 - q**n) * 2 ** (-6 / h)

    expected = min(1.0, rate(3) / rate(28))
    usage = comp.usage(s, POLICY, day(105))
    trend = next(x for x in usage.losses if x.signal == "usage.trend")
    assert pytest.approx(0.5 / 0.7 * 100 * (1 - expected)) == trend.points
    assert "no product activity for 6 days" == trend.detail


def test_no_usage_events_means_no_usage_component() -> None:
    assert comp.usage(build([nps(day(1), 9)]), POLICY, day(2)).value is None


def test_an_urgent_ticket_unanswered_for_6_hours_costs_open_load_and_the_sla() -> None:
    # open load 4 * (1 + 6h / 7d) * 5 points = 20.714; SLA breach 30 * 1/1 = 30
    s = build([opened(hour(0), "t1", "urgent")])
    support = comp.support(s, POLICY, hour(6))
    assert pytest.approx(100 - 20 * (1 + 6 / 168) - 30) == support.value
    details = {x.signal: x.detail for x in support.losses}
    assert (
        "1 urgent ticket open longer than the 4 h first-response SLA"
        == (details["support.first_response"])
    )
    assert "1 open ticket (1 urgent), oldest open 0 days" == details["support.open_tickets"]


def test_a_ticket_answered_in_time_and_resolved_leaves_support_at_100() -> None:
    s = build([opened(hour(0), "t1", "high"), replied(hour(1), "t1"), resolved(hour(5), "t1")])
    assert 100.0 == comp.support(s, POLICY, hour(6)).value


def test_reopens_and_escalations_each_cost_their_points() -> None:
    # one resolved ticket, reopened once (rate 1 -> 15) and escalated once (10), then resolved
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
    assert pytest.approx(75.0) == comp.support(s, POLICY, hour(5)).value


def test_support_losses_are_scaled_down_when_they_exceed_100_points() -> None:
    # open 35 (capped) + SLA 30 + escalations 20 + reopens 15 + slow resolution 10 = 110
    events = [opened(day(0) + i, f"t{i}", "urgent") for i in range(3)]
    events += [escalated(day(1), "t1"), escalated(day(1), "t2"), resolved(day(2), "t0")]
    events += [reopened(day(3), "t0"), resolved(day(3) + 1, "t0"), reopened(day(3) + 2, "t0")]
    events += [resolved(day(3) + 3, "t0"), reopened(day(3) + 4, "t0")]
    support = comp.support(build(events), POLICY, day(6))
    assert 0.0 == support.value
    assert pytest.approx(100.0) == sum(x.points for x in support.losses)


def test_no_recent_ticket_means_no_support_component() -> None:
    s = build([opened(day(0), "t1"), replied(day(0) + 60, "t1"), resolved(day(1), "t1")])
    assert comp.support(s, POLICY, day(40)).value is None


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
