"""Backtests: the replay is the worker's fold, outcomes are joined right, the measures add up."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from scoring import events as ev
from scoring.decay import DAY
from scoring.health import score
from scoring.state import CustomerState, apply
from scoring.timeline import replay
from stream.offline import backtest as bt
from stream.resources import load_policy

POLICY = load_policy()
T0 = 1_767_225_600.0  # 2026-01-01
WEEK = 7 * DAY


def doc(i: int, customer: str, type_: str, day: float, **fields: object) -> dict[str, object]:
    from scoring.serialize import rfc3339

    return {
        "event_id": f"{customer}-{i}",
        "customer_id": customer,
        "type": type_,
        "occurred_at": rfc3339(T0 + day * DAY),
        **fields,
    }


def history_docs() -> list[dict[str, object]]:
    """`keeps` uses the product every day; `leaves` stops at day 30 and churns at day 100."""
    out = [doc(0, "keeps", "account_updated", 0, segment="smb", owner="ana")]
    out += [doc(1 + d, "keeps", "session", d, user_id="u") for d in range(120)]
    out += [doc(0, "leaves", "account_updated", 0, segment="smb", owner="ben")]
    out += [doc(1 + d, "leaves", "session", d, user_id="u") for d in range(30)]
    out += [doc(99, "leaves", "churned", 100)]
    return out


def write_jsonl(path: Path, docs: list[dict[str, object]], extra: list[str] = ()) -> Path:  # type: ignore[assignment]
    lines = [json.dumps(d) for d in docs] + list(extra)
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as fh:
            fh.write("\n".join(lines) + "\n")
    else:
        path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_lines_are_counted_and_named_and_the_rest_is_read(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "h.jsonl.gz", history_docs(), ["{not json", '{"type": "x"}'])
    history = bt.read_files([path])
    assert (2, 2) == (len(history.customers), history.rejected)
    assert history.errors[0].startswith(f"{path}:{len(history_docs()) + 1}: ")
    assert len(history_docs()) == history.events


def test_the_replay_is_the_workers_fold(tmp_path: Path) -> None:
    history = bt.read_files([write_jsonl(tmp_path / "h.jsonl", history_docs())])
    cutoff = T0 + 60 * DAY
    (leaves,) = [
        r
        for r in bt.replay_history(history, POLICY, [cutoff], workers=1)
        if r.customer_id == "leaves"
    ]
    events = history.customers["leaves"]
    standing, alerts = replay(events, POLICY, WEEK, until=history.last)
    assert standing is not None
    starts = set(leaves.alerts)  # every rule that fired, whether it led an alert or joined one
    assert alerts
    assert {(a.rule, a.raised_at) for a in alerts} <= starts
    fired = {rule for rule, rs in standing.memory.rules.items() if rs.last_raised_at is not None}
    assert fired == {rule for rule, _ in starts}
    state = CustomerState("leaves")
    for e in sorted(events, key=ev.event_order):
        if e.occurred_at <= cutoff:
            state = apply(state, e, POLICY)
    expected = score(state, POLICY, cutoff)
    assert expected is not None
    assert expected.score == leaves.readings[0].score
    assert (T0 + 100 * DAY,) == leaves.churns


def test_parallel_replay_equals_the_replay_in_one_process(tmp_path: Path) -> None:
    docs = []
    for c in range(240):  # enough customers for the process pool
        docs += [doc(d, f"c{c}", "session", d * (1 + c % 5), user_id="u") for d in range(6)]
    history = bt.read_files([write_jsonl(tmp_path / "h.jsonl", docs)])
    cutoffs = [T0 + 10 * DAY]
    one = bt.replay_history(history, POLICY, cutoffs, workers=1)
    two = bt.replay_history(history, POLICY, cutoffs, workers=2)
    assert sorted(one, key=lambda r: r.customer_id) == sorted(two, key=lambda r: r.customer_id)


def test_outcomes_come_from_churned_events_within_the_horizon(tmp_path: Path) -> None:
    history = bt.read_files([write_jsonl(tmp_path / "h.jsonl", history_docs())])
    cutoffs = [T0 + 20 * DAY, T0 + 60 * DAY]
    replayed = bt.replay_history(history, POLICY, cutoffs, workers=1)
    rows = bt.rows(replayed, 90 * DAY)
    got = {(r.customer_id, r.reading.cutoff): r.churned for r in rows}
    assert {
        ("keeps", cutoffs[0]): False,
        ("keeps", cutoffs[1]): False,
        ("leaves", cutoffs[0]): True,  # churns 80 days later
        ("leaves", cutoffs[1]): True,
    } == got
    assert {("leaves", cutoffs[0]): False} == {
        k: v
        for k, v in {
            (r.customer_id, r.reading.cutoff): r.churned for r in bt.rows(replayed, 30 * DAY)
        }.items()
        if k == ("leaves", cutoffs[0])
    }


def test_a_labels_file_gives_the_outcomes_and_leaves_out_the_unlabelled(tmp_path: Path) -> None:
    history = bt.read_files([write_jsonl(tmp_path / "h.jsonl", history_docs())])
    labels = tmp_path / "labels.csv"
    labels.write_text("customer_id,churned\nkeeps,1\n")
    replayed = bt.replay_history(history, POLICY, [T0 + 60 * DAY], workers=1)
    rows = bt.rows(replayed, 90 * DAY, bt.read_labels(labels))
    assert [("keeps", True)] == [(r.customer_id, r.churned) for r in rows]


def test_a_bad_labels_file_is_named(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("customer,churned\n")
    with pytest.raises(bt.BacktestError, match="header must name customer_id"):
        bt.read_labels(labels)
    labels.write_text("customer_id,churned\nx,maybe\n")
    with pytest.raises(bt.BacktestError, match=r"labels.csv:2: churned must be 1/0"):
        bt.read_labels(labels)


def test_the_report_measures_the_ranking_bands_rules_and_lead_time(tmp_path: Path) -> None:
    history = bt.read_files([write_jsonl(tmp_path / "h.jsonl", history_docs())])
    cutoffs = [T0 + 60 * DAY]
    replayed = bt.replay_history(history, POLICY, cutoffs, workers=1)
    report = bt.evaluate(history, replayed, POLICY, cutoffs, 90 * DAY, source="t", draws=50)
    assert 1.0 == report.score.auc  # the one who left scores lower
    assert (2, 1) == (report.rows, report.churners)
    inactivity = next(q for q in report.rules if q.rule == "inactivity")
    assert (1, 1.0, 1.0) == (inactivity.alerted, inactivity.precision, inactivity.recall)
    # lead time: from the first alert within the horizon before the churn (day 100)
    (leaves,) = [r for r in replayed if r.customer_id == "leaves"]
    first = min(at for _, at in leaves.alerts)
    assert T0 + 29 * DAY < first <= T0 + (29 + 14) * DAY  # no later than inactivity
    assert [(T0 + 100 * DAY - first) / DAY] == report.lead_days
    as_json = report.to_dict()
    assert {"score", "best_single_signal", "bands", "alert_rules"} <= as_json.keys()
    volume = as_json["alert_volume"]
    alerts = sum(len(r.episodes) for r in replayed)
    assert (alerts, sum(len(r.alerts) for r in replayed)) == (
        volume["alerts"],
        volume["rule_firings"],
    )
    assert 1 <= volume["alerts"] <= volume["rule_firings"]  # merging never adds an alert
    months = sum(r.span for r in replayed) / (30 * DAY)
    assert abs(volume["alerts_per_customer_month"] - alerts / months) < 1e-9


def test_cutoffs_default_to_a_horizon_before_the_end_and_refuse_a_short_history() -> None:
    history = bt.History()
    history.first, history.last = T0, T0 + 100 * DAY + 3600
    assert [T0 + 10 * DAY] == bt.default_cutoffs(history, 90 * DAY)
    with pytest.raises(bt.BacktestError, match="shorter than the horizon"):
        bt.default_cutoffs(history, 200 * DAY)


def test_dates_and_times_are_read_as_cutoffs() -> None:
    assert T0 == bt.parse_time("2026-01-01")
    with pytest.raises(bt.BacktestError, match="not a date"):
        bt.parse_time("yesterday")
