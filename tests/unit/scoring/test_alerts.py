"""Alert rules: one alert per episode (rules that start together merged, later ones joining the
open alert), with reasons, cooldown and deterministic ids."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from scoring.alerts import (
    MAX_HISTORY,
    SEVERITIES,
    Alert,
    AlertState,
    _remember,
    alert_id,
    evaluate,
    pending_until,
    persist_for,
)
from scoring.decay import DAY
from scoring.events import Event
from scoring.health import HealthScore, score
from scoring.policy import Policy
from scoring.state import CustomerState, advance, apply, new_state
from scoring.words import say
from stream.i18n import words

from .builders import (
    POLICY as SHIPPED,
)
from .builders import (
    account,
    build,
    daily_sessions,
    day,
    feature,
    hour,
    nps,
    opened,
    paging_every_rule,
    replied,
    seats,
    session,
)
from .test_properties import CID, histories

# the episode mechanics below are tested with every rule paging; the shipped choice of paging
# rules is tested in test_the_shipped_policy_keeps_a_detractor_on_the_worklist
POLICY = paging_every_rule(SHIPPED)


def run(
    events: list[Event], checks: list[float] | None = None, policy: Policy = POLICY
) -> tuple[list[Alert], AlertState]:
    """Apply events in time order, evaluating alerts after each, and at extra times `checks`."""
    state: CustomerState = new_state("acme")
    alerts = AlertState()
    raised: list[Alert] = []
    timeline: list[tuple[float, Event | None]] = [(e.occurred_at, e) for e in events]
    timeline += [(t, None) for t in checks or []]
    for t, e in sorted(timeline, key=lambda x: x[0]):
        state = apply(state, e, policy) if e is not None else advance(state, t, policy)
        h = score(state, policy, t, alerts.band)
        if h is not None:
            alerts, new = evaluate(alerts, state, h, policy, t)
            raised.extend(new)
    return raised, alerts


def healthy_history(days: int = 40) -> list[Event]:
    features = [feature(day(d), f) for d in range(days) for f in ("a", "b", "c", "d", "e")]
    return [
        account(day(0), segment="smb", owner="ana"),
        *daily_sessions(0, days, per_day=5),
        *features,
        seats(day(0), 9, 10),
        nps(day(1), 10),
    ]


def test_a_healthy_customer_raises_no_alert() -> None:
    raised, state = run(healthy_history())
    assert [] == raised
    assert "healthy" == state.band


def test_a_detractor_answer_raises_one_alert_with_owner_and_reason() -> None:
    raised, _ = run([*healthy_history(), nps(day(40) + 10, 2), nps(day(40) + 20, 1)])
    assert ["detractor"] == [a.rule for a in raised]
    alert = raised[0]
    assert ("ana", "smb", "warning") == (alert.owner, alert.segment, alert.severity)
    assert say("alert-detractor", latest=2) == alert.reasons[0]


def test_silence_raises_one_inactivity_alert_as_stream_time_passes() -> None:
    checks = [day(40) + d * DAY for d in range(1, 30)]
    raised, _ = run(healthy_history(), checks)
    inactivity = [a for a in raised if a.rule == "inactivity"]
    assert 1 == len(inactivity)
    # active every day: silence counts after the policy's floor (4 days). The last session is
    # at day 40 plus 4 minutes; the first daily check 4 days past it is day 45
    assert 4 * DAY == POLICY.alerts.inactivity_floor
    assert day(45) == inactivity[0].raised_at
    assert say("alert-inactivity-rhythm", days=5, every=1) == inactivity[0].reasons[0]


def test_a_slow_drift_across_a_band_edge_is_no_band_drop() -> None:
    # silence lets the score drift down across the healthy edge a little each day (over
    # months: the level of use fades with the quarter's half-life): that is no drop large for
    # the customer (no 7-day window sees it fall past the edge by the margin), so only the
    # inactivity alert stands for it
    checks = [day(40) + d * DAY for d in range(1, 366)]
    raised, state = run(healthy_history(), checks)
    assert ["inactivity"] == [a.rule for a in raised]
    assert state.band in ("at_risk", "critical")
    episode = state.open
    assert episode is not None
    assert episode.alert_id == raised[0].alert_id
    assert "band_drop" not in episode.rules


def test_a_one_point_wobble_across_a_band_edge_raises_nothing() -> None:
    state = apply(new_state("acme"), account(day(0), segment="smb", owner="ana"), POLICY)
    memory, raised = AlertState(), []
    edge = POLICY.bands.healthy
    for i in range(200):
        at = day(30) + i * 6 * 3600.0
        value = edge + (0.6 if i % 2 else -0.6)
        memory, new = evaluate(memory, state, _health(value, at), POLICY, at)
        raised.extend(new)
    assert [] == raised


def _health(value: float, at: float, probability: float | None = None) -> HealthScore:
    band = "healthy" if value >= 70 else "at_risk" if value >= 50 else "critical"
    return HealthScore(
        "acme", value, band, None, None, None, 1.0, at, "test", probability, _drivers=()
    )


@settings(max_examples=60, deadline=None)
@given(
    centre=st.sampled_from(["risk", "at_risk", "healthy"]),
    amplitude=st.floats(min_value=0.0, max_value=3.0),
    steps=st.integers(min_value=10, max_value=120),
    hours=st.sampled_from([1.0, 6.0, 24.0]),
)
def test_a_score_oscillating_around_a_threshold_raises_at_most_one_alert_an_episode(
    centre: str, amplitude: float, steps: int, hours: float
) -> None:
    """A score wobbling around any threshold (the risk level, a band edge) by less than the
    margins raises at most one alert, and only once it persisted."""
    level = {
        "risk": POLICY.alerts.risk_score,
        "at_risk": POLICY.bands.at_risk,
        "healthy": POLICY.bands.healthy,
    }[centre]
    state = apply(new_state("acme"), account(day(0), segment="smb", owner="ana"), POLICY)
    memory, raised = AlertState(), []
    for i in range(steps):
        at = day(30) + i * hours * 3600.0
        value = level + (amplitude if i % 2 else -amplitude)
        memory, new = evaluate(memory, state, _health(value, at), POLICY, at)
        raised.extend(new)
    assert len(raised) <= 1
    for alert in raised:
        assert alert.rule == "high_risk"
        assert alert.raised_at - day(30) >= POLICY.alerts.risk_for


def test_high_risk_needs_to_persist_and_clears_only_with_a_margin() -> None:
    state = apply(new_state("acme"), account(day(0), segment="smb", owner="ana"), POLICY)
    low = POLICY.alerts.risk_score - 5
    memory, raised = AlertState(), []
    timeline = [(day(30) + h * 3600.0, low) for h in range(0, 24 * 5, 6)]
    for at, value in timeline:
        memory, new = evaluate(memory, state, _health(value, at), POLICY, at)
        raised.extend(new)
    assert ["high_risk"] == [a.rule for a in raised]
    assert raised[0].raised_at == day(30) + POLICY.alerts.risk_for
    # back above the threshold but within the margin: still the same episode
    at = day(36)
    memory, new = evaluate(memory, state, _health(low + 8, at), POLICY, at)
    assert [] == new
    assert memory.open is not None
    # past the margin: recovered
    memory, new = evaluate(memory, state, _health(low + 20, day(37)), POLICY, day(37))
    assert memory.open is None


def _rhythm(every: int, days: int) -> CustomerState:
    state = apply(new_state("acme"), account(day(0), segment="smb", owner="ana"), POLICY)
    for d in range(0, days, every):
        state = apply(state, session(day(d) + 60), POLICY)
    return state


def _band_drop_alerts(state: CustomerState, hours: float) -> list[Alert]:
    """Healthy for two weeks, then the band-drop margin below the healthy edge for `hours` (no
    sharp drop, no high risk), then back."""
    memory, raised = AlertState(), []
    steps = [(day(30) + i * 6 * 3600.0, 72.0) for i in range(56)]
    start, low = day(44), POLICY.bands.healthy - POLICY.alerts.band_drop_margin
    assert POLICY.alerts.risk_score < low
    steps += [(start + h * 3600.0, low) for h in range(0, int(hours) + 1, 6)]
    steps += [(start + hours * 3600.0 + 3600.0, 72.0)]
    for at, value in steps:
        memory, new = evaluate(memory, state, _health(value, at), POLICY, at)
        raised.extend(new)
    return [a for a in raised if "band_drop" in a.rules]


def test_a_band_drop_must_outlast_the_customers_usual_gap_between_active_days() -> None:
    """A score that falls between two visits and recovers at the next is the customer's
    rhythm: a band drop raises an alert only once it held for the customer's usual gap between
    active days (at least `risk_for`)."""
    every_six = _rhythm(6, 120)
    assert persist_for(every_six, POLICY) == 6 * DAY
    assert [] == _band_drop_alerts(every_six, hours=5 * 24)
    assert 1 == len(_band_drop_alerts(every_six, hours=7 * 24))
    # at most half the band-drop window: a drop judged against the window's best band could
    # never outlast the window itself
    monthly = _rhythm(30, 120)
    assert persist_for(monthly, POLICY) == POLICY.alerts.band_drop_window / 2
    assert 1 == len(_band_drop_alerts(monthly, hours=8 * 24))
    daily = _rhythm(1, 60)
    assert persist_for(daily, POLICY) == POLICY.alerts.risk_for  # one day: the floor
    assert [] == _band_drop_alerts(daily, hours=POLICY.alerts.risk_for / 3600 - 6)
    assert 1 == len(_band_drop_alerts(daily, hours=POLICY.alerts.risk_for / 3600 + 6))


@settings(max_examples=40, deadline=None)
@given(every=st.integers(min_value=1, max_value=20), share=st.floats(min_value=0.0, max_value=2.0))
def test_a_band_drop_pages_only_if_it_outlasts_the_rhythm_whatever_the_rhythm(
    every: int, share: float
) -> None:
    """For a customer active every `every` days, a band drop held for `share` times how long it
    must persist raises no alert below 1 (a 6-hour margin either way for the evaluation grid)
    and exactly one above it."""
    state = _rhythm(every, 120)
    wait = persist_for(state, POLICY)
    a = POLICY.alerts
    assert wait == max(a.risk_for, min(every * DAY, a.band_drop_window / 2))
    # a window shorter than twice `risk_for` leaves `risk_for` the floor, as for high risk
    narrow = replace(POLICY, alerts=replace(a, band_drop_window=a.risk_for))
    assert persist_for(state, narrow) == a.risk_for
    hours = share * wait / 3600
    raised = _band_drop_alerts(state, hours=hours)
    if hours <= wait / 3600 - 6:
        assert [] == raised
    elif hours >= wait / 3600 + 6:
        assert 1 == len(raised)


def test_a_pending_band_drop_sets_when_the_customer_is_looked_at_again() -> None:
    every_six = _rhythm(6, 120)
    memory = AlertState()
    for i in range(56):
        at = day(30) + i * 6 * 3600.0
        memory, _ = evaluate(memory, every_six, _health(72.0, at), POLICY, at)
    low = POLICY.bands.healthy - POLICY.alerts.band_drop_margin
    memory, raised = evaluate(memory, every_six, _health(low, day(44)), POLICY, day(44))
    assert [] == raised
    assert pending_until(memory, every_six, POLICY) == day(44) + 6 * DAY


def test_silence_is_judged_against_the_customers_own_rhythm() -> None:
    monthly = _rhythm(30, 120)
    last = max(d for d in range(0, 120, 30))
    at = day(last) + 60 + 20 * DAY
    h = score(monthly, POLICY, at)
    assert h is not None
    _, raised = evaluate(AlertState(), advance(monthly, at, POLICY), h, POLICY, at)
    assert "inactivity" not in [r for a in raised for r in a.rules]
    daily = _rhythm(1, 60)
    at = day(59) + 60 + 5 * DAY
    h = score(daily, POLICY, at)
    assert h is not None
    _, raised = evaluate(AlertState(), advance(daily, at, POLICY), h, POLICY, at)
    assert "inactivity" in [r for a in raised for r in a.rules]


def test_a_customer_active_at_random_is_judged_by_the_odds_of_its_silence() -> None:
    import random

    from scoring.reading import inactivity_threshold

    rng = random.Random(4)
    state = apply(new_state("acme"), account(day(0), segment="smb", owner="ana"), POLICY)
    active = [d for d in range(90) if rng.random() < 0.7]  # most days, at random
    for d in active:
        state = apply(state, session(day(d) + 60), POLICY)
    # silences of 3-4 days happen to it by chance (0.3 ** 4 is about 1 in 120): no news;
    # one past about 8 days is less likely than 1 in 10,000
    threshold = inactivity_threshold(state, POLICY) / DAY
    assert 7 <= threshold <= 10
    quiet = sorted(b - a for a, b in itertools.pairwise(active))
    assert quiet[-1] < threshold
    daily = inactivity_threshold(_rhythm(1, 60), POLICY)
    assert POLICY.alerts.inactivity_floor == daily  # like clockwork: the floor


def test_rules_that_start_together_are_one_alert_led_by_the_most_specific() -> None:
    """Four urgent tickets, then a detractor answer that makes the fall a sharp drop: the two
    rules start together. Support and sentiment weigh too little in the shipped policy for
    the score to fall `sharp_drop_points` at that answer, so the test's policy sets the sharp
    drop midway between the fall the tickets alone make and the fall with the answer."""
    t = day(40)
    urgent = [opened(t + i, f"U{i}", "urgent") for i in range(4)]
    events = [*healthy_history(), *urgent, nps(t + 10, 0), nps(t + 11, 0), nps(t + 12, 1)]
    timeline = sorted(events, key=lambda e: e.occurred_at)

    def value_after(last: float) -> float:
        h = score(build([e for e in timeline if e.occurred_at <= last], POLICY), POLICY, last)
        assert h is not None
        return h.score

    calm, tickets, answer = value_after(t - 1), value_after(t + 3), value_after(t + 10)
    assert calm - tickets < calm - answer
    points = ((calm - tickets) + (calm - answer)) / 2
    policy = replace(POLICY, alerts=replace(POLICY.alerts, sharp_drop_points=points))
    raised, state = run(events, [t + 6 * 3600], policy)
    assert 1 == len(raised)
    alert = raised[0]
    assert ("sharp_drop", "detractor") == alert.rules[:2]  # the drop leads the merged alert
    assert "sharp_drop" == alert.rule
    assert ("alert-sharp-drop", "alert-detractor") == tuple(m.id for m in alert.reasons[:2])
    assert state.open is not None
    assert {"sharp_drop", "urgent_ticket_sla"} <= set(state.open.rules)
    assert "critical" == state.open.severity  # the urgent ticket past its SLA raised it


def test_an_episode_ends_when_the_customer_recovers_and_a_new_one_alerts_again() -> None:
    events = [*healthy_history(), nps(day(40), 2)]
    raised, state = run(events)
    assert state.open is not None
    raised, state = run([*events, nps(day(41), 10)])
    assert state.open is None  # recovered: the alert resolves
    raised, state = run([*events, nps(day(41), 10), nps(day(43), 3)])
    assert 2 == len(raised)
    assert raised[0].alert_id != raised[1].alert_id


def test_an_urgent_ticket_past_its_sla_raises_a_critical_alert_once() -> None:
    t = day(40)
    checks = [t + h * 3600 for h in range(1, 10)]
    raised, _ = run([*healthy_history(), opened(t, "T-9", "urgent")], checks)
    sla = [a for a in raised if a.rule == "urgent_ticket_sla"]
    assert 1 == len(sla)
    assert "critical" == sla[0].severity
    assert t + 5 * 3600 == sla[0].raised_at  # first check past the 4 h SLA
    assert say("alert-urgent-ticket-sla", tickets=1, hours=4.0, ids="T-9") == sla[0].reasons[0]


def test_an_answered_urgent_ticket_raises_nothing() -> None:
    t = day(40)
    checks = [t + h * 3600 for h in range(1, 10)]
    raised, _ = run(
        [*healthy_history(), opened(t, "T-9", "urgent"), replied(t + 3600, "T-9")], checks
    )
    assert [] == [a for a in raised if a.rule == "urgent_ticket_sla"]


def test_the_same_rule_does_not_fire_again_within_the_cooldown() -> None:
    events = [
        *healthy_history(),
        nps(day(40), 2),
        nps(hour(40 * 24 + 2), 10),
        nps(hour(40 * 24 + 4), 3),
    ]
    raised, _ = run(events)
    assert 1 == len([a for a in raised if a.rule == "detractor"])


def test_after_the_cooldown_a_new_episode_fires_again() -> None:
    events = [*healthy_history(), nps(day(40), 2), nps(day(41), 10), nps(day(43), 3)]
    raised, _ = run(events)
    assert 2 == len([a for a in raised if a.rule == "detractor"])


def test_a_sharp_drop_raises_an_alert() -> None:
    t = day(40)
    urgent = [opened(t + i, f"U{i}", "urgent") for i in range(4)]
    events = [*healthy_history(), *urgent, nps(t + 10, 0), nps(t + 11, 0), nps(t + 12, 1)]
    _, state = run(events, [t + 6 * 3600])
    assert state.open is not None
    assert "sharp_drop" in state.open.rules


def test_alert_ids_are_deterministic_across_replays() -> None:
    events = [*healthy_history(), nps(day(40) + 10, 2)]
    first, _ = run(events)
    second, _ = run(events)
    assert [a.alert_id for a in first] == [a.alert_id for a in second]
    assert alert_id("acme", "detractor", day(40) + 10) == first[0].alert_id


def test_a_churned_customer_raises_no_more_alerts() -> None:
    from .builders import churned

    checks = [day(40) + d * DAY for d in range(1, 30)]
    raised, _ = run([*healthy_history(), churned(day(40) + 1), session(day(40) + 2)], checks)
    assert [] == [a for a in raised if {"inactivity", "band_drop", "sharp_drop"} & set(a.rules)]


@settings(max_examples=150, deadline=None)
@given(histories(span_days=60, max_size=60), st.integers(1, 90))
def test_one_alert_per_episode_and_an_open_alert_only_while_a_rule_holds(
    events: list[Event], silent_days: int
) -> None:
    """Evaluated after every event and then daily through a silence: an alert is raised exactly
    when an episode opens; the open alert keeps its id while it lasts and only grows (rules,
    severity); it is open only while some rule's condition holds."""
    state: CustomerState = new_state(CID)
    memory = AlertState()
    end = max(e.occurred_at for e in events)
    timeline: list[tuple[float, Event | None]] = [(e.occurred_at, e) for e in events]
    timeline += [(end + d * DAY, None) for d in range(1, silent_days + 1)]
    for t, e in sorted(timeline, key=lambda x: x[0]):
        state = apply(state, e, POLICY) if e is not None else advance(state, t, POLICY)
        h = score(state, POLICY, t, memory.band)
        if h is None:
            continue
        before = memory.open
        memory, raised = evaluate(memory, state, h, POLICY, t)
        after = memory.open
        assert len(raised) == (1 if before is None and after is not None else 0)
        if raised:
            assert raised[0] == after
            assert raised[0].rule == raised[0].rules[0]
        if after is not None:
            assert any(r.active for r in memory.rules.values())
            assert set(after.rules) <= {k for k, r in memory.rules.items() if r.active} | set(
                before.rules if before else ()
            )
        if before is not None and after is not None:
            assert after.alert_id == before.alert_id
            assert set(before.rules) <= set(after.rules)
            assert SEVERITIES.index(after.severity) >= SEVERITIES.index(before.severity)


