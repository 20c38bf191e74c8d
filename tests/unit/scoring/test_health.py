"""Health combines the components with segment weights, and explains itself exactly."""

from __future__ import annotations

import math

import pytest

from scoring import components as comp
from scoring.health import band_for, score

from .builders import (
    POLICY,
    account,
    build,
    daily_sessions,
    day,
    feature,
    hour,
    nps,
    opened,
    seats,
)


def test_every_component_counts_with_its_weight_missing_evidence_as_neutral() -> None:
    s = build([*daily_sessions(0, 99), feature(day(99)), seats(day(99), 4, 10), nps(day(99), 0)])
    # no ticket: support 100; one detractor: sentiment 0; the default segment's weights (they
    # add up to 1)
    w = POLICY.weights_for(None)
    h = score(s, POLICY, day(99))
    assert h is not None
    usage = comp.usage(s, POLICY, day(99)).value or 0.0
    expected = w["usage"] * usage + w["support"] * 100 + w["sentiment"] * 0
    assert pytest.approx(expected, abs=0.01) == h.score
    assert {"usage": round(usage, 2), "support": 100.0, "sentiment": 0.0} == h.components


def test_a_component_without_evidence_lowers_the_confidence_by_its_weight() -> None:
    s = build(daily_sessions(0, 99))  # no survey answer: sentiment is a neutral guess
    h = score(s, POLICY, day(99))
    assert h is not None
    w = POLICY.weights_for(None)  # they add up to 1
    assert 0 < w["sentiment"] < 1
    assert pytest.approx(1 - w["sentiment"], abs=1e-3) == h.confidence
    assert 50.0 == h.components["sentiment"]


def test_a_customer_known_only_by_its_account_is_scored_as_idle() -> None:
    h = score(build([account(day(0), segment="smb")]), POLICY, day(60))
    assert h is not None
    assert h.band == "critical"  # no usage for 60 days since it was first seen
    support = POLICY.weights_for("smb")["support"]  # the weights add up to 1
    assert 0 < support < 1
    assert pytest.approx(support, abs=1e-3) == h.confidence  # only support has evidence


def test_a_young_customer_is_scored_with_lower_confidence() -> None:
    s = build([*daily_sessions(0, 6), nps(day(6), 9), opened(day(6), "t")])
    h = score(s, POLICY, day(7))
    assert h is not None
    assert pytest.approx(0.5, abs=1e-3) == h.confidence  # 7 of the 14 maturity days


def test_the_segment_chooses_the_weights() -> None:
    events = [*daily_sessions(0, 99), nps(day(99), 0)]
    smb = score(build([account(day(0), segment="smb"), *events]), POLICY, day(99))
    ent = score(build([account(day(0), segment="enterprise"), *events]), POLICY, day(99))
    assert smb is not None
    assert ent is not None
    usage = comp.usage(build(events), POLICY, day(99)).value or 0.0
    # no ticket: support 100; one detractor: sentiment 0; each segment's weights (they add up
    # to 1), which tell the two apart by more than the rounding
    expected = {}
    for segment in ("smb", "enterprise"):
        w = POLICY.weights_for(segment)
        expected[segment] = w["usage"] * usage + w["support"] * 100 + w["sentiment"] * 0
    assert abs(expected["smb"] - expected["enterprise"]) > 0.1
    assert pytest.approx(expected["smb"], abs=0.01) == smb.score
    assert pytest.approx(expected["enterprise"], abs=0.01) == ent.score


def test_drivers_add_up_to_the_points_lost_from_100() -> None:
    s = build(
        [
            *daily_sessions(0, 40),
            feature(day(40)),
            seats(day(40), 2, 10),
            opened(hour(40 * 24), "t1", "urgent"),
            nps(day(40), 3),
        ]
    )
    h = score(s, POLICY, day(41))
    assert h is not None
    assert pytest.approx(h.score - 100, abs=0.05) == sum(d.impact for d in h.drivers)


def test_drivers_come_most_negative_first_with_words() -> None:
    s = build([*daily_sessions(0, 40), opened(day(40), "t1", "urgent"), nps(day(40), 2)])
    h = score(s, POLICY, day(41))
    assert h is not None
    impacts = [d.impact for d in h.drivers]
    assert sorted(impacts) == impacts
    assert all(d.detail for d in h.drivers)


def test_a_customer_never_heard_of_has_no_score() -> None:
    assert score(build([]), POLICY, day(1)) is None


def test_a_calibrated_policy_adds_the_churn_probability_of_the_score() -> None:
    from dataclasses import replace

    from scoring.health import churn_probability
    from scoring.policy import Calibration

    calibrated = replace(POLICY, calibration={"default": Calibration(90 * 86400.0, 1.0, 4.0)})
    h = score(build(daily_sessions(0, 30)), calibrated, day(30))
    assert h is not None
    assert pytest.approx(1 / (1 + math.exp(-(1.0 - 4.0 * h.score / 100))), abs=1e-4) == (
        h.churn_probability
    )
    assert churn_probability(20.0, calibrated, None) > churn_probability(80.0, calibrated, None)  # type: ignore[operator]
    assert score(build(daily_sessions(0, 30)), POLICY, day(30)).churn_probability is None  # type: ignore[union-attr]


def test_the_score_carries_the_model_version_and_event_time() -> None:
    h = score(build(daily_sessions(0, 3)), POLICY, day(3))
    assert h is not None
    assert (POLICY.model, day(3)) == (h.model, h.as_of)


@pytest.mark.parametrize(
    ("value", "previous", "expected"),
    [
        (70.0, None, "healthy"),
        (69.99, None, "at_risk"),
        (50.0, None, "at_risk"),
        (49.99, None, "critical"),
        (72.0, "at_risk", "at_risk"),  # needs 73 to move back up
        (73.0, "at_risk", "healthy"),
        (54.0, "critical", "at_risk"),
        (52.0, "critical", "critical"),
        (75.0, "critical", "healthy"),
        (50.0, "healthy", "at_risk"),  # moving down is immediate
    ],
)
def test_bands_have_thresholds_and_hysteresis_on_the_way_up(
    value: float, previous: str | None, expected: str
) -> None:
    assert expected == band_for(value, POLICY.bands, previous)


def test_revenue_at_risk_is_mrr_times_the_churn_probability() -> None:
    from dataclasses import replace

    from scoring.policy import Calibration

    calibrated = replace(POLICY, calibration={"default": Calibration(90 * 86400.0, 1.0, 4.0)})
    history = [account(day(0), segment="smb", owner="ana", mrr=1200.0), *daily_sessions(0, 30)]
    h = score(build(history), calibrated, day(30))
    assert h is not None
    assert h.churn_probability is not None
    assert pytest.approx(1200.0 * h.churn_probability, abs=0.01) == h.revenue_at_risk
    assert h.revenue_at_risk_calibrated
    # uncalibrated: MRR weighted by the relative risk (100 - score) / 100, and said so
    u = score(build(history), POLICY, day(30))
    assert u is not None
    assert pytest.approx(1200.0 * (100 - u.score) / 100, abs=0.01) == u.revenue_at_risk
    assert not u.revenue_at_risk_calibrated
    # no MRR: no revenue at risk
    plain = score(build(daily_sessions(0, 30)), POLICY, day(30))
    assert plain is not None
    assert plain.revenue_at_risk is None
