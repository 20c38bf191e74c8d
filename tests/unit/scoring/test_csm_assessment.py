"""The manager's own read (`csm_assessment`) as a sentiment measure: it moves the score the way
its rating says, fades with its age, keeps the state order-free and the drivers adding up."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import components as comp
from scoring import drivers, reading
from scoring import events as ev
from scoring.decay import DAY
from scoring.health import score
from scoring.policy import DEFAULT_CSM_SHARE, Policy, PolicyError, parse_policy
from scoring.state import CSM_AUTHOR, CSM_RATING, Stamped, apply, assessment, new_state
from scoring.words import Message
from stream.resources import resource

from .builders import POLICY, T0, account, build, csat, daily_sessions, day, nps
from .test_properties import CID, close, event_kinds, latest, make

AUTHORS = ("ana@csm.example", "bo@csm.example")


def load_policy_document() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(resource("scoring.yaml").read_text(encoding="utf-8"))
    return doc


def assessed(eid: str, at: float, rating: int, author: str = AUTHORS[0]) -> ev.CsmAssessment:
    return ev.CsmAssessment(eid, CID, at, rating, author)


def with_assessments(span_days: float) -> st.SearchStrategy[Any]:
    """The property tests' events, and managers' assessments among them."""
    t = st.integers(0, int(span_days * DAY)).map(lambda s: T0 + s)
    csm = st.builds(
        lambda at, r, a: ("csm", at, r, a), t, st.integers(1, 5), st.sampled_from(AUTHORS)
    )
    return st.one_of(event_kinds(span_days), csm)


def make_any(spec: tuple[Any, ...], i: int) -> ev.Event:
    if spec[0] == "csm":
        return assessed(f"p{i}", spec[1], spec[2], spec[3])
    return make(spec, i)


def histories(span_days: float = 30, max_size: int = 40) -> st.SearchStrategy[list[ev.Event]]:
    return st.lists(with_assessments(span_days), min_size=1, max_size=max_size).map(
        lambda specs: [make_any(s, i) for i, s in enumerate(specs)]
    )


def rated(state: Any, rating: int) -> Any:
    """The state with its latest assessment's rating replaced (same time, same author)."""
    out = state.copy()
    kept = assessment(state)
    at = kept.at if kept is not None else (state.clock or T0)
    out.attributes[CSM_RATING] = Stamped(rating, at)
    out.attributes.setdefault(CSM_AUTHOR, Stamped(AUTHORS[0], at))
    return out


# --- the law the issue asks for --------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    histories(),
    st.integers(1, 5),
    st.integers(1, 5),
    st.floats(0, 400),
)
def test_a_lower_rating_never_raises_the_score(
    events: list[ev.Event], a: int, b: int, later: float
) -> None:
    """For any state and time: the same assessment with a lower rating never gives a higher
    score, nor a higher sentiment component."""
    low, high = min(a, b), max(a, b)
    state = build(events)
    now = latest(events) + later * DAY
    lower, higher = rated(state, low), rated(state, high)
    s_low, s_high = score(lower, POLICY, now), score(higher, POLICY, now)
    assert s_low is not None
    assert s_high is not None
    assert s_low.score <= s_high.score
    m_low = reading.sentiment_value(lower, POLICY, now)
    m_high = reading.sentiment_value(higher, POLICY, now)
    assert m_low is not None
    assert m_high is not None
    assert m_low <= m_high


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(1, 5), st.integers(1, 5), st.integers(0, 30 * 86_400))
def test_a_lower_rating_given_as_an_event_never_raises_the_score(
    events: list[ev.Event], a: int, b: int, offset: int
) -> None:
    """The same through the events: one more assessment, rated lower or higher."""
    low, high = min(a, b), max(a, b)
    state = build(events)
    at = T0 + offset
    now = max(latest(events), at)
    s_low = score(apply(state, assessed("extra", at, low), POLICY), POLICY, now)
    s_high = score(apply(state, assessed("extra", at, high), POLICY), POLICY, now)
    assert s_low is not None
    assert s_high is not None
    assert s_low.score <= s_high.score


@settings(max_examples=300, deadline=None)
@given(histories(), st.floats(0, 200))
def test_a_five_raises_and_a_one_lowers_the_score_when_the_measure_has_weight(
    events: list[ev.Event], later: float
) -> None:
    state = build(events)
    now = latest(events) + later * DAY
    one, five = score(rated(state, 1), POLICY, now), score(rated(state, 5), POLICY, now)
    assert one is not None
    assert five is not None
    rating = assessment(rated(state, 5))
    assert rating is not None
    if reading.csm_weight(rating.at, POLICY, now) > 1e-9:
        m_one = reading.sentiment_value(rated(state, 1), POLICY, now) or 0.0
        m_five = reading.sentiment_value(rated(state, 5), POLICY, now) or 0.0
        assert m_one < m_five
        assert one.score <= five.score  # the score is rounded to 0.01
    unweighted = _with_csm_weight(POLICY, 0.0)
    assert score(rated(state, 1), unweighted, now) == score(rated(state, 5), unweighted, now)


