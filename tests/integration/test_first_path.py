"""The first end-to-end path: Kafka in, per-customer counts in Redis, bad input to health-dlq."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections import Counter

import orjson
import pytest
import redis
from kafka import KafkaProducer

from stream.synthetic import CustomerBase

from .conftest import Stack, Worker, wait_for

TOPIC_OF_KIND = {
    "usage": "usage-events",
    "support": "support-events",
    "survey": "survey-events",
    "account": "account-events",
}


@pytest.fixture
def producer(stack: Stack) -> KafkaProducer:
    p = KafkaProducer(bootstrap_servers=[stack.bootstrap], acks="all")
    yield p
    p.close()


def counts(client: redis.Redis, customer_id: str) -> dict[str, int]:
    raw = client.hgetall(f"hs:{{{customer_id}}}:counts")
    return {k.decode(): int(v) for k, v in raw.items()}


def valid_event(customer_id: str, event_id: str) -> bytes:
    return orjson.dumps(
        {
            "event_id": event_id,
            "customer_id": customer_id,
            "type": "session",
            "occurred_at": "2026-05-01T10:00:00Z",
            "user_id": "u1",
        }
    )


def test_events_produced_with_kafka_python_are_counted_per_customer_in_redis(
    worker: Worker, producer: KafkaProducer, redis_client: redis.Redis
) -> None:
    base = CustomerBase(25, seed=5, prefix=f"count-{uuid.uuid4().hex[:6]}")
    expected: dict[str, Counter[str]] = {c.customer_id: Counter() for c in base.customers}
    for event in base.events(1500):
        producer.send(
            TOPIC_OF_KIND[event.kind], key=event.customer_id.encode(), value=orjson.dumps(event.doc)
        )
        expected[event.customer_id][event.doc["type"]] += 1
        expected[event.customer_id]["total"] += 1
    producer.flush()

    def all_counted() -> bool:
        return all(counts(redis_client, cid) == dict(c) for cid, c in expected.items())

    wait_for(all_counted, 60, "every event to be counted in Redis")


def test_an_event_delivered_twice_is_counted_once(
    worker: Worker, producer: KafkaProducer, redis_client: redis.Redis
) -> None:
    cid = f"dup-{uuid.uuid4().hex[:8]}"
    for event_id in ("a", "a", "b", "a"):
        producer.send("usage-events", key=cid.encode(), value=valid_event(cid, event_id))
    producer.send("usage-events", key=cid.encode(), value=valid_event(cid, "c"))
    producer.flush()
    wait_for(lambda: counts(redis_client, cid).get("total") == 3, 60, "three distinct events")
    assert {"session": 3, "total": 3} == counts(redis_client, cid)


def read_dlq_with_kcat(stack: Stack) -> list[dict[str, object]]:
    out = subprocess.run(
        [
            "kcat",
            "-b",
            stack.bootstrap,
            "-C",
            "-t",
            "health-dlq",
            "-o",
            "beginning",
            "-e",
            "-J",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    records = []
    for line in out.splitlines():
        rec = json.loads(line)
        flat = rec.get("headers") or []
        rec["headers"] = dict(zip(flat[::2], flat[1::2], strict=True))
        records.append(rec)
    return records


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        (b"{this is not json MARK}", "message", "valid UTF-8 JSON"),
        (
            b'{"event_id": "MARK", "customer_id": "dlq-x", "type": "nps", '
            b'"occurred_at": "2026-05-01T10:00:00Z", "score": 42}',
            "score",
            "from 0 to 10",
        ),
        (b'{"event_id": "MARK", "customer_id": "dlq-x", "type": "nps"}', "occurred_at", "RFC 3339"),
    ],
)
def test_a_malformed_message_lands_in_the_dlq_with_its_reason_and_the_worker_goes_on(
    stack: Stack,
    worker: Worker,
    producer: KafkaProducer,
    redis_client: redis.Redis,
    payload: bytes,
    field: str,
    fragment: str,
) -> None:
    marker = uuid.uuid4().hex
    bad = payload.replace(b"MARK", marker.encode())
    producer.send("survey-events", key=b"dlq-x", value=bad)
    after = f"after-{marker[:8]}"
    producer.send("usage-events", key=after.encode(), value=valid_event(after, "e1"))
    producer.flush()

    wait_for(lambda: counts(redis_client, after).get("total") == 1, 60, "the next good event")

    def found() -> list[dict[str, object]]:
        return [r for r in read_dlq_with_kcat(stack) if marker in str(r.get("payload"))]

    wait_for(lambda: bool(found()), 30, "the dead letter on health-dlq")
    letter = found()[0]
    assert bad.decode() == letter["payload"]
    assert "dlq-x" == letter["key"]
    headers = letter["headers"]
    assert isinstance(headers, dict)
    assert "survey-events" == headers["dlq.topic"]
    assert field == headers["dlq.field"]
    assert fragment in headers["dlq.error"]
    assert headers["dlq.offset"].isdigit()
