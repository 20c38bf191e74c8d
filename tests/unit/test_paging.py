"""Which rules page after `calibrate`: each rule's own precision on the training window."""

from __future__ import annotations

from pathlib import Path

import yaml

from scoring.policy import Policy
from stream.offline.backtest import RuleQuality
from stream.offline.calibrate import (
    MIN_ALERTED,
    Measure,
    Trial,
    choose_paging,
    meet_budget,
    page_target,
    tightened,
)
from stream.resources import resource

ROWS, CHURNERS = 1_000, 200  # a 20% base rate: a rule must reach 50% precision


def _doc(page: list[str] | None = None) -> dict[str, object]:
    doc = yaml.safe_load(Path(str(resource("scoring.yaml"))).read_text())
    if page is not None:
        doc["alerts"]["page"] = page
    return doc  # type: ignore[no-any-return]


def _q(rule: str, alerted: int, churned: int) -> RuleQuality:
    return RuleQuality(rule, alerted, churned, CHURNERS, rows=ROWS)


def test_a_rule_below_the_target_stops_paging_and_the_others_keep_it() -> None:
    assert page_target(CHURNERS / ROWS) == 0.5
    training = [
        _q("high_risk", 100, 80),
        _q("inactivity", 60, 50),
        _q("band_drop", 80, 30),  # 37.5%: below 50%
        _q("sharp_drop", 200, 125),  # 62.5%, at least 56.7% on new customers
        _q("urgent_ticket_sla", 50, 10),  # 20%, but a broken promise pages anyway
        _q("detractor", 90, 20),  # 22.2%
    ]
    doc, choice = choose_paging(_doc(), training, source="t")
    assert choice.target == 0.5
    assert choice.dropped == [("band_drop", 0.375), ("detractor", 20 / 90)]
    # `contraction` alerted nobody on training (no figures): too few to judge, it keeps paging
    kept = ["high_risk", "inactivity", "sharp_drop", "urgent_ticket_sla", "contraction"]
    assert doc["alerts"]["page"] == kept  # type: ignore[index]


def test_a_rule_pages_only_if_its_precision_holds_the_target_with_assurance() -> None:
    """62.5% on 40 customers alerted could be 49% on the next 40 (a one-sided 95% bound):
    short of a 50% target. The same share of 200 holds it."""
    training = [_q("high_risk", 100, 80), _q("sharp_drop", 40, 25)]
    _, choice = choose_paging(_doc(), training, source="t")
    assert choice.dropped == [("sharp_drop", 0.625)]
    _, choice = choose_paging(_doc(), [training[0], _q("sharp_drop", 200, 125)], source="t")
    assert choice.dropped == []


def test_a_rule_alerting_too_few_customers_to_judge_keeps_paging() -> None:
    few = MIN_ALERTED - 1
    training = [_q("high_risk", 100, 80), _q("band_drop", few, 0)]
    _, choice = choose_paging(_doc(), training, source="t")
    assert choice.dropped == []
    _, choice = choose_paging(_doc(), [*training[:1], _q("band_drop", MIN_ALERTED, 0)], source="t")
    assert choice.dropped == [("band_drop", 0.0)]


def test_when_no_rule_reaches_the_target_the_most_precise_still_pages() -> None:
    training = [_q("high_risk", 100, 30), _q("inactivity", 100, 40)]
    doc, choice = choose_paging(_doc(["high_risk", "inactivity"]), training, source="t")
    assert choice.kept == ["inactivity"]
    assert doc["alerts"]["page"] == ["inactivity"]  # type: ignore[index]


def test_without_outcomes_nothing_changes() -> None:
    doc = _doc()
    out, choice = choose_paging(doc, [RuleQuality("high_risk", 10, 0, 0, rows=0)], source="t")
    assert out is doc
    assert choice.target is None
    assert choice.dropped == []


def test_a_high_base_rate_uses_the_share_of_the_remaining_gap() -> None:
    assert abs(page_target(0.7) - 0.8) < 1e-9
    assert abs(page_target(0.1) - 0.25) < 1e-9


# --- the budget: one strictness, tighter or looser ------------------------------------------


def _measure(seen: list[float]) -> Measure:
    """A stand-in for the training replay: looser risk scores send more and surer-less alerts."""

    def measure(p: Policy) -> Trial:
        seen.append(p.alerts.risk_score)
        return Trial(volume=p.alerts.risk_score / 100, precision=1 - p.alerts.risk_score / 100)

    return measure


def _budget(budget: float) -> dict[str, object]:
    doc = _doc()
    doc["alerts"]["budget_per_customer_month"] = budget  # type: ignore[index]
    # the stand-in's scale (`_measure`), whatever the shipped policy says
    doc["alerts"]["risk_score"] = 50  # type: ignore[index]
    return doc


