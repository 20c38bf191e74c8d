"""The holdout's estimate against the simulator's truth: the figures of docs/validation.md,
"Holdout: does acting on alerts save customers?".

For each seed and outreach effect: simulate a base where outreach makes that share of the paged
at-risk customers recover and a holdout keeps half the paged customers from it
(`stream.offline.datasets.simulate_churn`), estimate the effect from the written events alone
(`stream.offline.holdout.holdout_effects`, as `healthscore report` does) and set its 95%
interval beside the true effect, which the simulator knows. Prints a table and writes the lot
as JSON (`--json`).

    python -m bench.holdout --customers 2000 --seeds 1 2 3 4 5 --effects 0.5 0
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import bench
from stream.offline.holdout import check_on_simulator, checks_json, print_checks

console = bench.console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000, help="simulated customers")
    parser.add_argument("--days", type=int, default=540, help="days simulated")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--effects", type=float, nargs="+", default=[0.5, 0.0])
    parser.add_argument("--share", type=float, default=0.5, help="the share held out")
    parser.add_argument("--horizon-days", type=float, default=90.0)
    parser.add_argument("--data", type=Path, default=None, help="keep the data sets here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    checks = []
    with tempfile.TemporaryDirectory() as scratch:
        where = args.data if args.data is not None else Path(scratch)
        for effect in args.effects:
            checks += check_on_simulator(
                where,
                args.seeds,
                outreach_effect=effect,
                customers=args.customers,
                days=args.days,
                share=args.share,
                horizon_days=args.horizon_days,
            )
    print_checks(checks, console)
    rules = [r for c in checks for r in c.to_dict()["rules"] if r["covers"] is not None]
    covered = sum(1 for r in rules if r["covers"])
    redrawn = [c.redrawn for c in checks if c.redrawn is not None]
    console.print(
        f"every page: {sum(1 for c in checks if c.covers)} of {len(checks)} intervals cover "
        f"the true effect; per paging rule: {covered} of {len(rules)}; redrawn holdouts on the "
        f"same bases: {sum(redrawn) / max(1, len(redrawn)):.1%} on average. "
        f"{time.perf_counter() - started:.0f} s."
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(checks_json(checks))


if __name__ == "__main__":
    main()
