"""The Faust worker, wired from named parts: the loops (`stream.worker.loops`: ingest and the
stream-time timer; the Alertmanager forwarder), the worker's probes and metrics
(`stream.worker.probes`) and the customer API and pages (`stream.web.routes`)."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import faust
from aiokafka.errors import MessageSizeTooLargeError
from kafka.errors import KafkaError as SyncKafkaError
from prometheus_client import CollectorRegistry

from scoring.policy import Policy, PolicyError, state_differences
from stream.metrics import BusinessCollector, EngineMetrics
from stream.resources import load_policy
from stream.settings import Settings
from stream.store import RecordStore
from stream.store.client import connect_async
from stream.topics import TopicError, ensure_topics
from stream.web.routes import CustomerRoutes
from stream.worker.alertmanager import Forwarder
from stream.worker.alignment import TOPIC_RANK, MergeLimits
from stream.worker.batching import BatchingApp
from stream.worker.engine import Engine, Outputs
from stream.worker.loops import Ingest, Reevaluation
from stream.worker.probes import Probes

log = logging.getLogger(__name__)
MIN_BATCH_BYTES = 16_384  # Kafka's clients' default batch.size


def faust_credentials(settings: Settings) -> Any:
    """Faust (aiokafka) credentials for the configured security protocol, or None."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = settings.ssl_context()
    if protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context)


