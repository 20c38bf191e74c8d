"""`make bench`: the engine against the raw Kafka client on the same broker, in one run.

Prints one table: baseline and engine throughput and their ratio, produce-to-score latency at
fixed offered rates, Redis memory per customer and worker memory growth over a soak. Quote the
medians of several runs; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import orjson
import redis
from kafka import KafkaConsumer, TopicPartition
from rich.table import Table

import bench
from bench.baseline import baseline_rate
from bench.load import produce_mix
from bench.mixes import MIXES
from bench.stack import bench_stack
from stream.dev.ports import free_port_run
from stream.dev.simulate import ProduceStats, produce
from stream.dev.stack import StackOptions, status
from stream.dev.synthetic import CustomerBase, SyntheticEvent
from stream.settings import Settings
from stream.store import Keys, Record
from stream.topics import ensure_topics

# the checkout this bench runs from
ROOT = Path(bench.__file__).resolve().parent.parent

console = bench.console(stderr=True)
KINDS = ("usage", "support", "survey", "account")


class Worker:
    """One `healthscore worker` process with its own topics, group and Redis prefix."""

    def __init__(
        self,
        bootstrap: str,
        redis_url: str,
        tag: str,
        log_dir: Path,
        overrides: dict[str, str] | None = None,
        processes: int = 1,
    ) -> None:
        self.tag = tag
        self.processes = processes
        self.topics = {k: f"{tag}-{k}-events" for k in KINDS}
        self.port = free_port_run(processes)  # the workers take it and the ones after it
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHSCORE_")}
        self.env.update({f"HEALTHSCORE_TOPIC_{k.upper()}": v for k, v in self.topics.items()})
        self.env.update(
            {
                "HEALTHSCORE_TOPIC_SCORES": f"{tag}-health-scores",
                "HEALTHSCORE_TOPIC_ALERTS": f"{tag}-churn-alerts",
                "HEALTHSCORE_TOPIC_DLQ": f"{tag}-health-dlq",
                "HEALTHSCORE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "HEALTHSCORE_REDIS_URL": redis_url,
                "HEALTHSCORE_APP_ID": f"{tag}-group",
                "HEALTHSCORE_REDIS_KEY_PREFIX": tag,
                "HEALTHSCORE_WEB_PORT": str(self.port),
            }
        )
        self.env.update(overrides or {})  # `--set NAME=VALUE`, as HEALTHSCORE_<NAME>
        # the worker runs from its log directory: it imports this checkout (and its compiled
        # modules), not whichever one the environment installed, so two checkouts compare
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        self.bootstrap = bootstrap
        self.log = log_dir / f"{tag}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def settings(self) -> Settings:
        saved = dict(os.environ)
        try:
            os.environ.update(self.env)
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def create_topics(self) -> None:
        ensure_topics(self.settings())

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "stream.cli",
                    "worker",
                    "--loglevel",
                    "warning",
                    "--processes",
                    str(self.processes),
                ],
                env=self.env,
                cwd=self.log.parent,  # Faust's data directory lands there, not in the checkout
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"worker {self.tag} did not become ready; see {self.log}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def rss_bytes(self, field: str = "VmRSS") -> int:
        """The worker process's resident memory now (`VmHWM`: its peak so far)."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        match = re.search(rf"{field}:\s+(\d+) kB", status)
        return int(match.group(1)) * 1024 if match else 0

    def committed(self) -> tuple[int, int]:
        consumer = KafkaConsumer(
            bootstrap_servers=[self.bootstrap],
            group_id=f"{self.tag}-group",
            enable_auto_commit=False,
        )
        try:
            tps = [
                TopicPartition(t, p)
                for t in self.topics.values()
                for p in consumer.partitions_for_topic(t) or ()
            ]
            ends = consumer.end_offsets(tps)
            return sum(min(consumer.committed(tp) or 0, ends[tp]) for tp in tps), sum(ends.values())
        finally:
            consumer.close()

    def metric(self, name: str) -> dict[str, float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line.startswith(name):
                key, value = line.rsplit(" ", 1)
                out[key] = float(value)
        return out


def engine_rate(worker: Worker, total: int) -> float:
    """Steady-state events/s: committed progress between 10% and 90% of the stream; NaN when
    both were passed between two polls (too few events to time)."""
    marks: list[tuple[float, int]] = []
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        done, _ = worker.committed()
        marks.append((time.monotonic(), done))
        if done >= total:
            break
        time.sleep(0.25)
    lo = next((t, d) for t, d in marks if d >= 0.1 * total)
    hi = next((t, d) for t, d in marks if d >= 0.9 * total)
    if hi[0] <= lo[0]:
        return math.nan
    return (hi[1] - lo[1]) / (hi[0] - lo[0])


def rate_text(rate: float, total: int) -> str:
    """A measured rate for the table, or why there is none."""
    if math.isnan(rate):
        return f"too few events to time ({total:,} drained between two polls; raise --events)"
    return f"{rate:,.0f} events/s ({total:,} events)"


def quantiles(
    before: dict[str, float], after: dict[str, float], qs: tuple[float, ...]
) -> list[float]:
    """Quantiles from the difference of two scrapes of a Prometheus histogram (interpolated)."""
    buckets = []
    for key, value in after.items():
        m = re.search(r'le="([^"]+)"', key)
        if m and key.split("{")[0].endswith("_bucket"):
            buckets.append((float(m.group(1)), value - before.get(key, 0.0)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0.0
    out = []
    for q in qs:
        rank, prev_le, prev_c = q * total, 0.0, 0.0
        for le, c in buckets:
            if c >= rank:
                if le == float("inf"):
                    out.append(prev_le)
                    break
                frac = (rank - prev_c) / (c - prev_c) if c > prev_c else 0.0
                out.append(prev_le + frac * (le - prev_le))
                break
            prev_le, prev_c = le, c
        else:
            out.append(float("nan"))
    return out


def percentiles_text(values: list[float]) -> str:
    p50, p95, p99 = (v * 1000 for v in values)
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms"


def live_base(customers: int, seconds: float, *, seed: int, prefix: str) -> CustomerBase:
    """Customers whose events happen now, on the skewed mix: event time runs with the clock over
    `seconds`, as in live operation (the input topics then stay within the allowed lateness of
    each other). A day of event time squeezed into seconds would be a replay, not live traffic."""
    return CustomerBase(
        customers, seed=seed, start=time.time(), span_days=seconds / 86_400, prefix=prefix, skew=1.0
    )


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by processes `pids` and their waited children."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def service_pids(opts: StackOptions) -> list[int]:
    """The Kafka and Redis processes of the benchmark stack."""
    return [svc.pid for svc in status(opts).values() if svc.pid]


def latency_at(
    worker: Worker, rate: float, seconds: float, warmup: float
) -> tuple[list[float], list[float], float]:
    """Produce at `rate` events/s for `warmup` then `seconds` more, without a pause; return
    p50/p95/p99 produce-to-score of the events scored during the warm-up (a worker just
    started: its partitions just assigned, its record cache empty, every customer new to it,
    as after a rebalance), of those scored after it (the steady state), and the rate offered
    over the measured part."""
    name = "healthscore_event_to_score_seconds_bucket"
    start = worker.metric(name)
    base = live_base(20_000, warmup + seconds, seed=int(rate), prefix=f"lat{int(rate)}")
    events = list(base.events(int(rate * (warmup + seconds))))
    cut = int(rate * warmup)
    mid: dict[str, float] | None = None  # the histogram when the warm-up's events were fed
    cut_at = 0.0

    def at_cut(sent: int, now: float) -> None:
        nonlocal mid, cut_at
        if mid is None and sent >= cut:
            mid, cut_at = worker.metric(name), now

    paced(worker.bootstrap, worker.topics, events, rate, on_sent=at_cut)
    finished = time.monotonic()
    deadline = finished + 120
    while time.monotonic() < deadline:
        done, total = worker.committed()
        if done >= total:
            break
        time.sleep(0.5)
    end = worker.metric(name)
    assert mid is not None  # paced feeds every event, so the cut was passed
    offered = (len(events) - cut) / max(finished - cut_at, 1e-9)
    qs = (0.5, 0.95, 0.99)
    return quantiles(start, mid, qs), quantiles(mid, end, qs), offered


def paced(
    bootstrap: str,
    topics: dict[str, str],
    events: Iterable[SyntheticEvent],
    rate: float,
    on_sent: Callable[[int, float], None] | None = None,
) -> float:
    """Produce `events` at `rate` per second with kcat (one per topic, fed through its stdin
    every 10 ms), keyed and partitioned as the Java client does; return the rate offered.
    `on_sent(sent, monotonic time)` is told after each feed how many events were fed so far.

    The events are encoded first, so the pace is kcat's and the broker's, not this process's
    (a Python producer offers about 7,000 events/s beside a busy worker on two cores)."""
    lines = [(e.kind, e.customer_id.encode() + b"\t" + orjson.dumps(e.doc) + b"\n") for e in events]
    kcats = {
        kind: subprocess.Popen(
            [
                *("kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t"),
                *("-X", "partitioner=murmur2_random", "-X", "linger.ms=5"),
            ],
            stdin=subprocess.PIPE,
            bufsize=0,
        )
        for kind, topic in topics.items()
        if kind in KINDS
    }
    started = time.monotonic()
    sent = 0
    try:
        while sent < len(lines):
            due = min(len(lines), int((time.monotonic() - started) * rate) + 1)
            chunks: dict[str, list[bytes]] = {}
            for kind, line in lines[sent:due]:
                chunks.setdefault(kind, []).append(line)
            for kind, chunk in chunks.items():
                stdin = kcats[kind].stdin
                assert stdin is not None
                stdin.write(b"".join(chunk))
            sent = due
            if on_sent is not None:
                on_sent(sent, time.monotonic())
            time.sleep(0.01)
    finally:
        for proc in kcats.values():
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in kcats.values():
            if proc.wait(timeout=120) != 0:
                raise RuntimeError(f"kcat exited with {proc.returncode}")
    # until kcat has delivered the last message: what the broker was offered
    return len(lines) / max(time.monotonic() - started, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument(
        "--mix",
        action="append",
        choices=MIXES,
        help="mixes to measure end to end (repeatable; default: skewed, uniform, heavy)",
    )
    ap.add_argument(
        "--heavy-events",
        type=int,
        default=4_000_000,
        help="events of the heavy customer (4,000,000: 40 days at 100,000 a day)",
    )
    ap.add_argument(
        "--processes",
        type=int,
        default=2,
        help="also measure the skewed mix with this many worker processes (1: skip)",
    )
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--rates", default="2000,10000,20000,30000", help="offered rates for latency")
    ap.add_argument(
        "--latency-seconds", type=float, default=20.0, help="seconds measured at each rate"
    )
    ap.add_argument(
        "--latency-warmup",
        type=float,
        default=10.0,
        help="seconds of traffic at each rate before the measured ones, reported on their own",
    )
    ap.add_argument("--soak-minutes", type=float, default=10.0)
    ap.add_argument("--soak-rate", type=float, default=1000.0)
    ap.add_argument("--state-dir", type=Path, default=Path(".stack-bench"))
    ap.add_argument(
        "--keep-stack",
        action="store_true",
        help="leave the Kafka and Redis this run starts running when it ends",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a worker setting for this run, e.g. --set batch_max=5000 (repeatable)",
    )
    args = ap.parse_args()
    overrides: dict[str, str] = {}
    for item in args.set:
        name, eq, value = item.partition("=")
        if not eq or name.lower() not in Settings.model_fields:
            ap.error(f"--set {item!r}: expected NAME=VALUE with NAME a worker setting")
        overrides[f"HEALTHSCORE_{name.upper()}"] = value

    with bench_stack(console, args.state_dir, keep=args.keep_stack) as opts:
        run(args, opts, overrides)


def run(args: argparse.Namespace, opts: StackOptions, overrides: dict[str, str]) -> None:
    """The benchmark proper, on a stack that is up."""
    bootstrap = f"127.0.0.1:{opts.kafka_port}"
    redis_url = f"redis://127.0.0.1:{opts.redis_port}/0"
    client = redis.Redis.from_url(redis_url)
    logs = args.state_dir / "bench-logs"
    logs.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str]] = []

    base = 0.0
    single = 0.0
    for mix in args.mix or ["skewed", "uniform", "heavy"]:
        one = mix in ("heavy", "open_tickets")
        events = args.heavy_events if one else args.events
        rate, total, worker = throughput(args, opts, overrides, logs, client, mix, events, 1, rows)
        if not base:
            console.print("baseline: raw aiokafka consumer, JSON decode only")
            base = baseline_rate(bootstrap, list(worker.topics.values()), total)
            rows.insert(
                0, ("baseline: raw aiokafka consumer + JSON decode", f"{base:,.0f} events/s")
            )
        rows.append(
            (f"{mix}: engine / baseline", "-" if math.isnan(rate) else f"{rate / base:.1%}")
        )
        if mix == "skewed":
            single = rate
        if one:
            key = Keys(worker.tag).record("heavy-1" if mix == "heavy" else "tickets-1")
            rows.append((f"{mix}: the customer's stored record", f"{client.strlen(key):,} bytes"))
    if args.processes > 1 and single and not math.isnan(single):
        rate, _, _ = throughput(
            args, opts, overrides, logs, client, "skewed", args.events, args.processes, rows
        )
        rows.append((f"skewed: {args.processes} processes / one", f"{rate / single:.2f}x"))

    for rate in [float(r) for r in args.rates.split(",") if r]:
        lat_worker = Worker(bootstrap, redis_url, f"lat{uuid.uuid4().hex[:6]}", logs, overrides)
        lat_worker.create_topics()
        lat_worker.start()
        try:
            started, steady, offered = latency_at(
                lat_worker, rate, args.latency_seconds, args.latency_warmup
            )
        finally:
            lat_worker.stop()
        rows.append(
            (
                f"latency at {rate:,.0f}/s offered ({offered:,.0f}/s achieved), "
                f"after {args.latency_warmup:g} s",
                percentiles_text(steady),
            )
        )
        if args.latency_warmup > 0:
            rows.append(
                (
                    f"  its first {args.latency_warmup:g} s (a worker just started)",
                    percentiles_text(started),
                )
            )

    if args.soak_minutes > 0:
        soak = Worker(bootstrap, redis_url, f"soak{uuid.uuid4().hex[:6]}", logs, overrides)
        soak.create_topics()
        soak.start()
        seconds = args.soak_minutes * 60
        start = soak_start(math.floor(seconds / SOAK_EVERY) + 2, args.soak_rate)
        try:
            samples, ids = soak_rss(soak, client, args.soak_rate, seconds, start)
        finally:
            soak.stop()
        first, last = samples[min(start, len(samples) - 1)], samples[-1]
        rows.append(
            (
                f"worker RSS over a {args.soak_minutes:g}-minute soak at {args.soak_rate:,.0f}/s",
                f"{first / 2**20:,.0f} -> {last / 2**20:,.0f} MiB ({(last - first) / first:+.1%})",
            )
        )
        rows.append(
            (
                "  of which event ids remembered (at most dedupe_max_ids a customer)",
                f"{ids[0] / 2**20:,.1f} -> {ids[1] / 2**20:,.1f} MiB "
                f"({(ids[1] - ids[0]) / first:+.1%} of the RSS)",
            )
        )

    table = Table(
        "measure",
        "result",
        title=f"healthscore bench on {platform.node()} ({os.cpu_count()} cores)",
    )
    for k, v in rows:
        table.add_row(k, v)
    bench.console().print(table)


def throughput(
    args: argparse.Namespace,
    opts: StackOptions,
    overrides: dict[str, str],
    logs: Path,
    client: redis.Redis,
    mix: str,
    events: int,
    processes: int,
    rows: list[tuple[str, str]],
) -> tuple[float, int, Worker]:
    """Produce a mix, drain it with a worker of `processes` processes; add its rows."""
    bootstrap = f"127.0.0.1:{opts.kafka_port}"
    redis_url = f"redis://127.0.0.1:{opts.redis_port}/0"
    tag = f"bench{uuid.uuid4().hex[:6]}"
    worker = Worker(bootstrap, redis_url, tag, logs, overrides, processes=processes)
    worker.create_topics()
    console.print(f"{mix}: producing {events:,} events over {args.customers:,} customers")
    counts = produce_mix(
        bootstrap,
        {k: worker.topics[k] for k in KINDS},
        customers=args.customers,
        events=events,
        mix=mix,
    )
    total = sum(counts.values())
    client.flushdb()
    before_mem = int(client.info("memory")["used_memory"])
    services = service_pids(opts)
    cpu_before, wall_before = cpu_seconds(services), time.monotonic()
    console.print(f"{mix}: engine ({processes} process(es)): consume -> Redis -> score published")
    worker.start()
    rate = engine_rate(worker, total)
    peak = worker.rss_bytes("VmHWM") if processes == 1 else 0
    worker.stop()
    busy = (cpu_seconds(services) - cpu_before) / (time.monotonic() - wall_before)
    label = f"{mix}, {processes} worker processes" if processes > 1 else mix
    rows.append((f"{label}: engine end to end", rate_text(rate, total)))
    rows.append((f"{label}: Kafka + Redis CPU while it ran", f"{busy:.0%} of one core"))
    if peak:
        rows.append((f"{label}: worker peak RSS", f"{peak / 2**20:,.0f} MiB"))
    if mix in ("skewed", "uniform") and processes == 1:
        stored = sum(1 for _ in client.scan_iter(match=Keys(tag).record("*"), count=10_000))
        used = int(client.info("memory")["used_memory"]) - before_mem
        rows.append(
            (
                f"{mix}: Redis memory per customer ({stored:,} customers)",
                f"{used / max(1, stored):,.0f} bytes",
            )
        )
    return rate, total, worker


SOAK_CUSTOMERS = 10_000
SOAK_EVERY = 5.0  # seconds between two samples of the worker's memory


def soak_start(count: int, rate: float) -> int:
    """The sample growth is measured from: 10% into the soak, and never before every
    customer has been onboarded (the soak's first `SOAK_CUSTOMERS` events, then one more
    sample), since memory taken by customers arriving is not growth. A 1-minute soak at 1,000
    events/s thus starts at 15 s, not at 5 s in the middle of the arrivals.

    >>> soak_start(121, 1000.0), soak_start(13, 1000.0), soak_start(3, 1000.0)
    (12, 3, 2)
    """
    onboarded = math.ceil(SOAK_CUSTOMERS / rate / SOAK_EVERY) + 1
    return min(count - 1, max(count // 10, onboarded))


def soak_rss(
    worker: Worker, client: redis.Redis, rate: float, seconds: float, start: int
) -> tuple[list[int], tuple[int, int]]:
    """Feed the worker at a steady rate; sample its resident memory every `SOAK_EVERY` s.
    Also the bytes of event ids its customers remember (`remembered_ids`) at sample `start`
    (the end's, in a soak too short to reach it) and at the end: memory the state is meant to
    keep, growing until each customer holds `dedupe_max_ids` of them."""
    base = live_base(SOAK_CUSTOMERS, seconds, seed=3, prefix="soak")
    samples: list[int] = []
    ids = [-1, 0]
    next_sample = [time.monotonic()]

    def sample(_stats: ProduceStats) -> None:
        if time.monotonic() >= next_sample[0]:
            samples.append(worker.rss_bytes())
            next_sample[0] += SOAK_EVERY
            if len(samples) - 1 == start:
                ids[0] = remembered_ids(client, worker.tag)

    produce(worker.settings(), base.events(int(rate * seconds)), rate=rate, progress=sample)
    samples.append(worker.rss_bytes())
    ids[1] = remembered_ids(client, worker.tag)
    return samples, (ids[1] if ids[0] < 0 else ids[0], ids[1])


def remembered_ids(client: redis.Redis, tag: str) -> int:
    """The bytes of event ids the stored records remember, over every customer of `tag`."""
    keys = list(client.scan_iter(match=Keys(tag).record("*"), count=10_000))
    total = 0
    for i in range(0, len(keys), 10_000):
        for raw in client.mget(keys[i : i + 10_000]):
            state = Record.parse("", raw).state  # its ids are counted, its customer not needed
            if state is not None:
                total += len(state.seen)
    return total


if __name__ == "__main__":
    main()
