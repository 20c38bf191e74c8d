"""Create the engine's topics when missing, and check that the inputs are co-partitioned."""

from __future__ import annotations

import logging
import time

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from stream.settings import Settings

log = logging.getLogger(__name__)


class TopicError(RuntimeError):
    """The topics cannot serve the engine as they are; the message says why and what to do."""


class _LastRefusal(logging.Handler):
    """Keeps the last authentication or TLS failure kafka-python logs while it bootstraps: it
    reports only "Unable to bootstrap", which reads like a broker that is down."""

    WORDS = ("Authentication", "Authorization", "certificate verify failed")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if any(word in text for word in self.WORDS):
            self.seen = text.rsplit(" failed: ", 1)[-1]


def _connect_admin(settings: Settings, deadline: float) -> KafkaAdminClient:
    refusal = _LastRefusal()
    kafka_log = logging.getLogger("kafka")
    kafka_log.addHandler(refusal)
    try:
        while True:
            try:
                return KafkaAdminClient(
                    **settings.kafka_python_config(),
                    client_id=f"{settings.app_id}-admin",
                    # a start-up retries its bootstrap about once a second, not with the
                    # client's backoff of up to 30 s: a broker that comes up late is found
                    # soon, and a refusal (a wrong password) is met, and named, several times
                    # before the deadline even when the first attempts time out
                    reconnect_backoff_max_ms=1000,
                )
            except KafkaError as exc:
                if refusal.seen is not None:
                    raise TopicError(
                        f"Kafka at {settings.kafka_bootstrap_servers} refused the connection: "
                        f"{refusal.seen}; check HEALTHSCORE_KAFKA_SECURITY_PROTOCOL and the "
                        "SASL/SSL settings"
                    ) from exc
                if time.monotonic() > deadline:
                    raise TopicError(
                        f"cannot reach Kafka at {settings.kafka_bootstrap_servers}: {exc}; "
                        "is the broker up (`healthscore stack status`)?"
                    ) from exc
                time.sleep(0.5)
    finally:
        kafka_log.removeHandler(refusal)


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Map every topic the engine uses to its topic-level configuration."""
    configs: dict[str, dict[str, str]] = {name: {} for name in settings.input_topics}
    configs[settings.topic_scores] = {"cleanup.policy": "compact"}
    configs[settings.topic_alerts] = {}
    configs[settings.topic_dlq] = {}
    if settings.shadow_policy_file is not None:
        configs[settings.topic_shadow_scores] = {"cleanup.policy": "compact"}
        configs[settings.topic_shadow_alerts] = {}
    return configs


def ensure_topics(settings: Settings, timeout: float = 60.0) -> dict[str, int]:
    """Create missing topics with `settings.partitions`; return each topic's partition count.

    Raises TopicError when the input topics have different partition counts, because then one
    customer's events would land on partitions that different workers own.
    """
    admin = _connect_admin(settings, time.monotonic() + timeout)
    try:
        wanted = topic_configs(settings)
        existing = set(admin.list_topics())
        missing = [
            NewTopic(name, settings.partitions, settings.replication_factor, topic_configs=cfg)
            for name, cfg in wanted.items()
            if name not in existing
        ]
        if missing:
            try:
                admin.create_topics(missing)
                log.info("created topics %s", ", ".join(t.name for t in missing))
            except TopicAlreadyExistsError:
                pass  # another worker created them at the same moment
        counts = {}
        for meta in admin.describe_topics(list(wanted)):
            counts[meta.get("name") or meta["topic"]] = len(meta["partitions"])
    finally:
        admin.close()
    inputs = {name: counts.get(name, 0) for name in settings.input_topics}
    if len(set(inputs.values())) > 1:
        raise TopicError(
            "input topics are not co-partitioned: "
            + ", ".join(f"{n}={c}" for n, c in inputs.items())
            + "; give them the same partition count (kafka-topics --alter --partitions N)"
        )
    return counts
