"""A worker run with its own topics, consumer group and Redis prefix, on the shared stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import redis
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from stream.store import Keys, Record, as_text

from .conftest import Stack, free_port, wait_for

KINDS = ("usage", "support", "survey", "account")


class Topics:
    """A private set of topic names, so tests never see each other's messages."""

    def __init__(self, tag: str | None = None) -> None:
        self.tag = tag or uuid.uuid4().hex[:8]
        self.names = {k: f"{self.tag}-{k}-events" for k in KINDS}
        self.scores = f"{self.tag}-health-scores"
        self.alerts = f"{self.tag}-churn-alerts"
        self.dlq = f"{self.tag}-health-dlq"

    def env(self) -> dict[str, str]:
        env = {f"HEALTHSCORE_TOPIC_{k.upper()}": v for k, v in self.names.items()}
        env.update(
            {
                "HEALTHSCORE_TOPIC_SCORES": self.scores,
                "HEALTHSCORE_TOPIC_ALERTS": self.alerts,
                "HEALTHSCORE_TOPIC_DLQ": self.dlq,
            }
        )
        return env


class Run:
    """One worker process (or several, sharing a group) reading `topics` into Redis `prefix`."""

    def __init__(
        self,
        stack: Stack,
        topics: Topics,
        log_dir: Path,
        *,
        group: str | None = None,
        prefix: str | None = None,
        extra_env: dict[str, str] | None = None,
        **settings: str,
    ) -> None:
        self.stack = stack
        self.topics = topics
        self.group = group or f"g-{uuid.uuid4().hex[:8]}"
        self.prefix = prefix or f"p{uuid.uuid4().hex[:8]}"
        self.log_dir = log_dir
        self.settings = settings
        self.extra_env = extra_env or {}
        self.procs: list[tuple[subprocess.Popen[bytes], int, Path]] = []
        self.redis: redis.Redis | redis.RedisCluster = redis.Redis.from_url(stack.redis_url)

    def env(self, web_port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHSCORE_")}
        env.update(self.topics.env())
        env.update(
            {
                "HEALTHSCORE_KAFKA_BOOTSTRAP_SERVERS": self.stack.bootstrap,
                "HEALTHSCORE_REDIS_URL": self.stack.redis_url,
                "HEALTHSCORE_APP_ID": self.group,
                "HEALTHSCORE_REDIS_KEY_PREFIX": self.prefix,
                "HEALTHSCORE_WEB_PORT": str(web_port),
            }
        )
        env.update({f"HEALTHSCORE_{k.upper()}": v for k, v in self.settings.items()})
        env.update(self.extra_env)
        return env

    def start(self) -> int:
        """Start one more worker process; return its index."""
        port = free_port()
        log = self.log_dir / f"worker-{self.group}-{len(self.procs)}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "stream.cli", "worker", "--processes", "1"],
                env=self.env(port),
                cwd=self.log_dir,  # Faust's data directory lands there, not in the checkout
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append((proc, port, log))
        index = len(self.procs) - 1
        wait_for(lambda: self._answers(index), 90, f"worker {index} /healthz")
        return index

    def _answers(self, index: int) -> bool:
        proc, port, log = self.procs[index]
        if proc.poll() is not None:
            raise AssertionError(f"worker exited with {proc.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return True
        except OSError:
            return False

    def readiness(self, index: int = 0) -> tuple[int, dict[str, Any]]:
        """The worker's /readyz status and body."""
        _, port, _ = self.procs[index]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def alive(self, index: int = 0) -> bool:
        return self.procs[index][0].poll() is None

    def ready_partitions(self, index: int) -> list[int]:
        _, port, _ = self.procs[index]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                return list(json.loads(r.read())["partitions"])
        except (OSError, urllib.error.HTTPError):
            return []

    def http_health(self, customer_id: str, index: int = 0) -> tuple[int, dict[str, Any]]:
        _, port, _ = self.procs[index]
        url = f"http://127.0.0.1:{port}/customers/{customer_id}/health"
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def stop(self, index: int = 0, sig: int = signal.SIGTERM) -> None:
        proc, _, _ = self.procs[index]
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def stop_all(self) -> None:
        for i in range(len(self.procs)):
            self.stop(i)

    def log_tail(self, index: int = 0) -> str:
        return tail(self.procs[index][2])

    # --- reading the results -------------------------------------------------------------

    def stored(self) -> dict[str, bytes]:
        """Every customer's record as stored, by customer id."""
        out = {}
        for key in self.redis.scan_iter(match=Keys(self.prefix).record("*"), count=1000):
            k = as_text(key)
            cid = k.split("{", 1)[1].rsplit("}", 1)[0]
            out[cid] = self.redis.get(k)
        return out  # type: ignore[return-value]

    def records(self) -> dict[str, Record]:
        return {cid: Record.parse(cid, raw) for cid, raw in self.stored().items()}

    def progress(self) -> tuple[int, int]:
        """(messages the group has committed, messages on its input topics)."""
        consumer = KafkaConsumer(
            bootstrap_servers=self.stack.bootstrap.split(","),
            group_id=self.group,
            enable_auto_commit=False,
        )
        try:
            tps = [
                TopicPartition(t, p)
                for t in self.topics.names.values()
                for p in consumer.partitions_for_topic(t) or ()
            ]
            ends = consumer.end_offsets(tps)
            done = sum(min(consumer.committed(tp) or 0, ends[tp]) for tp in tps)
            return done, sum(ends.values())
        finally:
            consumer.close()

    def drained(self) -> bool:
        """True when the group has committed every input message."""
        done, total = self.progress()
        return done == total

    def wait_drained(self, timeout: float = 180) -> None:
        wait_for(self.drained, timeout, f"group {self.group} to commit every input message")

    def wait_quiet(self, seconds: float = 3.0, timeout: float = 120) -> dict[str, Record]:
        """Wait until the records stop changing (the timer has caught up); return them."""
        deadline = time.monotonic() + timeout
        last = {c: r.version for c, r in self.records().items()}
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = {c: r.version for c, r in self.records().items()}
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= seconds:
                return self.records()
        raise AssertionError("records kept changing")


def killed_and_resumed(run: Run, fraction: float) -> dict[str, Record]:
    """Start a worker, SIGKILL it once `fraction` of the input is committed, start it again and
    let it drain; return the records it ends with."""
    run.start()
    try:
        total = run.progress()[1]
        wait_for(lambda: run.progress()[0] >= total * fraction, 300, f"{fraction:.0%} committed")
        run.stop(0, sig=signal.SIGKILL)
        done, _ = run.progress()
        print(f"killed with {done} of {total} messages committed")
        assert done < total, f"the kill came too late to interrupt anything ({done} of {total})"
        run.start()
        run.wait_drained(timeout=600)
        return run.wait_quiet()
    finally:
        run.stop_all()


def tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def produce(
    stack: Stack,
    topics: Topics,
    docs: Iterable[tuple[str, dict[str, Any] | bytes]],
    key: str | None = None,
    **config: Any,
) -> int:
    """Send (kind, document) pairs keyed by customer id; return how many were sent. `config`
    is kafka-python's (security settings for a broker that wants them)."""
    config = {"bootstrap_servers": stack.bootstrap.split(","), **config}
    producer = KafkaProducer(acks="all", linger_ms=5, **config)
    n = 0
    try:
        for kind, doc in docs:
            value = doc if isinstance(doc, bytes) else orjson.dumps(doc)
            k = key if key is not None else (doc["customer_id"] if isinstance(doc, dict) else "x")
            producer.send(topics.names[kind], key=k.encode(), value=value)
            n += 1
        producer.flush()
    finally:
        producer.close()
    return n


def read_topic(stack: Stack, topic: str, **config: Any) -> list[tuple[str, dict[str, Any]]]:
    """Read a whole output topic: (key, JSON value) in partition order."""
    config = {"bootstrap_servers": stack.bootstrap.split(","), **config}
    consumer = KafkaConsumer(
        **config,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in parts]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for records in consumer.poll(timeout_ms=1000).values():
                out.extend((r.key.decode(), orjson.loads(r.value)) for r in records)
        return out
    finally:
        consumer.close()


def read_dead_letters(stack: Stack, topic: str) -> list[tuple[str, dict[str, str]]]:
    """Every message of a dead-letter topic: (payload, its `dlq.*` headers), read with kcat."""
    out = subprocess.run(
        ["kcat", "-b", stack.bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    letters = []
    for line in out.splitlines():
        rec = json.loads(line)
        headers = dict(zip(rec["headers"][::2], rec["headers"][1::2], strict=True))
        letters.append((rec["payload"], headers))
    return letters