class FaustPublisher:
    """Publish outputs with the app's producer and wait for the broker's acks; retry on errors.

    Outputs go in bulk: grouped by topic and partition (the producer's own partitioner, murmur2
    of the key as Kafka's clients use, its answer kept per key), each group appended to a batch
    of the producer's and sent as one, and only the batches' acks awaited. One awaited `send`
    per message, with its partitioner call, future and accumulator step, cost more than
    scoring the message. A batch holds up to `producer_batch_bytes` (1 MB): at Kafka's
    default of 16 KiB, a draining worker sent a batch every dozen score updates and lost about
    an eighth of its throughput to them (uniform mix, 50,000 customers)."""

    def __init__(self, app: faust.App, settings: Settings) -> None:
        self.app = app
        self.scores = settings.topic_scores
        self.alerts = settings.topic_alerts
        self.dlq = settings.topic_dlq
        self.shadow_scores = settings.topic_shadow_scores
        self.shadow_alerts = settings.topic_shadow_alerts
        self.max_delay = settings.redis_retry_max_seconds
        self._partitions: dict[tuple[str, bytes], int] = {}  # (topic, key) -> partition

    def _partition(self, aio: Any, topic: str, key: bytes) -> int:
        found = self._partitions.get((topic, key))
        if found is None:
            partitions = sorted(aio._metadata.partitions_for_topic(topic) or ())
            available = list(aio._metadata.available_partitions_for_topic(topic) or ())
            found = aio._partitioner(key, partitions, available)
            if len(self._partitions) > 1_000_000:
                self._partitions.clear()
            self._partitions[(topic, key)] = found
        return found

    async def publish(self, outputs: Outputs) -> None:
        delay = 0.1
        while True:
            try:
                await self._publish(outputs)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a broker error must never drop output
                if isinstance(exc, MessageSizeTooLargeError) and await self._smaller_batches():
                    continue
                log.warning("publishing failed (%r); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)

    async def _smaller_batches(self) -> bool:
        """Halve the producer's batches after the broker refused one as larger than its
        `message.max.bytes` (down to Kafka's default of 16 KiB); False when already there."""
        producer = await self.app.maybe_start_producer()
        accumulator = producer._ensure_producer()._message_accumulator
        size = accumulator._batch_size
        if size <= MIN_BATCH_BYTES:
            return False
        accumulator._batch_size = max(MIN_BATCH_BYTES, size // 2)
        log.warning(
            "the broker refused a batch of up to %d bytes as too large (its message.max.bytes "
            "or the topic's max.message.bytes); sending batches of up to %d bytes from now on "
            "(lower HEALTHSCORE_PRODUCER_BATCH_BYTES to start there)",
            size,
            accumulator._batch_size,
        )
        return True

    async def _publish(self, outputs: Outputs) -> None:
        producer = await self.app.maybe_start_producer()
        aio = producer._ensure_producer()  # aiokafka's producer
        groups: dict[tuple[str, int], list[tuple[bytes, bytes, Any]]] = {}
        for topic, items in (
            (self.scores, outputs.scores),
            (self.alerts, outputs.alerts),
            (self.shadow_scores, outputs.shadow_scores),
            (self.shadow_alerts, outputs.shadow_alerts),
        ):
            if not items:
                continue
            await aio.client._wait_on_metadata(topic)
            for cid, payload in items:
                key = cid.encode()
                part = self._partition(aio, topic, key)
                groups.setdefault((topic, part), []).append((key, payload, None))
        if outputs.dead:
            await aio.client._wait_on_metadata(self.dlq)
        for letter in outputs.dead:
            key = letter.source.key or b""
            part = self._partition(aio, self.dlq, key) if letter.source.key else 0
            item = (letter.source.key, letter.source.value or b"", letter.headers())
            groups.setdefault((self.dlq, part), []).append(item)  # type: ignore[arg-type]
        futures = []
        for (topic, part), messages in groups.items():
            batch = aio.create_batch()
            for key, value, headers in messages:
                if (
                    batch.append(key=key, value=value, timestamp=None, headers=headers or [])
                    is None
                ):
                    futures.append(await aio.send_batch(batch, topic, partition=part))
                    batch = aio.create_batch()
                    batch.append(key=key, value=value, timestamp=None, headers=headers or [])
            futures.append(await aio.send_batch(batch, topic, partition=part))
        if futures:
            await asyncio.gather(*futures)


def load_shadow(settings: Settings, live: Policy) -> Policy | None:
    """The shadow policy, when configured; refused (PolicyError) when it would need states of
    its own (see `scoring.policy.state_differences`)."""
    if settings.shadow_policy_file is None:
        return None
    shadow = load_policy(str(settings.shadow_policy_file))
    differ = state_differences(live, shadow)
    if differ:
        raise PolicyError(
            str(settings.shadow_policy_file),
            ", ".join(differ),
            "the same as the live policy's (a shadow is scored from the live states)",
            f"other values in version {shadow.version}",
        )
    return shadow


def create_app(settings: Settings) -> BatchingApp:
    """Build the Faust app with its agent, timer and web views for these settings."""
    policy = load_policy(str(settings.policy_file) if settings.policy_file else None)
    app = BatchingApp(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_list],
        broker_credentials=faust_credentials(settings),
        store="memory://",
        autodiscover=False,
        web_host=settings.web_host,
        web_port=settings.web_port,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
        producer_max_batch_size=settings.producer_batch_bytes,
        stream_wait_empty=True,
        broker_commit_interval=settings.commit_interval_seconds,
    )
    app.fetch_max_wait = settings.fetch_max_wait_seconds
    app.fetch_min_bytes = settings.fetch_min_bytes
    client = connect_async(
        settings,
        # No per-reply timeout (it costs a timer per command in a pipeline); each store
        # operation runs under one deadline instead (stream.store.OPERATION_TIMEOUT).
        socket_timeout=None,
        socket_connect_timeout=5,
        health_check_interval=15,
    )
    store = RecordStore(
        client,
        settings.redis_key_prefix,
        policy,
        wait_replicas=settings.redis_wait_replicas,
        languages=settings.languages(),
    )
    registry = CollectorRegistry()
    metrics = EngineMetrics(registry)
    business = BusinessCollector()
    registry.register(business)
    shadow = load_shadow(settings, policy)
    engine = Engine(settings, policy, store, FaustPublisher(app, settings), metrics, shadow)
    probes = Probes(
        app,
        store,
        client.ping,
        registry,
        metrics,
        business,
        dict(settings.input_topics),
        engine.positions,
    )
    probes.register(settings.web_token)
    routes = CustomerRoutes(store, policy, metrics.on_redis_error, settings.languages().default)
    routes.register(app, settings.web_token)

    ranks = {name: TOPIC_RANK[contract] for name, contract in settings.input_topics.items()}
    limits = MergeLimits(
        idle=settings.input_idle_seconds,
        tolerance=settings.allowed_lateness_seconds,
        most=settings.merge_buffer,
    )
    merges = app.merged_batch_topics(ranks, engine.decode, limits)
    consumer = app.batching_consumer
    consumer.on_fetch_error = lambda exc: metrics.fetch_errors.labels(type(exc).__name__).inc()
    # partitions may move: the records kept in memory are loaded again from Redis
    consumer.on_rebalance = engine.cache.clear
    ingest = Ingest(engine, merges, consumer, settings.batch_max, settings.batch_within_seconds)
    app.task(ingest.run)
    timer = Reevaluation(engine, lambda: bool(app.rebalancing), probes.assigned_partitions)
    app.timer(interval=settings.timer_interval_seconds)(timer.tick)
    if settings.alertmanager_url is not None:
        forwarder = Forwarder(
            store,
            settings,
            metrics,
            next_steps=policy.alerts.next_steps,
            holdout=policy.alerts.holdout,
        )
        engine.on_alert_changes = forwarder.notify

        async def forward_alerts() -> None:
            """Alerts to Alertmanager: as they change, and all open ones periodically."""
            try:
                await forwarder.run(probes.assigned_partitions)
            finally:
                await forwarder.close()

        app.task(forward_alerts)

    async def count_rebalance(sender: Any, *args: Any, **kwargs: Any) -> None:
        metrics.rebalances.inc()

    app.on_rebalance_complete.connect(count_rebalance)  # type: ignore[arg-type]
    app.engine = engine  # type: ignore[attr-defined]
    return app


def tune_garbage_collector() -> None:
    """Scoring an event allocates many short-lived objects. With the default threshold (700
    allocations) the cyclic collector runs every few events, and each older-generation pass
    walks every long-lived object of Faust and the app: ~30% of the event path's time when
    measured in one process without Kafka or Redis.
    Objects made at start-up are moved out of collection and young passes run less often;
    everything the engine makes is freed by reference counting (a unit test fails on any
    reference cycle the fold leaves: such garbage would pile up between these rare passes,
    as `scoring.schedule.next_due`'s compiled closures once did). Every young
    pass also walks what is alive at that moment: with twelve partitions' batches of 5,000
    messages in flight that is much of what it sees: draining 1,000,000 events, passes
    every 50,000 allocations took 3.9 s, every 200,000 1.2 s (docs/benchmarks.md)."""
    gc.freeze()
    gc.set_threshold(200_000, 50, 100)


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Create the topics if needed and run the worker in the foreground until SIGINT/SIGTERM."""
    try:
        ensure_topics(settings)
    except (SyncKafkaError, TopicError) as exc:
        raise SystemExit(f"healthscore worker: cannot start: {exc}") from exc
    app = create_app(settings)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    tune_garbage_collector()
    # aiokafka's producer logs every send at debug level; building those records is measurable
    level = logging.getLevelName(loglevel.upper())
    level = level if isinstance(level, int) else logging.INFO
    logging.getLogger("aiokafka").setLevel(max(logging.INFO, level))
    worker.execute_from_commandline()
