"""The live demo: a worker and the simulator against the local stack, with a live table."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import redis
from kafka import KafkaConsumer, TopicPartition
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from stream.settings import Settings
from stream.simulate import ProduceStats, produce
from stream.store import as_text
from stream.synthetic import CustomerBase


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our loopback worker
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the worker did not answer {url} within {timeout:.0f}s")


def dead_letters(settings: Settings) -> int:
    """Count the messages on the dead-letter topic (sum of its end offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_list)
    try:
        parts = consumer.partitions_for_topic(settings.topic_dlq) or set()
        tps = [TopicPartition(settings.topic_dlq, p) for p in parts]
        return sum(consumer.end_offsets(tps).values()) if tps else 0
    finally:
        consumer.close()


def _table(client: redis.Redis, settings: Settings, stats: ProduceStats, dlq: int) -> Group:
    rows = []
    for key in client.scan_iter(match=f"{settings.redis_key_prefix}:{{*}}:counts", count=1000):
        counts = {as_text(k): int(v) for k, v in client.hgetall(key).items()}
        rows.append((as_text(key).split("{", 1)[1].split("}", 1)[0], counts))
    applied = sum(c.get("total", 0) for _, c in rows)
    rows.sort(key=lambda r: -r[1].get("total", 0))
    table = Table(
        "customer",
        "events",
        "usage",
        "tickets opened",
        "surveys",
        title="busiest customers (events counted in Redis)",
    )
    for cid, c in rows[:10]:
        usage = c.get("session", 0) + c.get("feature_used", 0) + c.get("seat_snapshot", 0)
        surveys = c.get("nps", 0) + c.get("csat", 0) + c.get("ces", 0)
        table.add_row(
            cid, str(c.get("total", 0)), str(usage), str(c.get("ticket_opened", 0)), str(surveys)
        )
    summary = Table.grid(padding=(0, 2))
    summary.add_row(
        f"produced: {stats.sent}",
        f"({stats.rate:,.0f}/s)",
        f"applied in Redis: {applied}",
        f"customers: {len(rows)}",
        f"dead letters: {dlq}",
    )
    return Group(summary, table)


def run_demo(
    settings: Settings, *, duration: float, customers: int, rate: float, console: Console
) -> None:
    """Run worker and simulator for `duration` seconds, showing counts as they grow."""
    log_path = Path(".stack") / "demo-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"worker: starting (log in {log_path})")
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stream.cli", "worker"], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_http(f"http://{settings.web_host}:{settings.web_port}/healthz", 60, proc)
        console.print("worker: up; simulating")
        base = CustomerBase(customers, seed=int(time.time()), span_days=30)
        deadline = time.monotonic() + duration

        latest = {"stats": ProduceStats()}

        def feed() -> None:
            produce(
                settings,
                base.events(10**9),
                rate=rate,
                malformed_every=250,
                deadline=deadline,
                progress=lambda s: latest.update(stats=s),
            )

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        client = redis.Redis.from_url(settings.redis_url.get_secret_value())
        with Live(console=console, refresh_per_second=2) as live:
            while feeder.is_alive() or time.monotonic() < deadline + 3:
                live.update(_table(client, settings, latest["stats"], dead_letters(settings)))
                time.sleep(1)
        console.print("\ndemo finished; the stack stays up (`make stack-down` stops it)")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
