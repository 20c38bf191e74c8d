"""Fault injection helpers: a redis-server of the test's own that can be killed and restarted on
its AOF, and the tally of a faulted run against an uninterrupted one, written as a row of
docs/reliability.md's table (`.cache/reliability.jsonl`, one JSON line per fault)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from stream.store import Record

from .conftest import free_port, wait_for
from .reference import close

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / ".cache" / "reliability.jsonl"
ENTRY = 12  # bytes per remembered event id in a state (scoring.state.ENTRY)


@dataclass
class PrivateRedis:
    """redis-server with AOF (`appendfsync` as given) in `directory`, on its own port."""

    directory: Path
    fsync: str = "everysec"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--appendonly", "yes",
             "--appendfsync", self.fsync, "--save", "",
             "--logfile", str(self.directory / "redis.log")],
        )  # fmt: skip
        wait_for(self.answers, 30, f"redis-server on {self.port}")

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final AOF flush."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


def tally(
    fault: str,
    sent: int,
    expected: dict[str, Record],
    actual: dict[str, Record],
    stalled: float | None,
) -> dict[str, Any]:
    """A row of the reliability table: events sent; events applied (ids remembered in the final
    records); lost (remembered by the uninterrupted run, not by this one); double-counted
    (customers whose state differs from the uninterrupted run though the same ids were applied:
    a sum counted twice); the longest time committed progress stood still (None: not
    sampled)."""
    applied = lost = extra = double = 0
    for cid, ref in expected.items():
        got = actual.get(cid)
        ref_ids = _ids(ref)
        got_ids = _ids(got) if got is not None else set()
        applied += len(got_ids)
        lost += len(ref_ids - got_ids)
        extra += len(got_ids - ref_ids)
        if got is not None and ref_ids == got_ids and not close(ref.state, got.state):
            double += 1
    row = {
        "fault": fault,
        "sent": sent,
        "applied": applied,
        "lost": lost,
        "unexpected": extra,
        "double_counted": double,
        "stalled_seconds": None if stalled is None else round(stalled, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        out.write(json.dumps(row) + "\n")
    print("reliability:", json.dumps(row))
    return row


def _ids(record: Record) -> set[bytes]:
    seen = bytes(record.state.seen) if record.state is not None else b""  # a bytearray in state
    return {seen[i : i + ENTRY] for i in range(0, len(seen), ENTRY)}


class Stall:
    """The longest time a counter stood still, sampled by the caller."""

    def __init__(self, value: int) -> None:
        self.value, self.since, self.longest = value, time.monotonic(), 0.0

    def sample(self, value: int) -> None:
        now = time.monotonic()
        if value != self.value:
            self.value, self.since = value, now
        self.longest = max(self.longest, now - self.since)
