"""The holdout's estimate (stream.offline.holdout) on hand-made replays, its interval, its
tables, and the simulator's outreach (stream.offline.datasets.simulate_churn)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from scoring.decay import DAY
from scoring.holdout import Holdout
from stream.codec import decode_event
from stream.offline.backtest import BacktestError, History, Replayed, read_files, replay_history
from stream.offline.datasets import simulate_churn
from stream.offline.holdout import (
    effects_from_replay,
    first_pages,
    holdout_effects,
    holdout_html,
    newcombe,
    print_holdout,
    read_truth,
    true_effect,
    wilson,
)
from stream.resources import load_policy

HOLDOUT = Holdout("offline-test", 0.5)
BASE = load_policy()
POLICY = replace(BASE, alerts=replace(BASE.alerts, holdout=HOLDOUT))
IDS = [f"c{i}" for i in range(200)]
HELD = [c for c in IDS if HOLDOUT.holds(c)]
TOLD = [c for c in IDS if not HOLDOUT.holds(c)]
H = 90 * DAY


# --- the interval -------------------------------------------------------------------------


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(5, 50, 20, 50), (0, 10, 0, 12), (9, 9, 1, 3)])
def test_newcombes_interval_holds_the_difference_and_turns_with_the_groups(
    k1: int, n1: int, k2: int, n2: int
) -> None:
    low, high = newcombe(k1, n1, k2, n2)
    assert -1 <= low <= k1 / n1 - k2 / n2 <= high <= 1
    back = newcombe(k2, n2, k1, n1)
    assert back == pytest.approx((-high, -low))


def test_newcombes_interval_matches_the_papers_worked_examples() -> None:
    # Newcombe (1998), table II, method 10
    assert newcombe(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    assert newcombe(9, 10, 3, 10) == pytest.approx((0.1705, 0.8090), abs=1e-4)
    assert newcombe(6, 7, 2, 7) == pytest.approx((0.0582, 0.8062), abs=1e-4)
    assert newcombe(5, 56, 0, 29) == pytest.approx((-0.0381, 0.1926), abs=1e-4)


def test_wilsons_interval_narrows_as_the_group_grows() -> None:
    small, large = wilson(3, 10), wilson(300, 1000)
    assert small[1] - small[0] > large[1] - large[0]
    assert small[0] < 0.3 < small[1]


# --- the estimate from a replay -----------------------------------------------------------


def replayed(
    cid: str, pages: list[tuple[float, tuple[str, ...]]], churns: tuple[float, ...] = ()
) -> Replayed:
    return Replayed(
        cid,
        None,
        (),
        (),
        churns,
        tuple(t for t, _ in pages),
        0.0,
        tuple(r for _, r in pages),
    )


def test_first_pages_compare_churn_within_the_horizon_delivered_against_held_out() -> None:
    t, end = 100 * DAY, 400 * DAY
    rows = [
        # delivered: two churn within the horizon, one after it, one never
        replayed(TOLD[0], [(t, ("inactivity",))], (t + 10 * DAY,)),
        replayed(TOLD[1], [(t, ("high_risk", "detractor"))], (t + 89 * DAY,)),
        replayed(TOLD[2], [(t, ("inactivity",))], (t + 91 * DAY,)),
        replayed(TOLD[3], [(t, ("band_drop",)), (t + 5 * DAY, ("inactivity",))]),
        # held out: three churn within the horizon, one never
        replayed(HELD[0], [(t, ("inactivity",))], (t + 1 * DAY,)),
        replayed(HELD[1], [(t, ("inactivity",))], (t + 50 * DAY,)),
        replayed(HELD[2], [(t, ("high_risk",))], (t + 30 * DAY,)),
        replayed(HELD[3], [(t, ("inactivity",))]),
        # paged too late to know, and never paged
        replayed(HELD[4], [(end - 30 * DAY, ("inactivity",))], (end - DAY,)),
        replayed(TOLD[4], [], (t,)),
        # churned before its page's horizon starts: not churn after the page
        replayed(TOLD[5], [(t, ("inactivity",))], (t - DAY,)),
    ]
    effects = {e.rule: e for e in effects_from_replay(rows, POLICY, H, end)}
    # every paging rule (all of them in the shipped policy), and "any"
    assert [
        "any",
        "band_drop",
        "sharp_drop",
        "detractor",
        "urgent_ticket_sla",
        "inactivity",
        "high_risk",
        "contraction",
    ] == [*effects]
    every = effects["any"]
    assert (5, 2, 4, 3, 1) == (
        every.delivered,
        every.delivered_churned,
        every.held_out,
        every.held_out_churned,
        every.too_recent,
    )
    assert every.difference == pytest.approx(2 / 5 - 3 / 4)
    assert every.interval == pytest.approx(newcombe(2, 5, 3, 4))
    inactivity = effects["inactivity"]  # TOLD[3]'s later inactivity alert is not its first
    assert (3, 1, 3, 2) == (
        inactivity.delivered,
        inactivity.delivered_churned,
        inactivity.held_out,
        inactivity.held_out_churned,
    )
    assert (1, 1, 1, 1) == (
        effects["high_risk"].delivered,
        effects["high_risk"].delivered_churned,
        effects["high_risk"].held_out,
        effects["high_risk"].held_out_churned,
    )
    assert effects["sharp_drop"].interval is None
    assert "too few to tell" == effects["sharp_drop"].reading
    doc = every.to_dict()
    assert doc["interval"] == pytest.approx(list(newcombe(2, 5, 3, 4)))
    assert {"experiment": "offline-test", "share": 0.5, "horizon_days": 90.0}.items() <= doc.items()
    json.dumps(doc)  # plain values


def test_the_reading_says_what_the_interval_excludes() -> None:
    t, end = 10 * DAY, 400 * DAY
    saved = [replayed(c, [(t, ("inactivity",))]) for c in TOLD[:60]]
    lost = [replayed(c, [(t, ("inactivity",))], (t + DAY,)) for c in HELD[:60]]
    [every, *_] = effects_from_replay(saved + lost, POLICY, H, end)
    assert "fewer churn when told" == every.reading
    harmed = [replayed(c, [(t, ("inactivity",))], (t + DAY,)) for c in TOLD[:60]]
    spared = [replayed(c, [(t, ("inactivity",))]) for c in HELD[:60]]
    [every, *_] = effects_from_replay(harmed + spared, POLICY, H, end)
    assert "more churn when told" == every.reading


def test_a_policy_without_a_holdout_is_refused_with_the_reason() -> None:
    with pytest.raises(BacktestError, match=r"alerts\.holdout"):
        effects_from_replay([], BASE, H, 0.0)
    with pytest.raises(BacktestError, match=r"alerts\.holdout"):
        holdout_effects(History(), BASE)


def test_the_tables_show_every_row_in_the_console_and_in_html() -> None:
    t, end = 100 * DAY, 400 * DAY
    rows = effects_from_replay(
        [
            replayed(TOLD[0], [(t, ("inactivity",))], (t + DAY,)),
            replayed(HELD[0], [(t, ("inactivity",))]),
        ],
        POLICY,
        H,
        end,
    )
    console = Console(record=True, width=200)
    print_holdout(rows, console)
    text = console.export_text()
    assert "offline-test" in text
    assert "urgent_ticket_sla" in text
    assert "+100.0" in text  # 1 of 1 delivered churned, 0 of 1 held out
    page = holdout_html(rows)
    assert page.startswith("<table")
    assert page.endswith("</table>")
    assert page.count("<tr>") == 1 + len(rows)
    assert "&#x27;offline-test&#x27;" in page  # escaped


# --- the simulator ------------------------------------------------------------------------


def digests(out: Path) -> tuple[str, str, str]:
    events = gzip.decompress((out / "events.jsonl.gz").read_bytes())
    return (
        hashlib.sha256(events).hexdigest(),
        hashlib.sha256((out / "truth.csv").read_bytes()).hexdigest(),
        hashlib.sha256((out / "about.json").read_bytes()).hexdigest(),
    )


# simulate_churn(out, 60, days=300, seed=3): its events since they gained revenue changes and
# managers' assessments (issue 26; the hidden state, truth.csv, is what it was before them)
PINNED = (
    "089e5ff6c65e7772a44ad43ecab003deadffac2a8e73bb7bdec90c2320a61f78",
    "52ff45591068662b3d55c4e9ecd6a78e430e1ee690d52025137ffb1978966e1a",
    "0c45d56a74b0a1627a7f67234f0daa605c6917ae2a7e480ed36b6913844c0cda",
)


def test_the_simulators_default_output_is_byte_for_byte_what_it_was(tmp_path: Path) -> None:
    simulate_churn(tmp_path, 60, days=300, seed=3)
    assert PINNED == digests(tmp_path)
    assert not (tmp_path / "holdout.csv").exists()


def test_a_holdout_without_an_effect_changes_no_event_and_records_the_pages(
    tmp_path: Path,
) -> None:
    simulate_churn(tmp_path, 60, days=300, seed=3, holdout=HOLDOUT, policy=POLICY, workers=1)
    assert PINNED[:2] == digests(tmp_path)[:2]  # the events and the hidden state
    about = json.loads((tmp_path / "about.json").read_text())
    assert {"experiment": "offline-test", "share": 0.5, "outreach_effect": 0.0}.items() <= about[
        "holdout"
    ].items()
    truth = read_truth(tmp_path)
    assert truth
    assert all(p.churns_with == p.churns_without and not p.recovers_with_outreach for p in truth)
    assert all(p.held_out == HOLDOUT.holds(p.customer_id) for p in truth)


@pytest.fixture(scope="module")
def outreach(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("outreach")
    simulate_churn(
        out, 150, days=400, seed=5, outreach_effect=0.8, holdout=HOLDOUT, policy=POLICY, workers=1
    )
    return out


def test_outreach_reverses_the_decline_of_the_paged_at_risk_customers_it_reaches(
    outreach: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline"
    simulate_churn(baseline, 150, days=400, seed=5)
    truth = read_truth(outreach)
    saved = [p for p in truth if p.recovers_with_outreach]
    assert saved
    assert all(p.at_risk and p.churns_without is not None and p.churns_with is None for p in saved)
    reached = {p.customer_id for p in saved if not p.held_out}
    assert reached
    assert {p.customer_id for p in saved if p.held_out}  # the draw is made held out or not
    before = read_files([baseline / "events.jsonl.gz"]).customers
    after = read_files([outreach / "events.jsonl.gz"]).customers
    pages = {p.customer_id: p.paged_at for p in truth}
    for cid, events in after.items():
        if cid not in reached:  # the rest of the base is exactly the baseline's
            assert [e.event_id for e in events] == [e.event_id for e in before[cid]]
            assert events == before[cid]
            continue
        t = pages[cid]
        assert [e for e in events if e.occurred_at <= t] == [
            e for e in before[cid] if e.occurred_at <= t
        ]
        assert not any(e.TYPE == "churned" for e in events)  # its churn, if any, is gone
        assert len({e.event_id for e in events}) == len(events)
    with (outreach / "truth.csv").open() as fh:
        hidden = {row["customer_id"]: row for row in csv.DictReader(fh)}
    assert all(hidden[c]["recovers"] == "1" and hidden[c]["churns_at"] == "" for c in reached)


def test_the_simulators_pages_are_the_replays_first_pages(outreach: Path) -> None:
    history = read_files([outreach / "events.jsonl.gz"])
    assert history.last is not None
    replay = replay_history(history, POLICY, [], workers=1)
    truth = {p.customer_id: p for p in read_truth(outreach)}
    firsts = first_pages(replay)
    assert firsts.keys() <= truth.keys()
    for cid, (t, _) in firsts.items():
        assert truth[cid].paged_at == pytest.approx(t, abs=1e-3)
    # pages the replay cannot see come after the last event of the whole history
    assert all(p.paged_at > history.last for c, p in truth.items() if c not in firsts)
    effects = effects_from_replay(replay, POLICY, H, history.last)
    known = true_effect(list(truth.values()), H, history.last)
    assert known is not None
    assert known[1] == effects[0].delivered + effects[0].held_out  # the same customers


def test_every_simulated_event_is_a_valid_contract_message(outreach: Path) -> None:
    with gzip.open(outreach / "events.jsonl.gz", "rb") as fh:
        count = len([decode_event(line.strip()) for line in fh])
    assert json.loads((outreach / "about.json").read_text())["events"] == count
