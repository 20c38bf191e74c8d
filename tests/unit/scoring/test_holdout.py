"""The alert holdout: who is held out is a stable digest of the experiment and the customer id,
and the policy's `alerts.holdout` is validated like every other key."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest
import yaml

from scoring.holdout import Holdout, held_out, holdout_fraction
from scoring.policy import PolicyError, parse_policy
from stream.resources import load_policy, resource

DOC: dict[str, Any] = yaml.safe_load(resource("scoring.yaml").read_text())
IDS = [f"customer-{i}" for i in range(20_000)]


def test_the_draw_is_a_pinned_digest_the_same_in_every_process_and_python() -> None:
    # BLAKE2b-64 of "outreach-2026\n<id>", big-endian, over 2^64: pinned, so a change of
    # digest, separator or byte order (which would reshuffle a running experiment) fails here
    assert holdout_fraction("acme", "outreach-2026") == 0xBC0B5FA7EB016260 / 2**64
    assert holdout_fraction("sim-000001", "outreach-2026") == 0x67CAEEE218162C1F / 2**64
    assert holdout_fraction("globex", "outreach-2026") == 0x99EBC1126653D21D / 2**64
    # another interpreter (its own hash salt) draws the same
    code = (
        "from scoring.holdout import holdout_fraction as f; print(repr(f('acme', 'outreach-2026')))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert float(other) == holdout_fraction("acme", "outreach-2026")


def test_share_zero_holds_nobody_and_share_one_everybody() -> None:
    assert not any(held_out(c, "x", 0.0) for c in IDS)
    assert all(held_out(c, "x", 1.0) for c in IDS)


@pytest.mark.parametrize("share", [0.05, 0.1, 0.5, 0.9])
def test_the_share_held_out_is_near_the_policys_share(share: float) -> None:
    held = sum(held_out(c, "outreach-2026", share) for c in IDS) / len(IDS)
    # binomial: 4 standard errors at most (20,000 ids)
    assert abs(held - share) <= 4 * (share * (1 - share) / len(IDS)) ** 0.5


def test_a_larger_share_keeps_everyone_a_smaller_one_held_out() -> None:
    small = {c for c in IDS if held_out(c, "e", 0.1)}
    large = {c for c in IDS if held_out(c, "e", 0.3)}
    assert small < large  # growing an experiment adds customers, removes none


def test_each_experiment_draws_its_own_holdout() -> None:
    a = {c for c in IDS if held_out(c, "spring", 0.5)}
    b = {c for c in IDS if held_out(c, "autumn", 0.5)}
    overlap = len(a & b) / len(IDS)
    assert abs(overlap - 0.25) < 0.02  # independent draws: a quarter in both


def with_holdout(value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    doc["alerts"]["holdout"] = value
    return doc


def test_the_shipped_policy_holds_nobody_out() -> None:
    p = load_policy()
    assert p.alerts.holdout is None
    assert not any(p.alerts.held_out(c) for c in IDS[:1000])


def test_a_policy_with_a_holdout_holds_out_its_share() -> None:
    p = parse_policy(with_holdout({"experiment": " outreach-2026 ", "share": 0.2}))
    assert Holdout("outreach-2026", 0.2) == p.alerts.holdout
    assert p.alerts.held_out("acme") == held_out("acme", "outreach-2026", 0.2)
    assert p.model != load_policy().model  # the published model version tells them apart


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ({"share": 0.1}, "alerts.holdout.experiment"),
        ({"experiment": "", "share": 0.1}, "alerts.holdout.experiment"),
        ({"experiment": "a\nb", "share": 0.1}, "alerts.holdout.experiment"),
        ({"experiment": "x" * 101, "share": 0.1}, "alerts.holdout.experiment"),
        ({"experiment": 7, "share": 0.1}, "alerts.holdout.experiment"),
        ({"experiment": "e"}, "alerts.holdout.share"),
        ({"experiment": "e", "share": 1.0}, "alerts.holdout.share"),
        ({"experiment": "e", "share": -0.1}, "alerts.holdout.share"),
        ({"experiment": "e", "share": "half"}, "alerts.holdout.share"),
        ({"experiment": "e", "share": 0.1, "shares": 2}, "alerts.holdout.shares"),
        ("on", "alerts.holdout"),
    ],
)
def test_a_bad_holdout_is_reported_with_its_key(value: Any, key: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(with_holdout(value))
    assert key == err.value.key
