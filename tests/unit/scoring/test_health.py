"""Health combines the components with segment weights, and explains itself exactly."""

from __future__ import annotations

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


def test_a_missing_component_is_left_out_and_the_weights_renormalised() -> None:
    s = build([*daily_sessions(0, 99), feature(day(99)), seats(day(99), 4, 10), nps(day(99), 0)])
    # usage 69, sentiment 0 (one detractor), no support; default weights 0.45 / 0.25
    h = score(s, POLICY, day(99))
    assert h is not None
    assert pytest.approx(0.45 / 0.70 * 69 + 0.25 / 0.70 * 0, abs=0.01) == h.score
    assert {"usage": 69.0, "support": None, "sentiment": 0.0} == h.components


def test_missing_components_lower_the_confidence_by_their_weight() -> None:
    s = build([*daily_sessions(0, 99), nps(day(99), 9)])
    h = score(s, POLICY, day(99))
    assert h is not None
    assert pytest.approx(0.70, abs=1e-3) == h.confidence


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
    assert pytest.approx(0.55 / 0.75 * usage, abs=0.01) == smb.score
    assert pytest.approx(0.35 / 0.65 * usage, abs=0.01) == ent.score


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


def test_a_customer_without_any_evidence_has_no_score() -> None:
    assert score(build([account(day(0), segment="smb")]), POLICY, day(1)) is None


def test_the_score_carries_the_model_version_and_event_time() -> None:
    h = score(build(daily_sessions(0, 3)), POLICY, day(3))
    assert h is not None
    assert (POLICY.model, day(3)) == (h.model, h.as_of)


@pytest.mark.parametrize(
    ("value", "previous", "expected"),
    [
        (70.0, None, "healthy"),
        (69.99, None, "at_risk"),
        (40.0, None, "at_risk"),
        (39.99, None, "critical"),
        (72.0, "at_risk", "at_risk"),  # needs 73 to move back up
        (73.0, "at_risk", "healthy"),
        (44.0, "critical", "at_risk"),
        (42.0, "critical", "critical"),
        (75.0, "critical", "healthy"),
        (50.0, "healthy", "at_risk"),  # moving down is immediate
    ],
)
def test_bands_have_thresholds_and_hysteresis_on_the_way_up(
    value: float, previous: str | None, expected: str
) -> None:
    assert expected == band_for(value, POLICY.bands, previous)