def test_a_rule_that_does_not_page_opens_no_alert_but_joins_an_open_one() -> None:
    quiet = replace(POLICY, alerts=replace(POLICY.alerts, page=frozenset({"urgent_ticket_sla"})))
    state = apply(new_state("acme"), account(day(0), segment="smb", owner="ana"), quiet)
    state = apply(state, nps(day(1), 2), quiet)
    h = score(state, quiet, day(1))
    assert h is not None
    memory, raised = evaluate(AlertState(), state, h, quiet, day(1))
    assert [] == raised  # the detractor holds, on the worklist only
    assert memory.rules["detractor"].active
    assert memory.open is None
    # an urgent ticket past its SLA pages, and the detractor already holding is not repeated
    state = apply(state, opened(day(2), "U1", "urgent"), quiet)
    at = day(2) + quiet.support.first_response_sla["urgent"] + 60
    h = score(state, quiet, at)
    assert h is not None
    memory, raised = evaluate(memory, advance(state, at, quiet), h, quiet, at)
    assert ["urgent_ticket_sla"] == [a.rule for a in raised]


def test_the_shipped_policy_pages_a_detractor() -> None:
    assert SHIPPED.alerts.pages("detractor")
    events = [*healthy_history(), nps(day(40) + 10, 2)]
    state: CustomerState = new_state("acme")
    for e in events:
        state = apply(state, e, SHIPPED)
    h = score(state, SHIPPED, day(40) + 10)
    assert h is not None
    memory, raised = evaluate(AlertState(), state, h, SHIPPED, day(40) + 10)
    assert ["detractor"] == [a.rule for a in raised]
    assert memory.rules["detractor"].active