# --- the laws every measure keeps, with assessments among the events --------------------------


@settings(max_examples=300, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_arrival_order_does_not_change_which_assessment_is_kept(
    events: list[ev.Event], rnd: Any
) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert close(build(events), build(shuffled))


@settings(max_examples=200, deadline=None)
@given(histories(span_days=60), st.data())
def test_an_assessment_delivered_again_changes_nothing(
    events: list[ev.Event], data: st.DataObject
) -> None:
    state = build(events)
    again = data.draw(st.sampled_from(events))
    assert close(state, apply(state, again, POLICY))
    assert state is build(events, start=state)


@settings(max_examples=300, deadline=None)
@given(histories(span_days=60, max_size=60), st.floats(0, 200))
def test_the_drivers_add_up_and_the_lean_reading_agrees(
    events: list[ev.Event], later: float
) -> None:
    state = build(events)
    now = latest(events) + later * DAY
    sentiment = comp.sentiment(state, POLICY, now)
    assert sentiment.value == reading.sentiment_value(state, POLICY, now)
    assert sentiment.value is not None
    lost = math.fsum(loss.points for loss in sentiment.losses)
    assert pytest.approx(100.0 - sentiment.value, abs=1e-6) == lost
    h = score(state, POLICY, now)
    assert h is not None
    shown, _ = drivers.shown(state, POLICY, now, 0.0)
    assert pytest.approx(h.score - 100.0, abs=0.02) == math.fsum(i for i, _ in shown)


# --- the measure, case by case -------------------------------------------------------------


def test_an_assessment_alone_is_the_customers_sentiment() -> None:
    state = build([account(day(0), segment="smb"), assessed("a1", day(1), 2)])
    assert 25.0 == reading.sentiment_value(state, POLICY, day(1))
    # alone, it stays the sentiment however old (a silent customer's sentiment never rises)
    assert 25.0 == reading.sentiment_value(state, POLICY, day(400))
    h = score(state, POLICY, day(1))
    assert h is not None
    assert h.components["sentiment"] == 25.0


def test_an_assessment_is_sentiment_evidence_for_the_confidence() -> None:
    bare = build([account(day(0)), *daily_sessions(0, 20)])
    both = build([account(day(0)), *daily_sessions(0, 20), assessed("a1", day(20), 4)])
    before, after = score(bare, POLICY, day(20)), score(both, POLICY, day(20))
    assert before is not None
    assert after is not None
    assert after.confidence > before.confidence


def test_its_weight_halves_every_half_life_against_the_surveys() -> None:
    h = POLICY.sentiment.csm_half_life
    assert 45 * DAY == h
    w = POLICY.sentiment.weights["csm"]
    assert pytest.approx(w) == reading.csm_weight(day(0), POLICY, day(0))
    assert pytest.approx(w / 2) == reading.csm_weight(day(0), POLICY, day(0) + h)
    # a CSAT of 100 and an assessment of 1: the assessment counts less as it ages
    state = build([account(day(0)), csat(day(0), 5), assessed("a1", day(0), 1)])
    fresh = reading.sentiment_value(state, POLICY, day(0))
    old = reading.sentiment_value(state, POLICY, day(90))
    wc = POLICY.sentiment.weights["csat"]
    assert pytest.approx(100 * wc / (wc + w)) == fresh
    assert fresh is not None
    assert old is not None
    assert fresh < old < 100.0


def test_the_latest_assessment_counts_and_a_tie_keeps_one_pair() -> None:
    first, second = assessed("a1", day(1), 5, "bo@csm.example"), assessed("a2", day(3), 2)
    for order in ([first, second], [second, first]):
        state = build([account(day(0)), *order])
        kept = assessment(state)
        assert kept is not None
        assert (2, day(3)) == (kept.value, kept.at)
        assert "ana@csm.example" == state.attributes[CSM_AUTHOR].value
    # at the same instant the larger (rating, author) wins, in any order, as one pair
    x, y = assessed("a3", day(5), 4, "ana@csm.example"), assessed("a4", day(5), 4, "bo@csm.example")
    one, other = build([x, y]), build([y, x])
    assert one == other
    assert (4, "bo@csm.example") == (
        one.attributes[CSM_RATING].value,
        one.attributes[CSM_AUTHOR].value,
    )


def test_an_old_assessment_arriving_late_changes_nothing() -> None:
    state = build([account(day(0)), assessed("a1", day(10), 4)])
    later = apply(state, assessed("a0", day(9), 1), POLICY)
    assert later.attributes[CSM_RATING] == state.attributes[CSM_RATING]


def test_the_driver_names_rating_author_and_age_in_whole_days() -> None:
    state = build(
        [account(day(0)), nps(day(0), 9), *daily_sessions(0, 12), assessed("a1", day(0), 2)]
    )
    losses = dict(drivers.sentiment_losses(state, POLICY, day(12)))
    assert drivers.CSM in losses
    said = drivers.sentiment_detail(drivers.CSM, state, POLICY, day(12))
    assert Message("sentiment-csm", ("rating", 2, "author", "ana@csm.example", "days", 12)) == said
    h = score(state, POLICY, day(12))
    assert h is not None
    assert any(d.signal == drivers.CSM for d in h.drivers)


def test_a_customer_without_an_assessment_reads_as_before() -> None:
    """The surveys keep their proportions (NPS 0.5 to CSAT 0.3): a customer without an
    assessment reads what it read before the measure existed."""
    state = build([account(day(0)), nps(day(0), 5), csat(day(1), 4)])
    # one detractor: NPS -100, sub-score 0; CSAT 100
    assert pytest.approx(100 * 0.3 / 0.8) == reading.sentiment_value(state, POLICY, day(1))
    assert not reading.has_sentiment(new_state(CID))


# --- the policy ------------------------------------------------------------------------------


def _with_csm_weight(policy: Policy, weight: float) -> Policy:
    weights = {**policy.sentiment.weights, "csm": weight}
    return dataclasses.replace(
        policy, sentiment=dataclasses.replace(policy.sentiment, weights=weights)
    )


def test_the_shipped_policy_gives_a_fresh_assessment_a_fifth_of_the_sentiment() -> None:
    w = POLICY.sentiment.weights
    assert pytest.approx(0.2) == w["csm"]
    assert pytest.approx(1.0) == sum(w.values())
    assert pytest.approx(0.5 / 0.3) == w["nps"] / w["csat"]  # the surveys' own proportions


def test_a_policy_written_before_the_assessment_gives_it_the_default_share() -> None:
    doc = load_policy_document()
    doc["sentiment"] = {"half_life_days": 90, "weights": {"nps": 0.5, "csat": 0.3, "ces": 0.2}}
    p = parse_policy(doc)
    assert pytest.approx(DEFAULT_CSM_SHARE) == p.sentiment.weights["csm"]
    assert pytest.approx(0.5 * (1 - DEFAULT_CSM_SHARE)) == p.sentiment.weights["nps"]
    assert 45 * DAY == p.sentiment.csm_half_life


def test_the_policy_names_the_sentiment_measures_it_allows() -> None:
    doc = load_policy_document()
    doc["sentiment"] = {"half_life_days": 90, "weights": {"nps": 1, "mood": 1}}
    with pytest.raises(
        PolicyError, match=r"sentiment\.weights\.mood: must be one of nps, csat, ces, csm"
    ):
        parse_policy(doc)
    doc["sentiment"] = {"half_life_days": 90, "csm_half_life_days": 0, "weights": {"nps": 1}}
    doc["sentiment"]["weights"].update(csat=0, ces=0, csm=1)
    with pytest.raises(PolicyError, match=r"sentiment\.csm_half_life_days"):
        parse_policy(doc)


def test_a_zero_weight_turns_the_assessment_off() -> None:
    policy = _with_csm_weight(POLICY, 0.0)
    state = build([account(day(0)), nps(day(0), 10), assessed("a1", day(0), 1)])
    assert 100.0 == reading.sentiment_value(state, policy, day(1))
    assert drivers.CSM not in dict(drivers.sentiment_losses(state, policy, day(1)))


# --- what calibrate fits -------------------------------------------------------------------


def test_the_assessment_is_a_signal_that_fades_towards_neutral() -> None:
    state = build([account(day(0)), assessed("a1", day(0), 1)])
    signals = comp.signals(state, POLICY, day(0))
    assert 0.0 == signals[drivers.CSM]
    assert 50.0 == signals["sentiment"]  # the surveys': none
    aged = comp.signals(state, POLICY, day(0) + POLICY.sentiment.csm_half_life)
    assert pytest.approx(25.0) == aged[drivers.CSM]
    assert 50.0 == comp.signals(build([account(day(0))]), POLICY, day(0))[drivers.CSM]
