"""What living through a history gives, customer by customer: the pure fold the worker uses
(`scoring.timeline.replay`), fed each customer's events in event time, then its due moments up
to the stream time its partition reached. And how to compare a worker's results with it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson

from scoring.alerts import Alert
from scoring.events import Event
from scoring.timeline import Standing, replay
from stream.codec import decode_event
from stream.contract import INPUT_TOPICS
from stream.resources import load_policy
from stream.settings import Settings
from stream.store import Keys, Record

from ..unit.scoring.test_properties import close
from .conftest import Stack
from .harness import Run, read_topic
from .histories import Doc

POLICY = load_policy()
SETTINGS = Settings()


def events_by_customer(docs: list[Doc]) -> dict[str, list[Event]]:
    out: dict[str, list[Event]] = defaultdict(list)
    for kind, d in docs:
        event = decode_event(orjson.dumps(d), topic=INPUT_TOPICS[kind])  # type: ignore[index]
        out[event.customer_id].append(event)
    return out


def watermarks(run: Run) -> dict[int, float]:
    out = {}
    for p in range(SETTINGS.partitions):
        raw = run.redis.get(Keys(run.prefix).watermark(p))
        if raw is not None:
            out[p] = float(raw)  # type: ignore[arg-type]
    return out


def living_through(
    docs: list[Doc], records: dict[str, Record], marks: dict[int, float]
) -> dict[str, tuple[Standing, list[Alert]]]:
    """Each customer's standing and alerts when living through `docs`, up to the stream time
    its partition reached (less the allowed lateness, as the worker's timer)."""
    out = {}
    lateness = SETTINGS.allowed_lateness_seconds
    for cid, events in events_by_customer(docs).items():
        partition = records[cid].partition
        until = marks[partition] - lateness if partition is not None else None
        standing, raised = replay(events, POLICY, SETTINGS.reevaluate_every_seconds, until)
        assert standing is not None
        out[cid] = (standing, raised)
    return out


def alert_ids(stack: Stack, run: Run) -> dict[str, set[str]]:
    """The alert ids the worker published, per customer (at least once: a set)."""
    out: dict[str, set[str]] = defaultdict(set)
    for key, alert in read_topic(stack, run.topics.alerts):
        out[key].add(alert["alert_id"])
    return out


def differences(expected: dict[str, Record], actual: dict[str, Record]) -> dict[str, int]:
    """What differs between two runs' records, counted per aspect over the customers: the
    state, the offsets applied, the next due time and the current health record (all but
    `previous_score`, which follows what the run last published)."""
    assert expected.keys() == actual.keys()
    diffs: dict[str, int] = {}
    for cid, ref in expected.items():
        got = actual[cid]
        checks = {
            "state": close(ref.state, got.state),
            "offsets": ref.offsets == got.offsets,
            "due": ref.due == got.due,
        }
        ref_health: dict[str, Any] = ref.health_record(POLICY) or {}
        got_health: dict[str, Any] = got.health_record(POLICY) or {}
        for k in set(ref_health) | set(got_health):
            if k != "previous_score":
                checks[f"health.{k}"] = ref_health.get(k) == got_health.get(k)
        for name, ok in checks.items():
            if not ok:
                diffs[name] = diffs.get(name, 0) + 1
    return diffs


def differences_from_living_through(
    lived: dict[str, tuple[Standing, list[Alert]]],
    records: dict[str, Record],
    published: dict[str, set[str]],
) -> dict[str, int]:
    """What differs between a worker's records and alerts and living through the history."""
    diffs: dict[str, int] = {}
    for cid, (standing, raised) in lived.items():
        rec = records[cid]
        checks = {
            "state": close(standing.state, rec.state),
            "due": standing.due == rec.due,
            "alert_memory": close(standing.memory, rec.alerts),
            "alerts": {a.alert_id for a in raised} == published.get(cid, set()),
        }
        for name, ok in checks.items():
            if not ok:
                diffs[name] = diffs.get(name, 0) + 1
    return diffs
