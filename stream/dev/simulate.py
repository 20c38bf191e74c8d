"""Produce the synthetic customer base to Kafka with kafka-python, at a steady rate."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
from kafka import KafkaProducer

from stream.dev.synthetic import SyntheticEvent
from stream.settings import Settings

# Malformed messages the simulator can mix in, so the dead-letter path shows in a demo.
MALFORMED: tuple[bytes, ...] = (
    b"{not json",
    b'{"type": "nps", "customer_id": "x"}',
    b'{"event_id": "bad-1", "customer_id": "x", "type": "nps", '
    b'"occurred_at": "2026-01-01T00:00:00Z", "score": 42}',
)


@dataclass
class ProduceStats:
    """What a simulation run sent."""

    sent: int = 0
    malformed: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def topic_for(settings: Settings, kind: str) -> str:
    """Name the configured input topic of an event kind (usage, support, survey, account)."""
    return str(getattr(settings, f"topic_{kind}"))


def make_producer(settings: Settings) -> KafkaProducer:
    """A kafka-python producer with the Java client's default (murmur2) key partitioner."""
    return KafkaProducer(
        **settings.kafka_python_config(),
        acks="all",
        linger_ms=10,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=1,
    )


def produce(
    settings: Settings,
    events: Iterable[SyntheticEvent],
    *,
    rate: float = 0.0,
    malformed_every: int = 0,
    progress: Callable[[ProduceStats], None] | None = None,
    deadline: float | None = None,
    producer: KafkaProducer | None = None,
) -> ProduceStats:
    """Send `events` (keyed by customer id) at `rate` per second (0 = as fast as possible).

    With `malformed_every` = N, one malformed message follows every N events. Stops early at the
    monotonic `deadline`. Flushes before returning, so every counted message reached the broker.
    """
    own = producer is None
    producer = producer or make_producer(settings)
    stats = ProduceStats()
    started = time.monotonic()
    last_report = started
    try:
        for event in events:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            if rate > 0:
                due = started + stats.sent / rate
                if due > now:
                    time.sleep(due - now)
            key = event.customer_id.encode()
            producer.send(topic_for(settings, event.kind), key=key, value=orjson.dumps(event.doc))
            stats.sent += 1
            if malformed_every and stats.sent % malformed_every == 0:
                bad = MALFORMED[(stats.sent // malformed_every) % len(MALFORMED)]
                producer.send(topic_for(settings, "survey"), key=b"x", value=bad)
                stats.malformed += 1
            if progress is not None and now - last_report >= 0.5:
                stats.seconds = now - started
                progress(stats)
                last_report = now
        producer.flush()
    finally:
        stats.seconds = time.monotonic() - started
        if own:
            producer.close()
    if progress is not None:
        progress(stats)
    return stats