def test_a_budget_exceeded_tightens_to_the_least_strict_setting_within_it() -> None:
    seen: list[float] = []
    doc, choice = meet_budget(_budget(0.4), _measure(seen), source="t")
    assert choice.met
    assert 0 < choice.strictness < 1
    assert doc["alerts"]["risk_score"] <= 40  # type: ignore[index]
    looser = tightened(_budget(0.4)["alerts"], choice.strictness - 1 / 64)  # type: ignore[arg-type]
    assert looser["risk_score"] > 40


def test_a_budget_left_unused_is_spent_down_to_the_precision_floor() -> None:
    doc, choice = meet_budget(_budget(0.9), _measure([]), source="t")
    assert choice.strictness == -1  # nothing stops it: the loosest setting
    assert doc["alerts"]["risk_score"] == 70  # type: ignore[index]

    doc, choice = meet_budget(_budget(0.9), _measure([]), source="t", floor=0.4)
    assert -1 < choice.strictness < 0
    assert 1 - doc["alerts"]["risk_score"] / 100 >= 0.4  # type: ignore[index,operator]
    step = tightened(_budget(0.9)["alerts"], choice.strictness - 1 / 64)  # type: ignore[arg-type]
    assert 1 - step["risk_score"] / 100 < 0.4  # a step looser falls below the floor

    doc, choice = meet_budget(_budget(0.55), _measure([]), source="t")
    assert -1 < choice.strictness < 0  # the budget itself stops it
    assert doc["alerts"]["risk_score"] <= 55  # type: ignore[index]


def _counted(alerted: int) -> Measure:
    """`_measure`, with the customers alerted counted: the precision is known to within its
    sampling noise."""

    def measure(p: Policy) -> Trial:
        score = p.alerts.risk_score
        return Trial(volume=score / 100, precision=1 - score / 100, alerted=alerted)

    return measure


def test_the_budget_is_spent_only_while_the_precision_holds_on_new_customers() -> None:
    doc, point = meet_budget(_budget(0.9), _measure([]), source="t", floor=0.4)
    few, bounded = meet_budget(_budget(0.9), _counted(100), source="t", floor=0.4)
    many, close = meet_budget(_budget(0.9), _counted(100_000), source="t", floor=0.4)
    # judged on 100 customers alerted, the training precision must clear 0.4 by its noise
    assert bounded.strictness > point.strictness
    assert bounded.assured is not None
    assert bounded.precision is not None
    assert bounded.held
    assert 0.4 <= bounded.assured < bounded.precision
    assert 1 - few["alerts"]["risk_score"] / 100 > 0.45  # type: ignore[index,operator]
    # a step looser, the bound falls below the floor
    step = tightened(_budget(0.9)["alerts"], bounded.strictness - 1 / 64)  # type: ignore[arg-type]
    assert Trial(0.0, 1 - step["risk_score"] / 100, 100).assured() < 0.4  # type: ignore[operator]
    # on 100,000 the bound is the precision to within a point: the same choice as without it
    assert point.strictness <= close.strictness <= point.strictness + 1 / 32
    assert many["alerts"]["risk_score"] <= doc["alerts"]["risk_score"]  # type: ignore[index]


def test_when_no_setting_holds_the_floor_the_surest_one_within_budget_is_kept() -> None:
    """The alerts thin out as the thresholds tighten: the policy's own thresholds alert 5
    customers, too few to be sure of anything; halfway to the loosest, 200 at 45%; the
    loosest, 2,000 at 30%. No setting's bound reaches 0.5: the surest one is kept, and said."""

    def measure(p: Policy) -> Trial:
        loose = (p.alerts.risk_score - 50) / 20  # 0 at the policy's own, 1 at the loosest
        alerted = round(5 + 1995 * loose**2)
        return Trial(volume=0.01 + 0.1 * loose, precision=0.6 - 0.3 * loose, alerted=alerted)

    _, choice = meet_budget(_budget(0.9), measure, source="t", floor=0.5)
    assert choice.held is False
    surest = max(
        (t.assured() or 0.0, s)
        for s in (-i / 64 for i in range(65))
        if (t := measure(_policy(s))).volume is not None
    )
    tried = [s for s, _ in choice.tried if s <= 0]
    best_tried = max(tried, key=lambda s: measure(_policy(s)).assured() or 0.0)
    assert choice.strictness == best_tried
    assert choice.assured is not None
    assert choice.assured > measure(_policy(0.0)).assured()  # type: ignore[operator]
    assert choice.assured > measure(_policy(-1.0)).assured()  # type: ignore[operator]
    assert choice.assured >= surest[0] - 0.05  # near the best of the whole range


def _policy(s: float) -> Policy:
    from scoring.policy import parse_policy

    doc = _budget(0.9)
    return parse_policy({**doc, "alerts": tightened(doc["alerts"], s)}, "t")  # type: ignore[arg-type]


def test_a_budget_out_of_reach_is_reported_not_met() -> None:
    _, choice = meet_budget(_budget(0.01), _measure([]), source="t")
    assert not choice.met
    assert choice.strictness == 1
