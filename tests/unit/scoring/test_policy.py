"""The policy file is validated with errors that name the key, the value and what is allowed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring.decay import DAY, HOUR
from scoring.policy import PolicyError, parse_policy
from stream.resources import load_policy, resource

DOC: dict[str, Any] = yaml.safe_load(resource("scoring.yaml").read_text())


def changed(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    *parents, leaf = path.split(".")
    node = doc
    for p in parents:
        node = node[p]
    if value is DELETE:
        del node[leaf]
    else:
        node[leaf] = value
    return doc


DELETE = object()


def test_the_shipped_policy_loads_with_its_units_converted() -> None:
    p = load_policy()
    assert 4 * HOUR == p.support.first_response_sla["urgent"]
    assert 28 * DAY == p.usage.long_half_life


def test_segment_weights_are_normalised_to_sum_to_one() -> None:
    p = parse_policy(changed("segments.smb", {"usage": 2, "support": 1, "sentiment": 1}))
    assert {"usage": 0.5, "support": 0.25, "sentiment": 0.25} == dict(p.weights_for("smb"))


def test_an_unknown_segment_uses_the_default_weights() -> None:
    p = load_policy()
    assert p.weights_for("default") == p.weights_for("no-such-segment") == p.weights_for(None)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "support.first_response_sla_hours.urgent",
            -1,
            "support.first_response_sla_hours.urgent: must be a number > 0, got -1",
        ),
        ("bands.healthy", "high", "bands.healthy: must be a number > 0 and <= 100, got 'high'"),
        ("bands.at_risk", 80, "bands.at_risk: must be below bands.healthy (70), got 80"),
        (
            "segments.smb",
            {"usage": 1, "support": 1, "mood": 1},
            "segments.smb.mood: must be one of usage, support, sentiment, got 'mood'",
        ),
        ("segments.default", DELETE, "segments.default: must be present"),
        (
            "usage.short_half_life_days",
            40,
            "usage.short_half_life_days: must be shorter than usage.long_half_life_days, got 40",
        ),
        (
            "alerts.detractor_max_score",
            11,
            "alerts.detractor_max_score: must be an integer from 0 to 9, got 11",
        ),
        ("alerts.inactivity_odds", 1, "alerts.inactivity_odds: must be more than 1, got 1"),
        (
            "alerts.next_steps",
            {"ring_them": "call"},
            "alerts.next_steps: must be a map from rules (urgent_ticket_sla, ",
        ),
        (
            "support.priority_weights.p1",
            3,
            "support.priority_weights.p1: must be one of low, normal, high, urgent, got 'p1'",
        ),
    ],
)
def test_a_bad_value_is_reported_with_key_value_and_rule(
    path: str, value: Any, message: str
) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(changed(path, value), "my.yaml")
    assert str(info.value).startswith("my.yaml: ")
    assert message in str(info.value)


def test_a_file_that_is_not_yaml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("segments: [unclosed")
    with pytest.raises(PolicyError, match=r"policy.yaml: \(document\): must be valid YAML"):
        load_policy(str(bad))


def test_the_model_version_changes_with_any_value() -> None:
    assert load_policy().model != parse_policy(changed("bands.hysteresis", 4)).model


def test_the_model_version_is_stable_for_the_same_content() -> None:
    assert parse_policy(copy.deepcopy(DOC)).model == parse_policy(copy.deepcopy(DOC)).model


def test_next_steps_are_the_catalogs_unless_a_policy_gives_its_own() -> None:
    from scoring.policy import ALERT_RULES, NEXT_STEP_RULES

    assert set(NEXT_STEP_RULES) == {*ALERT_RULES, "review"}
    assert {} == parse_policy(copy.deepcopy(DOC)).alerts.next_steps
    own = {"inactivity": "  Call Ana.  ", "high_risk": {"lv": "Zvaniet.", "en": "Call."}}
    policy = parse_policy(changed("alerts.next_steps", own), "my.yaml")
    assert {"*": "Call Ana."} == policy.alerts.next_steps["inactivity"]
    assert {"lv": "Zvaniet.", "en": "Call."} == policy.alerts.next_steps["high_risk"]
    assert "review" not in policy.alerts.next_steps
    with pytest.raises(PolicyError, match=r"a map from languages \(en, ru, lv, zh, \*\)"):
        parse_policy(changed("alerts.next_steps", {"review": {"de": "Anrufen."}}), "my.yaml")