def test_an_alert_carries_the_revenue_at_risk_it_was_raised_with() -> None:
    import json

    from jsonschema import Draft202012Validator, FormatChecker

    from scoring.policy import Calibration
    from scoring.serialize import alert_record
    from stream.resources import resource

    calibrated = replace(POLICY, calibration={"default": Calibration(90 * DAY, 1.0, 4.0)})
    history = [account(day(0), segment="smb", owner="ana", mrr=1200.0), *healthy_history()[1:]]
    history += [nps(day(40) + 10, 2)]
    state, memory, raised = new_state("acme"), AlertState(), list[tuple[Alert, HealthScore]]()
    for e in sorted(history, key=lambda x: x.occurred_at):
        state = apply(state, e, calibrated)
        h = score(state, calibrated, e.occurred_at, memory.band)
        assert h is not None
        memory, new = evaluate(memory, state, h, calibrated, e.occurred_at)
        raised += [(a, h) for a in new]
    assert ["detractor"] == [a.rule for a, _ in raised]
    alert, health = raised[0]
    assert health.churn_probability is not None
    assert alert.revenue_at_risk == round(1200.0 * health.churn_probability, 2)
    assert alert.revenue_at_risk_calibrated
    schema = json.loads(resource("schemas/churn-alerts.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    assert [] == [e.message for e in validator.iter_errors(alert_record(alert))]
    # without an MRR the alert says it does not know
    plain, _ = run([*healthy_history(), nps(day(40) + 10, 2)])
    assert (None, False) == (plain[0].revenue_at_risk, plain[0].revenue_at_risk_calibrated)


def test_every_rule_s_alert_is_valid_under_the_published_schema() -> None:
    import json

    from jsonschema import Draft202012Validator

    from scoring.policy import ALERT_RULES
    from stream.resources import resource

    schema = json.loads(resource("schemas/churn-alerts.json").read_text(encoding="utf-8"))
    rules = schema["properties"]["rule"]["enum"]
    assert set(ALERT_RULES) == set(rules) == set(schema["properties"]["rules"]["items"]["enum"])
    assert set(SEVERITIES) <= set(schema["properties"]["severity"]["enum"])
    Draft202012Validator.check_schema(schema)


def _days(active: list[int]) -> CustomerState:
    state = apply(new_state("acme"), account(day(0), segment="smb", owner="ana"), POLICY)
    for d in active:
        state = apply(state, session(day(d) + 60), POLICY)
    return state


def _inactivity_reasons(state: CustomerState, at: float) -> list[str]:
    h = score(state, POLICY, at)
    assert h is not None
    _, raised = evaluate(AlertState(), advance(state, at, POLICY), h, POLICY, at)
    english = words("en")
    return [english(r) for a in raised if "inactivity" in a.rules for r in a.reasons]


def test_activity_thinning_out_against_the_customers_rhythm_raises_inactivity() -> None:
    # active every day for 60 days, then on 3 of the last 14: still coming, far less often
    thinned = _days([*range(60), 62, 66, 71])
    reasons = _inactivity_reasons(thinned, day(73) + 3600)
    assert "active on 3 of the last 14 days, against about 14 usually for this customer" in reasons
    # the same 3 days in 14 are this customer's own rhythm when it was always like that
    import random

    rng = random.Random(7)
    sparse = _days([d for d in range(74) if rng.random() < 0.25] + [71])
    assert not _inactivity_reasons(sparse, day(73) + 3600)


def test_thinning_is_judged_with_the_uncertainty_of_a_short_rhythm() -> None:
    from scoring.alerts import MIN_BASELINE_DAYS, thinning

    # the same share of active days before, over a short and a long rhythm: 2 of the last 14
    # days are surer news against 100 days of it than against 30
    def chance(before: int) -> float:
        mask = 0
        for d in range(before + 14):
            if d >= before and d not in (before + 5, before + 13):
                continue  # two active days in the window, the last one today
            if d < before and d % 3 == 2:
                continue  # two days in three before it
            mask |= 1 << (before + 13 - d)
        t = thinning(mask, (before + 13) * DAY, (before + 13) * DAY, 14)
        assert t is not None
        assert t.active == 2
        return t.chance

    assert chance(100) < chance(30) < 1
    # active every day before the window, and today: judged once that rhythm is long enough
    enough = ((1 << MIN_BASELINE_DAYS) - 1) << 14 | 1
    assert thinning(enough, 0.0, 0.0, 14) is not None
    assert thinning(enough >> 15 << 14 | 1, 0.0, 0.0, 14) is None  # a day too short


@settings(max_examples=300, deadline=None)
@given(st.integers(0, (1 << 120) - 1), st.integers(0, 30), st.integers(7, 60))
def test_thinning_chance_is_a_probability_that_grows_with_the_active_days(
    mask: int, since: int, days: int
) -> None:
    from scoring.alerts import thinning

    now = (100 + since) * DAY
    t = thinning(mask, 100 * DAY, now, days)
    if t is None:
        return
    assert 0.0 < t.chance <= 1.0
    assert t.active < t.usual / 2
    # one more active day in the window (bit 0 is the latest active day): never less likely
    free = next((b for b in range(days - since) if not mask >> b & 1), None)
    if free is None:
        return  # every day since the latest active one is active already
    u = thinning(mask | 1 << free, 100 * DAY, now, days)
    assert u is None or u.chance >= t.chance


def test_a_revenue_contraction_raises_an_alert_with_its_reason_and_clears_after_the_window() -> (
    None
):
    from scoring.policy import ALERT_RULES

    assert "contraction" in ALERT_RULES
    assert SHIPPED.alerts.pages("contraction")  # a downgrade pages in the shipped policy

    def paying(days: int, *cuts: Event) -> list[Event]:
        return [*healthy_history(days), account(day(0) + 5, mrr=2000.0), *cuts]

    # a cut of 40%: an alert, critical (twice the 20% the policy asks), with its own words,
    # open while the cut is within the 30-day window ...
    raised, memory = run(paying(70, account(day(45), mrr=1200.0)))
    assert [["contraction"]] == [list(a.rules) for a in raised]
    assert "critical" == raised[0].severity
    english = words("en")
    assert "MRR down 40% within 30 days (from 2,000 to 1,200)" == english(raised[0].reasons[0])
    assert memory.open is not None
    # ... and once it is older than that, it is what the customer pays: the condition clears
    _, later = run(paying(80, account(day(45), mrr=1200.0)))
    assert later.open is None
    # a cut of 10% is no contraction, nor a raise, nor an MRR first stated late
    for events in (
        paying(70, account(day(45), mrr=1800.0)),
        paying(70, account(day(45), mrr=3000.0)),
        [*healthy_history(70), account(day(45), mrr=500.0)],
    ):
        assert [] == run(events)[0]


def _contraction_by_hand(stamps: list[tuple[float, float]], now: float, window: float) -> float:
    """The contraction read from every MRR stated, kept whole: the reference `mrr_days` and
    its cuts must agree with."""
    last: dict[int, tuple[float, float]] = {}
    for at, mrr in stamps:
        d = int(at // DAY)
        last[d] = max(last.get(d, (at, mrr)), (at, mrr))
    steps = sorted(last.values())
    known = [(at, mrr) for at, mrr in steps if at <= now]
    if len(steps) < 2 or not known:
        return 0.0
    current = known[-1][1]
    best = 0.0
    for i, (_, mrr) in enumerate(known):
        until = steps[i + 1][0] if i + 1 < len(steps) else float("inf")
        if until > now - window:
            best = max(best, mrr)
    return 0.0 if best <= 0 or current >= best else 1.0 - current / best


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 90).flatmap(lambda d: st.sampled_from([24 * d, 24 * d + 12])),
            st.sampled_from([0.0, 100.0, 250.0, 300.0, 1000.0]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.randoms(use_true_random=False),
)
# at the window's edge: the cut at noon 30 days before the latest statement, made at midnight,
# still leaves the MRR before it in force within the window for the first 12 hours
@example([(0, 1000.0), (60 * 24 + 12, 300.0), (90 * 24, 250.0)], random.Random(0))
def test_the_mrr_days_kept_are_order_free_and_read_as_every_statement_would(
    stamps: list[tuple[int, float]], rnd: object
) -> None:
    from scoring.alerts import contraction
    from scoring.state import note_mrr

    window = 30 * DAY
    timed = [(h * 3600.0, mrr) for h, mrr in stamps]
    kept: list[float] = []
    for at, mrr in timed:
        note_mrr(kept, at, mrr, window)
    shuffled = list(timed)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    again: list[float] = []
    for at, mrr in shuffled:
        note_mrr(again, at, mrr, window)
    assert kept == again  # whatever order the statements come in
    assert len(kept) <= 2 * (window / DAY + 2)  # a day each, within the window and one before
    latest = max(at for at, _ in timed)
    for k in range(4 * 32):  # read every 6 hours until the window is past the latest
        now = latest + k * 6 * 3600.0
        expected = _contraction_by_hand(timed, now, window)
        assert abs(contraction(kept, now, window) - expected) < 1e-12, now


def _remember_by_the_general_rule(
    history: list[float], now: float, score: float, window: float
) -> None:
    """`scoring.alerts._remember` without its fast paths: every slot within the window, the
    highest score per slot, the latest `MAX_HISTORY + 1` slots in order."""
    slot = window / MAX_HISTORY
    start = (now // slot) * slot
    pairs = [
        (history[i], history[i + 1])
        for i in range(0, len(history), 2)
        if history[i] >= now - window and history[i] != start
    ]
    best = max([score] + [history[i + 1] for i in range(0, len(history), 2) if history[i] == start])
    history[:] = [x for pair in sorted([*pairs, (start, best)])[-MAX_HISTORY - 1 :] for x in pair]


@given(st.randoms(use_true_random=False))
def test_remembered_scores_follow_the_general_rule_whatever_the_order_of_times(
    rng: random.Random,
) -> None:
    window = 14 * DAY
    fast: list[float] = []
    general: list[float] = []
    now = 0.0
    for _ in range(150):
        now += rng.uniform(-2 * DAY, 3 * DAY)  # mostly forward; sometimes back (a late event)
        value = rng.uniform(0, 100)
        _remember(fast, now, value, window)
        _remember_by_the_general_rule(general, now, value, window)
        assert general == fast
