"""`healthscore dataset`, `backtest` and `calibrate` as a user runs them, on the simulator's
churn data and the public data sets (downloaded from PyPI once, cached in .cache/datasets)."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from scoring.decay import DAY
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


def test_labels_without_churn_times_and_no_cutoff_say_where_they_were_read(
    simulated: Path, tmp_path: Path
) -> None:
    """Labels without times may describe a horizon within the history or what came after it:
    without a cutoff the backtest says which it assumed and when the history ends."""
    events = str(simulated / "events.jsonl.gz")
    with gzip.open(simulated / "events.jsonl.gz", "rb") as fh:
        ids = sorted({decode_event(line.strip()).customer_id for line in fh})
    timeless, timed = tmp_path / "timeless.csv", tmp_path / "timed.csv"
    timeless.write_text(
        "customer_id,churned\n" + "".join(f"{c},{i % 2}\n" for i, c in enumerate(ids))
    )
    timed.write_text(
        "customer_id,churned,churned_at\n"
        + "".join(f"{c},{i % 2},{'2026-01-15' if i % 2 else ''}\n" for i, c in enumerate(ids))
    )
    said = runner.invoke(app, ["backtest", events, "--labels", str(timeless)])
    assert 0 == said.exit_code, said.output
    text = " ".join(said.output.split())
    assert "the labels carry no churn times" in text
    assert "pass --cutoff with the date they count from" in text
    for args in (["--labels", str(timeless), "--cutoff", "2025-10-01"], ["--labels", str(timed)]):
        quiet = runner.invoke(app, ["backtest", events, *args])
        assert 0 == quiet.exit_code, quiet.output
        assert "no churn times" not in " ".join(quiet.output.split())


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
    # the training precision at the choice, and the bound the floor was judged by, below it
    assert 0 < alerts["training_precision_assured"] < alerts["training_precision"] <= 1
    said = " ".join(output.split())
    assert "precision there" in said
    assert "on new customers (95%)" in said
    assert f"holds {alerts['paging_target_precision']:.1%} on new customers" in said

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


_BANK_HEADER = (
    "CLIENTNUM,Attrition_Flag,Customer_Age,Card_Category,Months_on_book,Total_Relationship_Count,"
    "Months_Inactive_12_mon,Contacts_Count_12_mon,Total_Revolving_Bal,Total_Trans_Amt,"
    "Total_Trans_Ct,Total_Ct_Chng_Q4_Q1"
)
_BANK_ROWS = [
    "768805383,Existing Customer,45,Blue,39,5,1,3,777,1144,42,1.625",
    "Client number,the flag,age,card,months,products,months,contacts,balance,amount,count,q4/q1",
    "713061558,Attrited Customer,44,Gold,36,2,3,4,0,960,24,0.5",
]
_IRAN_HEADER = (
    "Call  Failure,Complains,Subscription  Length,Charge  Amount,Seconds of Use,Frequency of use,"
    "Frequency of SMS,Distinct Called Numbers,Age Group,Tariff Plan,Status,Age,Customer Value,Churn"
)
_IRAN_ROWS = ["8,0,38,0,4370,71,5,17,3,1,1,30,197.64,0", "0,1,6,0,318,5,7,4,2,2,2,25,46.035,1"]


def _converted(name: str, header: str, rows: list[str], tmp_path: Path) -> list[Any]:
    source = tmp_path / f"{name}.csv"
    source.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["dataset", name, "--from", str(source), "--out", str(tmp_path / name)]
    )
    assert 0 == result.exit_code, result.output
    with gzip.open(tmp_path / name / "events.jsonl.gz", "rb") as fh:
        return [decode_event(line.strip()) for line in fh]  # each a valid contract message


def test_the_bank_churners_aggregates_become_a_year_of_events(tmp_path: Path) -> None:
    events = _converted("bank-churners", _BANK_HEADER, _BANK_ROWS, tmp_path)
    labels = _labels(tmp_path / "bank-churners" / "labels.csv")
    assert {"bank-768805383": "0", "bank-713061558": "1"} == labels  # the description row skipped
    first = [e for e in events if e.customer_id == "bank-768805383"]
    used = [e for e in first if e.TYPE == "feature_used"]
    assert 40 <= len(used) <= 44  # 42 transactions, each month's share rounded
    assert 3 == sum(1 for e in first if e.TYPE == "ticket_opened")  # the contacts
    assert {e.feature for e in used} <= {f"product-{j}" for j in range(5)}
    # more transactions in the last quarter than in the first (Q4/Q1 1.625), none after the cutoff
    start, cutoff = min(e.occurred_at for e in used), datetime(2021, 1, 1, tzinfo=UTC).timestamp()
    q1 = sum(1 for e in used if e.occurred_at < cutoff - 270 * DAY)
    q4 = sum(1 for e in used if e.occurred_at >= cutoff - 90 * DAY)
    assert q4 > q1
    assert max(e.occurred_at for e in used) < cutoff <= start + 360 * DAY


def test_the_iranian_churn_aggregates_become_events_and_a_non_active_status_a_silence(
    tmp_path: Path,
) -> None:
    events = _converted("iranian-churn", _IRAN_HEADER, _IRAN_ROWS, tmp_path)
    assert {"iran-00000": "0", "iran-00001": "1"} == _labels(
        tmp_path / "iranian-churn" / "labels.csv"
    )
    cutoff = datetime(2021, 1, 1, tzinfo=UTC).timestamp()
    active = [e for e in events if e.customer_id == "iran-00000" and e.TYPE == "feature_used"]
    assert 71 + 5 == len(active)  # calls and text messages
    silent = [e for e in events if e.customer_id == "iran-00001" and e.TYPE == "feature_used"]
    assert 5 + 7 == len(silent)
    assert max(e.occurred_at for e in silent) <= cutoff - 30 * DAY
    assert min(e.occurred_at for e in silent) >= cutoff - 6 * 30 * DAY  # subscribed 6 months
    assert any(e.TYPE == "ticket_escalated" for e in events if e.customer_id == "iran-00001")


def test_a_set_not_on_pypi_asks_for_its_file_and_names_a_missing_column(tmp_path: Path) -> None:
    result = runner.invoke(app, ["dataset", "bank-churners", "--out", str(tmp_path / "b")])
    assert 2 == result.exit_code
    assert "--from" in result.output
    assert "BankChurners.csv" in result.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("CLIENTNUM,Attrition_Flag\n1,Existing Customer\n", encoding="utf-8")
    result = runner.invoke(
        app, ["dataset", "bank-churners", "--from", str(wrong), "--out", str(tmp_path / "b")]
    )
    assert 2 == result.exit_code
    assert "Total_Trans_Ct" in " ".join(result.output.split())
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "\n".join([_BANK_HEADER, _BANK_ROWS[0].replace(",42,", ",many,")]) + "\n", encoding="utf-8"
    )
    result = runner.invoke(
        app, ["dataset", "bank-churners", "--from", str(broken), "--out", str(tmp_path / "b")]
    )
    assert 2 == result.exit_code
    assert "many" in result.output
