"""The live demo: a worker and the simulator against the local stack, with a live view of the
customers most at risk and the churn alerts as they arrive."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

import orjson
import redis
from kafka import KafkaConsumer, TopicPartition
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from scoring.policy import Policy
from stream.dev.simulate import ProduceStats, produce
from stream.dev.synthetic import CustomerBase
from stream.resources import load_policy
from stream.settings import Settings
from stream.store import Keys, Record, as_text, customer_record_key
from stream.store.client import connect_sync

DECLINING_SHARE = 0.1  # of the demo's customers, drifting toward churn
BAND_COLOUR = {"healthy": "green", "at_risk": "yellow", "critical": "red"}


def customer_base(customers: int, seed: int) -> CustomerBase:
    """The demo's customers over 60 days of event time: one in ten drifts toward churn (still
    far more than a real base loses: B2B SaaS loses some 10-15% a year), and a support team
    answers tickets within their SLA, as a staffed one does."""
    return CustomerBase(
        customers,
        seed=seed,
        span_days=60,
        prefix=f"demo{seed % 10000}",
        support_team=True,
        declining_share=DECLINING_SHARE,
    )


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


class AlertFeed:
    """Follow churn-alerts and the dead-letter count in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.alerts: deque[dict[str, Any]] = deque(maxlen=8)
        self.total = 0
        self.dead_letters = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        consumer = KafkaConsumer(
            self.settings.topic_alerts,
            **self.settings.kafka_python_config(),
            auto_offset_reset="latest",
            enable_auto_commit=False,
        )
        try:
            while not self._stop.is_set():
                for records in consumer.poll(timeout_ms=500).values():
                    for rec in records:
                        self.alerts.appendleft(orjson.loads(rec.value))
                        self.total += 1
                self.dead_letters = self._dlq_size(consumer)
        finally:
            consumer.close()

    def _dlq_size(self, consumer: KafkaConsumer) -> int:
        parts = consumer.partitions_for_topic(self.settings.topic_dlq) or set()
        tps = [TopicPartition(self.settings.topic_dlq, p) for p in parts]
        return sum(consumer.end_offsets(tps).values()) if tps else 0


def _view(
    client: redis.Redis | redis.RedisCluster,
    settings: Settings,
    policy: Policy,
    stats: ProduceStats,
    feed: AlertFeed,
) -> Group:
    board: Any = client.zrange(Keys(settings.redis_key_prefix).board(), 0, 9, withscores=True)
    at_risk = Table(
        "customer",
        "score",
        "band",
        "why (top driver)",
        title="customers most at risk (live from Redis)",
    )
    for member, _score in board:
        cid = as_text(member)
        raw: Any = client.get(customer_record_key(settings.redis_key_prefix, cid))
        h = Record.parse(cid, raw).health_record(policy) if raw else None
        if not h:
            continue
        why = h["drivers"][0]["detail"] if h["drivers"] else ""
        colour = BAND_COLOUR[h["band"]]
        at_risk.add_row(cid, f"{h['score']:.1f}", f"[{colour}]{h['band']}[/]", why)
    alerts = Table(
        "rule",
        "severity",
        "customer",
        "owner",
        "reason",
        title=f"churn alerts ({feed.total} so far, newest first)",
    )
    for a in feed.alerts:
        alerts.add_row(
            a["rule"], a["severity"], a["customer_id"], a.get("owner") or "-", a["reasons"][0]
        )
    customers = client.zcard(Keys(settings.redis_key_prefix).board())
    summary = (
        f"produced {stats.sent} events ({stats.rate:,.0f}/s) | customers scored "
        f"{customers} | dead letters {feed.dead_letters}"
    )
    return Group(summary, at_risk, alerts)


def run_demo(
    settings: Settings, *, duration: float, customers: int, rate: float, console: Console
) -> None:
    """Run worker and simulator for `duration` seconds, showing health and alerts as they move."""
    log_path = Path(".stack") / "demo-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"worker: starting (log in {log_path})")
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stream.cli", "worker", "--processes", "1"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    feed = AlertFeed(settings)
    try:
        _wait_http(f"http://{settings.web_host}:{settings.web_port}/healthz", 60, proc)
        console.print(
            "worker: up; simulating 60 days of history for "
            f"{customers} customers, some drifting toward churn"
        )
        feed.start()
        seed = int(time.time())
        base = customer_base(customers, seed)
        deadline = time.monotonic() + duration
        latest = {"stats": ProduceStats()}
        total = int(duration * rate)

        def feed_events() -> None:
            produce(
                settings,
                base.events(total),
                rate=rate,
                malformed_every=500,
                deadline=deadline,
                progress=lambda s: latest.update(stats=s),
            )

        feeder = threading.Thread(target=feed_events, daemon=True)
        feeder.start()
        client = connect_sync(settings)
        policy = load_policy(str(settings.policy_file) if settings.policy_file else None)
        with Live(console=console, refresh_per_second=2) as live:
            while feeder.is_alive() or time.monotonic() < deadline + 3:
                live.update(_view(client, settings, policy, latest["stats"], feed))
                time.sleep(1)
        console.print("\ndemo finished; the stack stays up (`make stack-down` stops it)")
    finally:
        feed.stop()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
