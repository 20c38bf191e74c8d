"""`healthscore dataset`, `backtest` and `calibrate` as a user runs them, on the simulator's
churn data and the public data sets (downloaded from PyPI once, cached in .cache/datasets)."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from stream.cli import app
from stream.codec import decode_event
from stream.offline.datasets import cdnow, saas, simulate_churn
from stream.resources import load_policy, resource

runner = CliRunner()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate_churn(out, customers=150, days=400, seed=5)
    return out


def test_the_simulator_writes_valid_contract_events_with_churn(simulated: Path) -> None:
    about = json.loads((simulated / "about.json").read_text())
    with gzip.open(simulated / "events.jsonl.gz", "rb") as fh:
        events = [decode_event(line.strip()) for line in fh]
    assert about["events"] == len(events)
    churns = [e for e in events if e.TYPE == "churned"]
    assert 10 < len(churns) < 150
    assert {"seed", "cutoffs", "horizon_days", "synthesised"} <= about.keys()


def test_backtest_prints_tables_and_writes_the_json_and_html_report(
    simulated: Path, tmp_path: Path
) -> None:
    report, results = tmp_path / "report.html", tmp_path / "results.json"
    result = runner.invoke(
        app,
        [
            "backtest",
            str(simulated / "events.jsonl.gz"),
            "--cutoff",
            "2025-10-01",
            "--horizon-days",
            "90",
            "--report",
            str(report),
            "--json",
            str(results),
        ],
    )
    assert 0 == result.exit_code, result.output
    assert "Does the score rank churners first?" in result.output
    data = json.loads(results.read_text())
    assert 0.5 < data["score"]["auc"] <= 1.0
    low, high = data["score"]["interval"]
    assert low <= data["score"]["auc"] <= high
    assert {b["band"] for b in data["bands"]} <= {"healthy", "at_risk", "critical"}
    page = report.read_text()
    assert page.count("<img src='data:image/png;base64,") >= 3
    assert "Churn per band" in page


def test_backtest_names_what_is_wrong(tmp_path: Path) -> None:
    result = runner.invoke(app, ["backtest", str(tmp_path / "missing.jsonl")])
    assert 2 == result.exit_code
    # the console wraps a long path anywhere (a deeper temporary directory, a parallel run's)
    assert "missing.jsonl:nosuchfile" in "".join(result.output.split())


def _calibrate(simulated: Path, where: Path, budget: float) -> tuple[Path, list[str], str, Any]:
    """`healthscore calibrate` on the simulated history, under the shipped policy with an alert
    budget: the written policy, the arguments, the console output, and the base policy."""
    base = yaml.safe_load(Path(str(resource("scoring.yaml"))).read_text())
    base["alerts"]["budget_per_customer_month"] = budget
    policy_file = where / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(base))
    out = where / "calibrated.yaml"
    args = [
        "calibrate",
        str(simulated / "events.jsonl.gz"),
        "--train-cutoff",
        "2025-07-01",
        "--validate-cutoff",
        "2025-10-01",
        "--horizon-days",
        "90",
        "--policy",
        str(policy_file),
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert 0 == result.exit_code, result.output
    return out, args, result.output, base


@pytest.fixture(scope="module")
def generous(simulated: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One calibration with a budget far above what the rules send (it is the slowest step of
    these tests in pure Python, so two tests read it)."""
    return _calibrate(simulated, tmp_path_factory.mktemp("generous"), 2.0)


def test_calibrate_writes_a_valid_policy_with_its_evidence_and_never_overwrites(
    generous: Any,
) -> None:
    out, args, _, _ = generous
    policy = load_policy(str(out))
    assert policy.calibration_for(None) is not None
    doc = yaml.safe_load(out.read_text())
    assert doc["fitted"]["split"] == "by time"
    assert doc["fitted"]["validation"]["auc_calibrated"] > 0.5
    again = runner.invoke(app, args)
    assert 2 == again.exit_code
    assert "exists: pass --force" in " ".join(again.output.split())
    shipped = runner.invoke(app, [*args[:-2], "--out", str(resource("scoring.yaml")), "--force"])
    assert 2 == shipped.exit_code
    assert "shipped default policy" in " ".join(shipped.output.split())


def _labels(path: Path) -> dict[str, str]:
    with path.open() as fh:
        return {r["customer_id"]: r["churned"] for r in csv.DictReader(fh)}


def test_the_cdnow_purchases_become_events_and_labels(tmp_path: Path) -> None:
    count = cdnow(tmp_path)
    labels = _labels(tmp_path / "labels.csv")
    assert 23_570 == len(labels)  # every customer bought first in the first quarter of 1997
    assert 23_570 + 69_659 == count  # an account event each, and every purchase
    churned = sum(1 for v in labels.values() if v == "1")
    assert 0.6 < churned / len(labels) < 0.8


def test_the_saas_aggregates_become_events_and_labels(tmp_path: Path) -> None:
    saas(tmp_path)
    labels = _labels(tmp_path / "labels.csv")
    assert 2_000 == len(labels)
    assert 932 == sum(1 for v in labels.values() if v == "1")
    about = json.loads((tmp_path / "about.json").read_text())
    assert "every event time" in about["synthesised"]


@pytest.mark.parametrize("budget", [0.1, 2.0])
def test_calibrate_meets_the_alert_budget_on_its_training_window(
    simulated: Path, tmp_path: Path, budget: float, request: pytest.FixtureRequest
) -> None:
    """A tight budget tightens the paging rules; a generous one loosens them to spend it."""
    from stream.offline.backtest import AlertVolume, read_files, replay_history
    from stream.offline.calibrate import window

    if budget == 2.0:
        out, _, output, base = request.getfixturevalue("generous")
    else:
        out, _, output, base = _calibrate(simulated, tmp_path, budget)
    assert f"alert budget {budget:g} per customer-month" in " ".join(output.split())
    doc = yaml.safe_load(out.read_text())
    alerts = doc["fitted"]["validation"]["alerts"]
    assert alerts["budget_met_on_training"] is True
    assert {r["rule"] for r in alerts["rules"]} >= {"any", "high_risk", "inactivity"}

    # replayed again here, under the written policy: the training window is within budget,
    # and under the fitted weights with the base thresholds it was not (the budget did work)
    history = read_files([simulated / "events.jsonl.gz"])
    train_at = 1751328000.0  # 2025-07-01
    training = window(history, train_at)

    def volume(policy_doc: dict[str, object]) -> float:
        from scoring.policy import parse_policy

        v = AlertVolume.of(replay_history(training, parse_policy(policy_doc, "t"), [], workers=1))
        per = v.per_month(v.alerts)
        assert per is not None
        return per

    assert volume(doc) <= budget
    own = {**doc, "alerts": base["alerts"]}
    if alerts["strictness"] > 0:  # tightened: the policy's own thresholds exceeded the budget
        assert volume(own) > budget
    else:  # kept or loosened to spend the budget: its own were within it, and sent no more
        assert volume(own) <= budget
        assert volume(own) <= volume(doc)
    # the paging rules were judged on the training window, and the written policy pages them
    assert doc["alerts"]["page"] == alerts["paging"]
    assert {r["rule"] for r in alerts["stopped_paging"]}.isdisjoint(alerts["paging"])
    if budget >= 1:  # far more than the rules send: never tightened; loosened unless the
        # precision floor stopped it at the policy's own thresholds
        assert alerts["strictness"] <= 0
        if alerts["strictness"] < 0:
            assert doc["alerts"]["inactivity_odds"] < base["alerts"]["inactivity_odds"]
