"""Inputs as they come in real deployments: one topic's producer pausing while the others flow,
messages compressed with every codec by a third-party client, and a customer far heavier than
the rest."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import orjson
import pytest

from scoring.serialize import rfc3339
from stream.store import Keys

from .conftest import Stack, wait_for
from .harness import Run, Topics, produce, read_topic
from .histories import DAY, T0, Doc, doc, in_event_time, onboarding
from .reference import alert_ids, differences_from_living_through, living_through, watermarks

IDLE_SECONDS = 40  # the hold below stays well inside it
HOLD_SECONDS = 12.0


def busy_every_day(cid: str, days: int) -> list[Doc]:
    """Something on every topic every day: usage, a ticket answered within half an hour (an
    urgent one every ten days), a satisfied answer and an account update. No topic is sparse,
    so the merge waits only for the one held back."""
    out = [*onboarding(cid)]
    for d in range(days):
        day = d * DAY
        out.append(doc("usage", "session", cid, day + 9 * 3600, user_id="u1"))
        out.append(doc("usage", "feature_used", cid, day + 9 * 3600 + 60, feature="api", count=2))
        ticket, opened = f"{cid}-t{d}", day + 10 * 3600
        priority = "urgent" if d % 10 == 0 else "normal"
        out.append(
            doc("support", "ticket_opened", cid, opened, ticket_id=ticket, priority=priority)
        )
        out.append(
            doc("support", "ticket_replied", cid, opened + 1800, ticket_id=ticket, by="agent")
        )
        out.append(doc("support", "ticket_resolved", cid, opened + 7200, ticket_id=ticket))
        out.append(doc("survey", "csat", cid, day + 15 * 3600, score=5))
        out.append(doc("account", "account_updated", cid, day + 16 * 3600, mrr=500.0 + d))
    return out


def heartbeat(cid: str, t: float) -> list[Doc]:
    """An event on every topic at `t`, so that no topic is behind the others there: the merge
    waits for a topic that is behind only until it counts as idle, and a backfill cut at an
    arbitrary moment would otherwise start that clock before the hold."""
    return [
        doc("usage", "session", cid, t, user_id="u9"),
        doc("support", "ticket_replied", cid, t, ticket_id=f"{cid}-t0", by="customer"),
        doc("survey", "csat", cid, t, score=5),
        doc("account", "account_updated", cid, t, mrr=500.0),
    ]


def at(d: Doc) -> float:
    from datetime import datetime

    return datetime.fromisoformat(d[1]["occurred_at"]).timestamp() - T0


@pytest.mark.parametrize(
    ("held", "cut"),
    [
        ("usage", 10 * DAY + 12 * 3600),  # usage stops after day 10 noon, the rest flows
        ("support", 10 * DAY + 10 * 3600),  # the urgent ticket of day 10 is open, its answer held
    ],
)
def test_a_topic_held_back_raises_no_alert_for_what_it_holds_and_catches_up_when_it_resumes(
    stack: Stack, tmp_path: Path, held: str, cut: float
) -> None:
    customers = [f"held-{i}" for i in range(6)]
    docs = in_event_time(
        [
            d
            for c in customers
            for d in busy_every_day(c, 40) + heartbeat(c, cut - 30) + heartbeat(c, 40 * DAY)
        ]
    )
    before = [d for d in docs if at(d) <= cut]
    others = [d for d in docs if at(d) > cut and d[0] != held]
    later = [d for d in docs if at(d) > cut and d[0] == held]
    topics = Topics()
    run = Run(
        stack, topics, tmp_path, input_idle_seconds=str(IDLE_SECONDS), evaluate_every_event="true"
    )
    run.start()
    try:
        produce(stack, topics, before)
        run.wait_drained()
        produce(stack, topics, others)  # the held topic's producer is paused meanwhile
        time.sleep(HOLD_SECONDS)
        held_alerts = [(k, a["rule"]) for k, a in read_topic(stack, topics.alerts)]
        assert [] == held_alerts, f"alerts while {held} was held back"
        assert run.alive()
        produce(stack, topics, later)
        run.wait_drained()
        records = run.wait_quiet()
        published = alert_ids(stack, run)
        rules = [r for _, a in read_topic(stack, topics.alerts) for r in a["rules"]]
    finally:
        run.stop_all()
    # and no such rule fired at all, even joining an alert already open
    memories = [rec.alerts.rules for rec in records.values()]
    rules += [r for m in memories for r, rs in m.items() if rs.last_raised_at is not None]
    assert [] == [r for r in rules if r in ("inactivity", "urgent_ticket_sla")]
    lived = living_through(docs, records, watermarks(run))
    assert {} == differences_from_living_through(lived, records, published)
    newest = max(r.evaluated.at for r in records.values() if r.evaluated)
    assert newest >= T0 + 39 * DAY, f"scores stopped at {rfc3339(newest)}"


CODECS = ("gzip", "snappy", "lz4", "zstd")


def kcat_produce(stack: Stack, topic: str, codec: str, docs: list[Doc]) -> None:
    """Produce with kcat (librdkafka), compressed, keyed and partitioned as the Java client does."""
    lines = b"".join(d["customer_id"].encode() + b"\t" + orjson.dumps(d) + b"\n" for _, d in docs)
    subprocess.run(
        [
            "kcat", "-P", "-b", stack.bootstrap, "-t", topic, "-K", "\t", "-z", codec,
            "-X", "partitioner=murmur2_random", "-X", "linger.ms=50",
        ],
        input=lines,
        check=True,
        timeout=60,
    )  # fmt: skip


def sessions(cid: str, n: int) -> list[Doc]:
    return [doc("usage", "session", cid, i * 3600.0, user_id="u1") for i in range(n)]


def test_messages_compressed_with_every_codec_are_consumed(stack: Stack, tmp_path: Path) -> None:
    topics = Topics()
    run = Run(stack, topics, tmp_path)
    run.start()
    try:
        for codec in CODECS:
            kcat_produce(stack, topics.names["usage"], codec, sessions(f"codec-{codec}", 25))
        run.wait_drained()
        records = run.wait_quiet()
        dead = read_topic(stack, topics.dlq)
        assert run.alive()
    finally:
        run.stop_all()
    assert [] == dead
    for codec in CODECS:
        state = records[f"codec-{codec}"].state
        assert state is not None
        assert T0 + 24 * 3600.0 == state.last_active_at, codec


def test_a_batch_the_worker_cannot_decode_never_kills_it_and_loses_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    """A worker without the lz4 codec (hidden from it here) meets lz4 batches: it stays up,
    says why in /readyz, and skips nothing: a worker with the codec then applies them all."""
    shim = tmp_path / "no-codecs"
    shim.mkdir()
    (shim / "cramjam.py").write_text("raise ImportError('hidden by the test')\n")
    topics = Topics()
    blind = Run(stack, topics, tmp_path, extra_env={"PYTHONPATH": str(shim)})
    blind.start()
    try:
        kcat_produce(stack, topics.names["usage"], "lz4", sessions("lz4-1", 30))
        wait_for(
            lambda: "UnsupportedCodecError" in str(blind.readiness()[1]),
            60,
            "the worker to report the batch it cannot decode",
        )
        time.sleep(3)
        assert blind.alive(), blind.log_tail()
        status, _ = blind.http_health("lz4-1")
        assert 404 == status  # nothing applied, nothing skipped
    finally:
        blind.stop_all()
    able = Run(stack, topics, tmp_path, group=blind.group, prefix=blind.prefix)
    able.start()
    try:
        able.wait_drained()
        records = able.wait_quiet()
    finally:
        able.stop_all()
    state = records["lz4-1"].state
    assert state is not None
    assert T0 + 29 * 3600.0 == state.last_active_at


HEAVY_PER_DAY = 100_000
HEAVY_DAYS = 40
HEAVY_BURST = 2_500  # events sent per day, at that day's rate (100,000 a day: one every 0.864 s)


def test_a_heavy_customer_keeps_a_small_record(stack: Stack, tmp_path: Path) -> None:
    step = DAY / HEAVY_PER_DAY
    features = ("dashboards", "reports", "exports", "alerts", "api", "sso")
    docs: list[Doc] = [*onboarding("heavy-1")]
    for d in range(HEAVY_DAYS):
        for i in range(HEAVY_BURST):
            t = d * DAY + 8 * 3600 + i * step
            if i % 2:
                docs.append(doc("usage", "session", "heavy-1", t, user_id=f"u{i % 500}"))
            else:
                feature = features[i % len(features)]
                docs.append(doc("usage", "feature_used", "heavy-1", t, feature=feature, count=1))
    topics = Topics()
    run = Run(stack, topics, tmp_path)
    produce(stack, topics, docs)
    run.start()
    try:
        run.wait_drained(timeout=600)
        run.wait_quiet()
        stored = run.redis.get(Keys(run.prefix).record("heavy-1"))
        dead = read_topic(stack, topics.dlq)
    finally:
        run.stop_all()
    assert stored is not None
    print(f"heavy customer: {len(docs)} events, record {len(stored)} bytes")  # type: ignore[arg-type]
    assert [] == dead
    assert len(stored) <= 16 * 1024  # type: ignore[arg-type]
