"""The engine's event path in one process, with no Kafka and no Redis: the ceiling of one worker.

Messages from the synthetic customer base are decoded, grouped by customer, their records read
from and written to a dict in the stored form, and applied, scored and evaluated by the engine,
in batches like the worker's. Prints microseconds per event for each step. `make bench-core`.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import orjson
from rich.console import Console
from rich.table import Table

from config import load_policy
from scoring.events import Event
from stream.app import tune_garbage_collector
from stream.contract import INPUT_TOPICS
from stream.engine import BatchResult, DeadLetter, Engine, Incoming, Outputs
from stream.settings import Settings
from stream.store import Record
from stream.synthetic import CustomerBase

STEPS = ("decode", "read record", "apply, score, alerts", "write record")


def messages(events: int, customers: int) -> list[Incoming]:
    base = CustomerBase(customers, seed=7, span_days=1.0, prefix="b")
    topics: dict[str, str] = {str(k): v for k, v in INPUT_TOPICS.items()}
    now = time.time()
    return [
        Incoming(
            topics[e.kind],
            hash(e.customer_id) % 4,
            i,
            e.customer_id.encode(),
            orjson.dumps(e.doc),
            now,
        )
        for i, e in enumerate(base.events(events))
    ]


def run_once(msgs: list[Incoming], batch: int) -> dict[str, float]:
    """Seconds spent in each step over all messages."""
    engine = Engine(Settings(), load_policy(), None, None)  # type: ignore[arg-type]
    stored: dict[str, bytes] = {}
    spent = dict.fromkeys(STEPS, 0.0)
    clock = time.perf_counter
    for start in range(0, len(msgs), batch):
        t0 = clock()
        decoded = engine.decode(msgs[start : start + batch])
        by_customer: dict[str, list[tuple[Incoming, Event]]] = {}
        for msg, event in decoded:
            if not isinstance(event, DeadLetter):
                by_customer.setdefault(event.customer_id, []).append((msg, event))
        t1 = clock()
        records = {cid: Record.parse(cid, stored.get(cid)) for cid in by_customer}
        t2 = clock()
        out, result = Outputs(), BatchResult()
        for cid, items in by_customer.items():
            engine._apply_events(records[cid], items, out, result)
        t3 = clock()
        for cid, rec in records.items():
            stored[cid] = b"%d|" % (rec.version + 1) + rec.dump()
        t4 = clock()
        for step, seconds in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            spent[step] += seconds
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    console = Console()
    console.print(f"generating {args.events:,} events over {args.customers:,} customers")
    msgs = messages(args.events, args.customers)
    tune_garbage_collector()  # as the worker does
    runs = []
    for i in range(args.runs):
        runs.append(run_once(msgs, args.batch))
        gc.collect()
        total = sum(runs[-1].values())
        console.print(f"run {i + 1}: {len(msgs) / total:,.0f} events/s")
    table = Table(title=f"event path in one process, {len(msgs):,} messages, median of runs")
    table.add_column("step")
    table.add_column("us per event", justify="right")
    for step in STEPS:
        table.add_row(step, f"{statistics.median(r[step] for r in runs) / len(msgs) * 1e6:.1f}")
    rate = statistics.median(len(msgs) / sum(r.values()) for r in runs)
    table.add_row("all (events/s)", f"{rate:,.0f}")
    console.print(table)


if __name__ == "__main__":
    main()
