"""The Faust worker: consume the input topics, validate, dead-letter bad input, update Redis."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import faust
import redis.asyncio as aioredis

from stream.codec import DecodeError, decode_event
from stream.settings import Settings
from stream.store import EventCounter, retry_forever
from stream.topics import ensure_topics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    """Why a message could not be applied, and where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    error: str
    field: str

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers that carry the source position and the error beside the original bytes."""
        return [
            ("dlq.topic", self.topic.encode()),
            ("dlq.partition", str(self.partition).encode()),
            ("dlq.offset", str(self.offset).encode()),
            ("dlq.field", self.field.encode()),
            ("dlq.error", self.error.encode()),
        ]


class Engine:
    """Apply one message: decode, then count it in Redis; a bad message becomes a dead letter."""

    def __init__(self, settings: Settings, counter: EventCounter) -> None:
        self.settings = settings
        self.counter = counter
        self._contract_topic = settings.input_topics

    async def apply(
        self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None
    ) -> DeadLetter | None:
        """Apply the message; return a dead letter instead of raising, whatever goes wrong."""
        raw = value or b""
        try:
            event = decode_event(
                raw,
                topic=self._contract_topic.get(topic),
                key=key,
                max_bytes=self.settings.max_message_bytes,
            )
        except DecodeError as exc:
            return DeadLetter(topic, partition, offset, key, raw, str(exc), exc.field)
        try:
            await retry_forever(
                lambda: self.counter.count(event.customer_id, event.event_id, event.TYPE),
                what=f"{topic}[{partition}]@{offset}",
                max_delay=self.settings.redis_retry_max_seconds,
            )
        except Exception as exc:
            log.exception("failed to apply %s[%s]@%s", topic, partition, offset)
            return DeadLetter(topic, partition, offset, key, raw, f"internal: {exc!r}", "internal")
        return None


def create_app(settings: Settings) -> faust.App:
    """Build the Faust app with its agent, topics and web pages for these settings."""
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_list],
        store="memory://",
        autodiscover=False,
        web_host=settings.web_host,
        web_port=settings.web_port,
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
    )
    client = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
    engine = Engine(
        settings,
        EventCounter(
            client, prefix=settings.redis_key_prefix, dedupe_ttl=settings.dedupe_ttl_seconds
        ),
    )
    inputs = app.topic(*settings.input_topics, key_type=bytes, value_type=bytes)
    dlq = app.topic(settings.topic_dlq, key_type=bytes, value_type=bytes)

    @app.agent(inputs, name="ingest")
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            letter = await engine.apply(msg.topic, msg.partition, msg.offset, msg.key, msg.value)
            if letter is not None:
                log.warning(
                    "dead letter %s[%s]@%s: %s",
                    letter.topic,
                    letter.partition,
                    letter.offset,
                    letter.error,
                )
                await dlq.send(key=letter.key, value=letter.value, headers=letter.headers())

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    app.engine = engine  # type: ignore[attr-defined]
    return app


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Run the worker in the foreground until SIGINT or SIGTERM."""
    ensure_topics(settings)
    app = create_app(settings)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
