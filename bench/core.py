"""The engine's event path in one process, with no Kafka and no Redis: the ceiling of one worker.

Messages of each mix (`bench.mixes`) are decoded, grouped by customer, their records taken from
the worker's record cache (`stream.store.cache`, `HEALTHSCORE_RECORD_CACHE_SIZE`) or read from a
dict in the stored form on a miss, folded (`stream.worker.fold`), and written to the dict in
the stored form, in batches like the worker's. Prints microseconds per event for each step,
events/s, and the size of the stored records. `make bench-core`. Run on the compiled core, it
then runs itself again on the pure-Python one (`--build pure`), so both builds' figures come
from the same run.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time

import orjson
from rich.table import Table

import bench
import scoring.state
from bench.mixes import MIXES, mix
from stream.app import tune_garbage_collector
from stream.contract import INPUT_TOPICS
from stream.dev.builds import PURE_VARIABLE, build_of
from stream.messages import Incoming
from stream.resources import load_policy
from stream.settings import Settings
from stream.store import Record
from stream.worker.engine import Engine, fold_options
from stream.worker.fold import by_customer, fold

STEPS = ("decode", "read record", "fold (apply, score, alerts)", "write record")


def messages(name: str, events: int, customers: int) -> list[Incoming]:
    topics: dict[str, str] = {str(k): v for k, v in INPUT_TOPICS.items()}
    now = time.time()
    return [
        Incoming(
            topics[e.kind],
            hash(e.customer_id) % 4,
            i,
            e.customer_id.encode(),
            # a copy: orjson's own result keeps a 4 KiB allocation behind it
            memoryview(orjson.dumps(e.doc)).tobytes(),
            now,
        )
        for i, e in enumerate(mix(name, events, customers))
    ]


def run_once(
    msgs: list[Incoming], batch: int, settings: Settings, warm: int = 0
) -> tuple[dict[str, float], dict[str, bytes]]:
    """Seconds spent in each step over all messages but the first `warm` (folded untimed: the
    onboarding of every customer), and the records stored at the end."""
    policy = load_policy()
    engine = Engine(settings, policy, None, None)  # type: ignore[arg-type]
    options = fold_options(settings)
    stored: dict[str, bytes] = {}
    cache = engine.cache  # the records kept between batches, as the worker keeps them
    spent = dict.fromkeys(STEPS, 0.0)
    clock = time.perf_counter
    for start in range(0, len(msgs), batch):
        t0 = clock()
        groups, _dead = by_customer(engine.decode(msgs[start : start + batch]))
        t1 = clock()
        records, missing = cache.take(groups)
        for cid in missing:
            records[cid] = Record.parse(cid, stored.get(cid))
        t2 = clock()
        out = fold(records, groups, policy, options)
        t3 = clock()
        for rec in out.changed:
            stored[rec.customer_id] = b"%d|" % (rec.version + 1) + rec.dump()
            rec.version += 1
        cache.keep(records.values(), cache.generation)
        t4 = clock()
        if start >= warm:
            for step, seconds in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                spent[step] += seconds
    return spent, stored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument(
        "--heavy-events",
        type=int,
        default=4_000_000,
        help="events of the one-customer mixes (4,000,000: 40 days at 100,000 a day)",
    )
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mix", action="append", choices=MIXES, help="repeatable; default: all")
    ap.add_argument("--every-event", action="store_true", help="evaluate after every event")
    ap.add_argument(
        "--build",
        choices=("both", "this"),
        default="both",
        help="both: the compiled core, then the pure-Python one; this: the one imported",
    )
    args = ap.parse_args()
    console = bench.console()
    settings = Settings(evaluate_every_event=args.every_event)
    build = build_of(scoring.state)
    table = Table(
        title=f"event path in one process (no Kafka, no Redis), {build} core, median of runs"
    )
    for column in ("mix", "timed events", *STEPS, "us/event", "events/s", "record bytes"):
        table.add_column(column, justify="right")
    tune_garbage_collector()  # as the worker does
    for name in args.mix or MIXES:
        one = name in ("heavy", "open_tickets")
        n = args.heavy_events if one else args.events
        console.print(f"{name}: generating {n:,} events")
        msgs = messages(name, n, args.customers)
        warm = 0 if one else args.customers  # one account_updated per customer comes first
        timed = len(msgs) - warm
        runs = []
        stored: dict[str, bytes] = {}
        for i in range(1 if one else args.runs):
            spent, stored = run_once(msgs, args.batch, settings, warm)
            runs.append(spent)
            gc.collect()
            console.print(f"  run {i + 1}: {timed / sum(spent.values()):,.0f} events/s")
        sizes = sorted(len(v) for v in stored.values())
        size = f"{sizes[-1]:,} (one)" if one else f"{statistics.median(sizes):,.0f} median"
        per = [statistics.median(r[s] for r in runs) / timed * 1e6 for s in STEPS]
        rate = statistics.median(timed / sum(r.values()) for r in runs)
        table.add_row(
            name,
            f"{timed:,}",
            *(f"{x:.1f}" for x in per),
            f"{1e6 / rate:.1f}",
            f"{rate:,.0f}",
            size,
        )
    console.print(table)
    if args.build == "both" and build == "compiled":
        console.print("the same on the pure-Python core:")
        again = [a for a in sys.argv[1:] if not a.startswith("--build") and a != args.build]
        env = {**os.environ, PURE_VARIABLE: "1"}
        command = [sys.executable, "-m", "bench.core", *again, "--build", "this"]
        subprocess.run(command, env=env, check=True)


if __name__ == "__main__":
    main()
