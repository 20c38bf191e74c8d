"""`make bench-pages`: the managers' pages served by a worker at 100,000 customers.

Customer records come from replaying simulated customers through the scoring fold (their
states, alert memories and 90-day histories), written under 100,000 ids with their places on
the score board and on 50 owners' boards. A worker (idle: no events) then serves each page
repeatedly; the table gives the median and 95th percentile of the time to the last byte. The
baseline, measured in the same run, is the Redis reads a page needs (the board range and its
records) from this process, without rendering or HTTP. Quote medians: the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import time
import urllib.request
from pathlib import Path

import orjson
import redis
from rich.table import Table

import bench
from bench.run import Worker
from bench.stack import bench_stack
from scoring.decay import DAY
from scoring.events import Event
from scoring.health import score
from scoring.timeline import replay
from stream.codec import decode_event
from stream.dev.synthetic import CustomerBase
from stream.resources import load_policy
from stream.store import Keys, Record, board_value
from stream.store.record import Evaluation

console = bench.console()
OWNERS = 50


def templates(count: int, policy_file: str | None = None) -> list[Record]:
    """Simulated customers lived through 120 days of events: realistic stored records."""
    policy = load_policy(policy_file)
    base = CustomerBase(count, seed=11, span_days=120, prefix="tpl")
    by_customer: dict[str, list[Event]] = {}
    for e in base.events(count * 150):
        event = decode_event(orjson.dumps(e.doc))
        by_customer.setdefault(e.customer_id, []).append(event)
    out = []
    for i, (cid, events) in enumerate(sorted(by_customer.items())):
        standing, _ = replay(events, policy, 7 * DAY)
        if standing is None:
            continue
        rec = Record(cid, version=1, partition=i % 4)
        rec.settle(standing)
        end = standing.state.clock or 0.0
        for day in range(90, -1, -1):  # the daily history a live worker would have kept
            h = score(standing.state, policy, end - day * DAY)
            if h is not None:
                rec.note_trend(h.as_of, h.score)
        h = score(standing.state, policy, end)
        if h is None:
            continue
        rec.evaluated = Evaluation(h.as_of, h.score, h.band, None)
        out.append(rec)
    return out


def fill(client: redis.Redis, keys: Keys, recs: list[Record], customers: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(customers):
        t = recs[i % len(recs)]
        cid = f"cust-{i:06d}"
        value = board_value(t.band() or "healthy", t.score() or 0.0)
        pipe.set(keys.record(cid), b"1|" + t.dump())
        pipe.zadd(keys.board(), {cid: value})
        pipe.zadd(keys.owner_board(f"csm-{i % OWNERS}"), {cid: value})
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()


def timed(url: str, n: int) -> list[float]:
    out = []
    for i in range(n + 3):
        t = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 - http://127.0.0.1
            r.read()
        if i >= 3:  # three warm-ups
            out.append((time.perf_counter() - t) * 1000)
    return out


def baseline(client: redis.Redis, keys: Keys, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        ids: list[bytes] = client.zrange(keys.board(), 0, 49)  # type: ignore[assignment]
        client.mget([keys.record(c.decode()) for c in ids])
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--templates", type=int, default=300)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args()
    with bench_stack(console, args.state_dir) as opts:
        tag = f"pages{int(time.time())}"
        client = redis.Redis(port=opts.redis_port)
        keys = Keys(tag)
        with console.status("replaying template customers"):
            recs = templates(args.templates)
        with console.status(f"writing {args.customers:,} customers"):
            fill(client, keys, recs, args.customers)
        on_board = client.zcard(keys.board())
        if on_board != args.customers:
            raise SystemExit(f"{on_board:,} customers on the board, not {args.customers:,}")
        console.print(
            f"{args.customers:,} customers from {len(recs)} replayed templates, "
            f"{client.info('memory')['used_memory_human']} of Redis"
        )
        logs = opts.state_dir / "bench-logs"
        logs.mkdir(parents=True, exist_ok=True)
        worker = Worker(opts.bootstrap, f"redis://127.0.0.1:{opts.redis_port}/0", tag, logs)
        worker.start()
        try:
            base = f"http://127.0.0.1:{worker.port}"
            middle = f"cust-{args.customers // 2:06d}"
            pages = [
                ("portfolio, first 50", f"{base}/portfolio"),
                ("portfolio, 50 from the middle", f"{base}/portfolio?offset={args.customers // 2}"),
                ("one owner's portfolio", f"{base}/portfolio?owner=csm-7"),
                ("customer page", f"{base}/customers/{middle}"),
                ("customer history (JSON)", f"{base}/customers/{middle}/history"),
            ]
            table = Table(
                "page",
                "median ms",
                "p95 ms",
                title=f"pages at {args.customers:,} customers ({args.requests} requests each)",
            )
            raw = baseline(client, keys, args.requests)
            table.add_row(
                "baseline: board range + 50 records from Redis",
                f"{statistics.median(raw):.1f}",
                f"{sorted(raw)[int(len(raw) * 0.95) - 1]:.1f}",
            )
            with urllib.request.urlopen(pages[0][1], timeout=30) as r:  # noqa: S310 - loopback
                first = r.read().decode()
            if f"of {args.customers:,}" not in first:
                raise SystemExit("the portfolio page does not count every customer")
            for name, url in pages:
                ms = timed(url, args.requests)
                table.add_row(
                    name,
                    f"{statistics.median(ms):.1f}",
                    f"{sorted(ms)[int(len(ms) * 0.95) - 1]:.1f}",
                )
            console.print(table)
        finally:
            worker.stop()
            client.delete(keys.board())


if __name__ == "__main__":
    main()
