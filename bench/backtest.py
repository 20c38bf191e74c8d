"""`make bench-backtest`: `healthscore backtest` on about a million events, timed by phase.

The history is the churn simulator's (2,000 customers over 18 months: about 1,000,000 events),
written once to `.cache/data/simulated`. The baseline, measured in the same run, is reading and
decoding the same file with nothing else: the floor any backtest of it pays. Prints one table;
quote medians of several runs, the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from rich.table import Table

import bench
from scoring.decay import DAY
from stream.offline import backtest as bt
from stream.offline.datasets import simulate_churn
from stream.resources import load_policy

console = bench.console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--data", type=Path, default=Path(".cache") / "data" / "simulated")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    about = args.data / "about.json"
    if not about.is_file() or json.loads(about.read_text()).get("customers") != args.customers:
        with console.status(f"simulating {args.customers:,} customers"):
            simulate_churn(args.data, args.customers)
    meta = json.loads(about.read_text())
    path = args.data / "events.jsonl.gz"
    policy = load_policy()
    cutoffs = [bt.parse_time(c) for c in meta["cutoffs"]]

    t0 = time.perf_counter()
    history = bt.read_files([path])
    read = time.perf_counter() - t0
    t1 = time.perf_counter()
    replayed = bt.replay_history(history, policy, cutoffs, workers=args.workers)
    replay = time.perf_counter() - t1
    t2 = time.perf_counter()
    report = bt.evaluate(
        history, replayed, policy, cutoffs, meta["horizon_days"] * DAY, source=str(path)
    )
    measure = time.perf_counter() - t2
    total = read + replay + measure
    n = history.events
    table = Table(
        "phase",
        "seconds",
        "events/s",
        title=f"backtest of {n:,} events "
        f"({len(history.customers):,} customers, {os.cpu_count()} cores)",
    )
    table.add_row("baseline: read and decode only", f"{read:.1f}", f"{n / read:,.0f}")
    table.add_row("replay through scoring.timeline", f"{replay:.1f}", f"{n / replay:,.0f}")
    table.add_row("measures (AUC intervals, bands, rules)", f"{measure:.1f}", "")
    table.add_row("[bold]whole backtest[/]", f"{total:.1f}", f"{n / total:,.0f}")
    table.add_row("whole backtest / baseline", f"{total / read:.1f}x", "")
    console.print(table)
    console.print(f"health score AUC {report.score.auc:.3f}")
    volume = report.volume
    if volume is not None and volume.customer_months:
        console.print(
            f"alert volume: {volume.alerts:,} alerts, one per episode "
            f"({volume.per_month(volume.alerts):.2f} per customer-month), from "
            f"{volume.firings:,} rule firings ({volume.per_month(volume.firings):.2f}: what one "
            "alert per rule would send)"
        )


if __name__ == "__main__":
    main()
