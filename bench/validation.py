"""`make validation`: the figures of docs/validation.md, measured again.

For each data set (the two public ones, downloaded from PyPI and cached, and the simulator): one
replay through the scoring core at the data set's cutoffs under the shipped policy; the default
model's churn AUC with its bootstrap interval, churn per band and the best plain signal on all
rows; then `healthscore calibrate`'s fit on the training rows and both models' AUC on the held-out
validation rows. Prints a table per data set and writes the lot as JSON (`--json`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import yaml
from rich.table import Table

import bench
from scoring.decay import DAY
from stream.offline import backtest as bt
from stream.offline.calibrate import calibrate
from stream.offline.datasets import LOCAL, cdnow, saas, simulate_churn
from stream.resources import load_policy, resource

console = bench.console()


def build(name: str, root: Path, customers: int) -> Path:
    out = root / name
    if not (out / "about.json").is_file():
        with console.status(f"building {name}"):
            if name == "simulated":
                simulate_churn(out, customers)
            elif name in LOCAL:
                raise SystemExit(
                    f"{name} is not on PyPI: build it first with "
                    f"`healthscore dataset {name} --from FILE --out {out}` ({LOCAL[name][1]})"
                )
            else:
                {"cdnow": cdnow, "saas": saas}[name](out)
    return out


def _auc(auc: float | None, interval: tuple[float, float] | list[float] | None) -> str:
    if auc is None:
        return "-"
    return f"{auc:.3f}" + (f" ({interval[0]:.3f}-{interval[1]:.3f})" if interval else "")


def measure(name: str, folder: Path, draws: int) -> dict[str, Any]:
    about = json.loads((folder / "about.json").read_text())
    policy = load_policy()
    base = yaml.safe_load(Path(str(resource("scoring.yaml"))).read_text())
    horizon = float(about["horizon_days"]) * DAY
    cutoffs = [bt.parse_time(c) for c in about.get("cutoffs") or [about["cutoff"]]]
    labels_file = folder / "labels.csv"
    labels = bt.read_labels(labels_file) if labels_file.is_file() else None
    started = time.perf_counter()
    history = bt.read_files([folder / "events.jsonl.gz"])
    replayed = bt.replay_history(history, policy, cutoffs)
    seconds = time.perf_counter() - started
    report = bt.evaluate(
        history, replayed, policy, cutoffs, horizon, source=name, labels=labels, draws=draws
    )
    table = report.table
    validate_at = cutoffs[-1]
    train_at = cutoffs[-2] if len(cutoffs) > 1 else cutoffs[-1]
    fitted = calibrate(
        table,
        policy,
        base,
        train_cutoff=train_at,
        validate_cutoff=validate_at,
        horizon=horizon,
        sources=[name],
        draws=draws,
    )
    assert fitted.document is not None
    summary = report.to_dict()
    truth = folder / "truth.csv"
    if truth.is_file():
        summary["oracle"] = oracle(truth, table)
    summary.update(
        {
            "replay_seconds": seconds,
            "about": about,
            "validation": fitted.document["fitted"],
            "calibrated_weights": {
                "segments": fitted.document["segments"],
                "usage": fitted.document["usage"]["weights"],
            },
        }
    )
    return summary


def oracle(truth: Path, table: list[bt.Row]) -> dict[str, Any]:
    """The best any model could do on the simulator: its hidden state at the cutoff (started to
    disengage, and will not recover) as the predictor. Churn that starts after the cutoff, and
    churn for no visible reason, stay unforeseeable."""
    import csv

    from scoring.evaluation import auc_interval, churn_auc

    hidden: dict[str, tuple[float | None, bool]] = {}
    with truth.open() as fh:
        for r in csv.DictReader(fh):
            at = bt.parse_time(r["declines_at"]) if r["declines_at"] else None
            hidden[r["customer_id"]] = (at, r["recovers"] == "1")
    values, churned = [], []
    for row in table:
        at, recovers = hidden[row.customer_id]
        disengaging = at is not None and at <= row.reading.cutoff and not recovers
        values.append(0.0 if disengaging else 1.0)
        churned.append(row.churned)
    return {"auc": churn_auc(values, churned), "interval": auc_interval(values, churned)}


def show(name: str, s: dict[str, Any]) -> None:
    v = s["validation"]["validation"]
    t = Table(
        "measure",
        "value",
        title=f"{name}: {s['events']:,} events, {s['customers']:,} "
        f"customers, {s['rows']:,} scored, {s['churn_rate'] * 100:.1f}% churned",
    )
    t.add_row("default model, all rows", _auc(s["score"]["auc"], s["score"]["interval"]))
    best = s["best_single_signal"]
    t.add_row(f"best plain signal: {best['name']}", _auc(best["auc"], best["interval"]))
    t.add_row(
        f"validation rows ({s['validation']['split']})", str(s["validation"]["validate_customers"])
    )
    t.add_row(
        "default model, validation", _auc(v["auc_base_policy"], v["auc_base_policy_interval"])
    )
    t.add_row("calibrated, validation", _auc(v["auc_calibrated"], v["auc_calibrated_interval"]))
    t.add_row("calibrated probability, Brier score", f"{v['brier_score']:.3f}")
    for b in s["bands"]:
        t.add_row(
            f"churn rate, {b['band']}",
            f"{b['rate'] * 100:.1f}% of {b['customers']:,} (lift {b['lift']:.2f}x)",
        )
    if "oracle" in s:
        t.add_row(
            "oracle: the simulator's hidden state",
            _auc(s["oracle"]["auc"], s["oracle"]["interval"]),
        )
    t.add_row("replay", f"{s['replay_seconds']:.1f} s")
    console.print(t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path(".cache") / "data")
    parser.add_argument("--sets", nargs="+", default=["cdnow", "saas", "simulated"])
    parser.add_argument("--customers", type=int, default=2000, help="simulated customers")
    parser.add_argument("--draws", type=int, default=500, help="bootstrap draws")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = {}
    for name in args.sets:
        results[name] = measure(name, build(name, args.data, args.customers), args.draws)
        show(name, results[name])
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
