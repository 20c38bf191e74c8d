"""When a silent customer is looked at again, and the fold the worker and replays share."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scoring.alerts import AlertState
from scoring.decay import DAY
from scoring.health import band_for, score, value
from scoring.reading import inactivity_threshold
from scoring.schedule import FAR, RESOLUTION, SETTLED, moments, next_check, next_due
from scoring.timeline import Standing, catch_up, replay, resolve

from .builders import (
    POLICY,
    account,
    build,
    churned,
    daily_sessions,
    day,
    feature,
    opened,
    seats,
    session,
)
from .test_components import WITH_RECENCY
from .test_properties import histories, latest

WEEK = 7 * DAY


def active_then_silent(last_day: int = 20) -> list[Any]:
    features = [feature(day(d), f) for d in range(last_day + 1) for f in "abcde"]
    return [
        account(day(0), segment="smb", owner="csm"),
        *daily_sessions(0, last_day, per_day=4),
        *features,
        seats(day(last_day), 9, 10),
    ]


def test_a_churned_customer_is_never_due() -> None:
    state = build([session(day(1)), churned(day(2))])
    assert next_due(state, AlertState(), POLICY, day(2), WEEK) is None


def test_a_customer_known_only_by_its_account_is_looked_at_as_its_idle_score_falls() -> None:
    """Its idle score falls through recency alone (idle since first seen), which the shipped
    policy gives no weight: read where recency has one (`WITH_RECENCY`)."""
    policy = WITH_RECENCY
    state = build([account(day(1), segment="smb")], policy)
    h = score(state, policy, day(1))
    assert h is not None
    due = next_due(state, AlertState(band=h.band, score=h.score), policy, day(1), WEEK)
    assert due is not None
    later = score(state, policy, due)
    assert later is not None
    assert later.score < h.score


def test_the_inactivity_crossing_is_a_moment() -> None:
    state = build([session(day(1))])
    assert [day(1) + POLICY.alerts.inactivity_after] == moments(state, POLICY, day(1))


def test_an_urgent_ticket_passing_its_sla_is_a_moment() -> None:
    state = build([opened(day(1), "T1", "urgent")])
    sla = POLICY.support.first_response_sla["urgent"]
    contact = POLICY.support.contact_window  # when it stops counting as a contact
    assert [day(1) + contact, day(1) + sla + 1.0] == moments(state, POLICY, day(1))


def test_a_silent_customer_is_due_right_after_its_score_crosses_the_first_level() -> None:
    events = active_then_silent()
    state = build(events)
    now = latest(events) + 15 * DAY  # past the inactivity moment: no moment ahead for long
    h = score(state, POLICY, now)
    assert h is not None
    assert h.band in ("healthy", "at_risk")
    memory = AlertState(band=h.band, score=h.score)
    assert [] == [m for m in moments(state, POLICY, now) if m < now + 400 * DAY]
    due = next_due(state, memory, POLICY, now, 400 * DAY)
    assert due is not None
    floor = POLICY.bands.healthy if h.band == "healthy" else POLICY.bands.at_risk
    first_level = max(floor, h.score - POLICY.alerts.sharp_drop_points)
    at_due, before = score(state, POLICY, due), score(state, POLICY, due - RESOLUTION)
    assert at_due is not None
    assert before is not None
    assert at_due.score < first_level <= before.score


def test_a_silent_score_is_refreshed_ever_more_rarely_as_it_settles() -> None:
    events = active_then_silent()
    state = build(events)
    # silent until its score is critical, however long the policy takes it there (the level
    # of use fades with the quarter's half-life)
    now = latest(events)
    for _ in range(round(FAR / DAY)):
        h = score(state, POLICY, now)
        if h is None or h.band == "critical":
            break
        now += DAY
    first = score(state, POLICY, now)
    assert first is not None
    assert "critical" == first.band  # no band below: only drifting and sharp drops are due
    gaps = []
    while True:
        h = score(state, POLICY, now)
        assert h is not None
        due = next_due(state, AlertState(band=h.band, score=h.score), POLICY, now, WEEK)
        if due is None:
            break  # settled: it will never drift 2 points more
        moved = score(state, POLICY, due)
        assert moved is not None
        assert h.score - moved.score >= 2.0  # refreshed once it drifted 2 points
        gaps.append(due - now)
        now = due
    assert len(gaps) >= 3
    assert sorted(gaps) == gaps


def test_a_score_still_moving_is_refreshed_within_the_refresh_interval() -> None:
    events = [*daily_sessions(0, 20), seats(day(20), 1, 10)]
    state = build(events)
    # lately below the usual rate, and falling; past the inactivity crossing, so no moment
    # falls within the interval and the drift alone makes it due
    now = latest(events) + 8 * DAY
    refresh = WEEK
    assert [] == [m for m in moments(state, POLICY, now) if m <= now + refresh]
    h = score(state, POLICY, now)
    assert h is not None
    later = value(state, POLICY, now + refresh)
    assert later is not None
    assert h.score - later >= SETTLED  # the premise: it moves that much within the interval
    assert band_for(later, POLICY.bands, h.band) == h.band  # ... without leaving its band
    due = next_due(state, AlertState(band=h.band, score=h.score), POLICY, now, refresh)
    assert due is not None
    assert due <= now + refresh


@settings(max_examples=200, deadline=None)
@given(histories(span_days=60), st.floats(0, 60), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_between_moments_a_silent_customers_score_never_rises(
    events: list[Any], after: float, a: float, b: float
) -> None:
    """The law `next_due` relies on to find crossings by bisection."""
    state = build(events)
    now = latest(events) + after * DAY
    ahead = moments(state, POLICY, now)
    end = min(ahead) if ahead else now + 400 * DAY
    t1, t2 = sorted((now + a * (end - now), now + b * (end - now)))
    assume(t2 < end)
    h1, h2 = score(state, POLICY, t1), score(state, POLICY, t2)
    assume(h1 is not None and h2 is not None)
    assert h2.score <= h1.score + 0.01  # type: ignore[union-attr]


def test_after_an_event_the_exact_due_time_is_left_for_later_when_nothing_is_due_soon() -> None:
    events = [*daily_sessions(0, 20, per_day=4), seats(day(20), 9, 10)]
    state = build(events)
    now = latest(events)
    check = next_check(state, AlertState(), POLICY, now, WEEK)
    exact = next_due(state, AlertState(), POLICY, now, WEEK)
    assert check.exact is False
    assert check.at is not None
    assert exact is not None
    assert now < check.at <= exact


def test_the_exact_due_time_is_worked_out_at_once_when_something_is_due_within_a_day() -> None:
    state = build([session(day(1)), opened(day(1), "T1", "urgent")])
    check = next_check(state, AlertState(), POLICY, day(1), WEEK)
    assert check.exact
    assert next_due(state, AlertState(), POLICY, day(1), WEEK) == check.at


def test_catching_up_a_silent_customer_costs_a_few_evaluations_not_one_a_day() -> None:
    events = [account(day(0), segment="smb"), session(day(0)), session(day(3)), session(day(40))]
    standing, _ = replay(events, POLICY, WEEK)
    assert standing is not None
    evaluations = 0
    step: Standing = standing
    while step.due is not None and step.due <= day(540):
        if not step.exact:
            step = resolve(step, POLICY, WEEK)
            continue
        step = catch_up(step, step.due, POLICY, WEEK).standing
        evaluations += 1
    assert evaluations <= 12, evaluations


def test_a_customer_active_every_day_gets_no_alert_when_living_through_its_history() -> None:
    events = [account(day(0), segment="smb", owner="csm"), *active_then_silent(120)]
    _, raised = replay(events, POLICY, WEEK, until=day(120))
    assert [] == [a.rule for a in raised]


def test_a_customer_going_silent_gets_one_alert_and_inactivity_joins_it_at_the_crossing() -> None:
    events = active_then_silent(20)
    standing, raised = replay(events, POLICY, WEEK, until=day(90))
    assert 1 == len(raised)  # one episode: the band drop and the inactivity merged
    assert standing is not None
    assert standing.memory.open is not None
    assert "inactivity" in standing.memory.open.rules
    last_active = max(e.occurred_at for e in events if e.TYPE in ("session", "feature_used"))
    crossing = last_active + inactivity_threshold(standing.state, POLICY)
    assert crossing == standing.memory.rules["inactivity"].since
