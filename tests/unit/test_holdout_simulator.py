"""What issue 26 asks the holdout to show: on the simulator with a known outreach effect, the
holdout estimate's 95% interval covers the true effect, and with no effect it covers zero,
over several seeds (printed; run with `-s` to see the table).

A 95% interval misses the truth in one base of twenty by design, so "every seed covers" is not
what a correct estimate promises: with the seeds fixed below, seed 2 without an effect is such
a miss (the held-out customers there churned less by chance: 200 other holdouts of the same
customers put that draw's difference beyond all but 1 in 200). The test holds the estimate to
what it does promise: at most one miss in three seeds per effect (a 95% interval misses twice
or more in 0.7% of such runs; a biased estimate or a too narrow interval misses far more
often), and, on each simulated base, 200 other holdouts of the same paged customers (their
outcomes with and without outreach are known) covering the truth in about 95% of draws.

A small base keeps this test near a minute compiled and two minutes in pure Python (the
simulator lives through every customer's events with the scoring core to find its first
page); docs/validation.md has
the same check on 1,000 customers and five seeds (`python -m bench.holdout`)."""

from __future__ import annotations

import pytest
from rich.console import Console

from stream.offline.holdout import SimulatorCheck, check_on_simulator, print_checks

SEEDS = (1, 2, 3)
CUSTOMERS = 250


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> dict[float, list[SimulatorCheck]]:
    where = tmp_path_factory.mktemp("holdout")
    out = {
        effect: check_on_simulator(
            where, SEEDS, outreach_effect=effect, customers=CUSTOMERS, share=0.5
        )
        for effect in (0.5, 0.0)
    }
    print_checks([*out[0.5], *out[0.0]], Console(width=200))
    return out


def test_with_a_known_effect_the_interval_covers_the_true_effect(
    checks: dict[float, list[SimulatorCheck]],
) -> None:
    runs = checks[0.5]
    for c in runs:
        assert c.truth is not None
        assert c.truth < 0  # outreach saved some of the paged customers it reached
        assert c.estimate.delivered > 30
        assert c.estimate.held_out > 30
    misses = [c.seed for c in runs if not c.covers]
    assert len(misses) <= 1, [c.to_dict() for c in runs]
    # the estimate has the effect's sign, taken over the seeds
    assert sum(c.estimate.difference or 0.0 for c in runs) < 0


def test_with_no_effect_the_interval_covers_zero(
    checks: dict[float, list[SimulatorCheck]],
) -> None:
    runs = checks[0.0]
    assert all(c.truth == 0.0 for c in runs)
    misses = [c.seed for c in runs if not c.covers]
    assert len(misses) <= 1, [c.to_dict() for c in runs]


@pytest.mark.parametrize("effect", [0.5, 0.0])
def test_other_holdouts_of_the_same_customers_cover_the_truth_about_95_percent_of_the_time(
    checks: dict[float, list[SimulatorCheck]], effect: float
) -> None:
    rates = [c.redrawn for c in checks[effect]]
    assert all(r is not None for r in rates)
    # 200 draws each: 95% coverage gives 90.6% or more in all but 0.5% of bases
    assert all(r is not None and r >= 0.9 for r in rates), rates
    mean = sum(r for r in rates if r is not None) / len(rates)
    assert 0.92 <= mean <= 0.99, rates
