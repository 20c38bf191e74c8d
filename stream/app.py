"""The Faust worker: agents on the input topics, the stream-time timer and the HTTP views."""

from __future__ import annotations

import asyncio
import functools
import gc
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
from kafka.errors import KafkaError as SyncKafkaError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import SecretStr

from scoring.policy import Policy, PolicyError, state_differences
from stream.metrics import BusinessCollector, EngineMetrics
from stream.resources import load_policy
from stream.settings import Settings
from stream.store import OPERATION_TIMEOUT, RETRYABLE, Record, RecordStore
from stream.store.client import connect_async
from stream.topics import TopicError, ensure_topics
from stream.web import pages
from stream.worker.alertmanager import Forwarder
from stream.worker.alignment import TOPIC_RANK, MergeLimits
from stream.worker.batching import BatchingApp
from stream.worker.engine import DeadLetter, Decoded, Engine, Outputs

log = logging.getLogger(__name__)

MAX_CUSTOMER_ID = 128  # characters, as the input contract has it
PORTFOLIO_PAGE = 50  # customers per portfolio page
WORKLIST_BOOK = 2000  # an owner's customers a worklist reads, most at risk first

Page = Callable[..., Awaitable[Any]]


TOKEN_COOKIE = "healthscore_token"  # noqa: S105 - a cookie name; set by /login for browsers


def authorized(headers: Any, token: SecretStr | None, cookies: Any = None) -> bool:
    """Does a request carry the token, as a bearer token or the /login cookie (always true
    when none is configured)?"""
    if token is None:
        return True
    expected = token.get_secret_value().encode()
    scheme, _, given = str(headers.get("Authorization", "")).partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected):
        return True
    cookie = str((cookies or {}).get(TOKEN_COOKIE, ""))
    return bool(cookie) and hmac.compare_digest(cookie.encode(), expected)


def guarded(token: SecretStr | None) -> Callable[[Page], Page]:
    """A page that needs the bearer token (when one is configured) and never answers with a
    stack trace: an unexpected error is logged and answered with a plain 500."""

    def wrap(page: Page) -> Page:
        @functools.wraps(page)
        async def view(web: Any, request: Any, **kwargs: Any) -> Any:
            if not authorized(request.headers, token, getattr(request, "cookies", None)):
                return web.json(
                    {
                        "error": "this page needs the worker's token: Authorization: Bearer, "
                        "or sign in at /login in a browser"
                    },
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="healthscore"'},
                )
            try:
                return await page(web, request, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("HTTP %s failed", request.path)
                return web.json(
                    {"error": "internal error; the worker's log has the details"}, status=500
                )

        return view

    return wrap


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
    scoring the message."""

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
                log.warning("publishing failed (%r); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)

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
        stream_wait_empty=True,
        broker_commit_interval=settings.commit_interval_seconds,
    )
    client = connect_async(
        settings,
        # No per-reply timeout (it costs a timer per command in a pipeline); each store
        # operation runs under one deadline instead (stream.store.OPERATION_TIMEOUT).
        socket_timeout=None,
        socket_connect_timeout=5,
        health_check_interval=15,
    )
    store = RecordStore(
        client, settings.redis_key_prefix, policy, wait_replicas=settings.redis_wait_replicas
    )
    registry = CollectorRegistry()
    metrics = EngineMetrics(registry)
    business = BusinessCollector()
    registry.register(business)
    shadow = load_shadow(settings, policy)
    engine = Engine(settings, policy, store, FaustPublisher(app, settings), metrics, shadow)
    input_names = set(settings.input_topics)

    async def handle(batch: Sequence[Decoded]) -> None:
        """Process a batch; an unexpected error isolates the message that causes it."""
        try:
            await engine.process_decoded(batch)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("batch failed; retrying its messages one by one")
            for item in batch:
                msg = item[0]
                try:
                    await engine.process_decoded([item])
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("message %s[%s]@%s failed", msg.topic, msg.partition, msg.offset)
                    letter = DeadLetter(msg, f"internal: {exc!r}", "internal")
                    await engine.publisher.publish(Outputs(dead=[letter]))

    ranks = {name: TOPIC_RANK[contract] for name, contract in settings.input_topics.items()}
    limits = MergeLimits(
        idle=settings.input_idle_seconds,
        tolerance=settings.allowed_lateness_seconds,
        most=settings.merge_buffer,
    )
    merges = app.merged_batch_topics(ranks, engine.decode_one, limits)
    consumer = app.batching_consumer
    consumer.on_fetch_error = lambda exc: metrics.fetch_errors.labels(type(exc).__name__).inc()
    # partitions may move: the records kept in memory are loaded again from Redis
    consumer.on_rebalance = engine.cache.clear

    async def drain(partition: int) -> None:
        """One partition number's messages in merged event-time order, a batch at a time:
        acked only once published and stored."""
        while True:
            batch = await merges.next_batch(
                partition, settings.batch_max, settings.batch_within_seconds
            )
            consumer.track_batch(batch)
            async with engine.partition_lock(partition):
                await handle(batch.items)
            consumer.ack_batch(batch)

    @app.task  # type: ignore[untyped-decorator]
    async def ingest() -> None:
        """The engine's agent: a task per partition number (the input topics are
        co-partitioned, so a customer's events all arrive on one partition number),
        overlapping their round trips."""
        async with asyncio.TaskGroup() as group:
            while True:
                group.create_task(drain(await merges.new.get()))

    def assigned_partitions() -> set[int]:
        try:
            assignment = app.consumer.assignment()
        except Exception:  # noqa: BLE001 - not started or rebalancing
            return set()
        return {tp.partition for tp in assignment if tp.topic in input_names}

    if settings.alertmanager_url is not None:
        forwarder = Forwarder(store, settings, metrics)
        engine.on_alert_changes = forwarder.notify

        @app.task  # type: ignore[untyped-decorator]
        async def forward_alerts() -> None:
            """Alerts to Alertmanager: as they change, and all open ones periodically."""
            try:
                await forwarder.run(assigned_partitions)
            finally:
                await forwarder.close()

    @app.timer(interval=settings.timer_interval_seconds)  # type: ignore[untyped-decorator]
    async def reevaluate() -> None:
        if app.rebalancing:
            return
        try:
            await engine.tick(assigned_partitions())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("re-evaluation tick failed")

    async def load_customer(web: Any, customer_id: str) -> tuple[Record | None, Any]:
        """The customer's record, or the answer to give instead (400, 503, 404)."""
        if not 1 <= len(customer_id) <= MAX_CUSTOMER_ID:
            error = {"error": f"a customer id is 1-{MAX_CUSTOMER_ID} characters"}
            return None, web.json(error, status=400)
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                record = await store.record(customer_id)
        except RETRYABLE as exc:
            metrics.on_redis_error("http")
            return None, web.json({"error": f"redis unavailable: {exc!r}"}, status=503)
        if record is None or record.evaluated is None:
            return None, web.json({"error": f"unknown customer {customer_id!r}"}, status=404)
        return record, None

    @app.page("/customers/{customer_id}/health")
    @guarded(settings.web_token)
    async def customer_health(web: Any, request: Any, customer_id: str) -> Any:
        record, answer = await load_customer(web, customer_id)
        if record is None:
            return answer
        return web.json(record.health_record(policy))

    @app.page("/customers/{customer_id}/history")
    @guarded(settings.web_token)
    async def customer_history(web: Any, request: Any, customer_id: str) -> Any:
        record, answer = await load_customer(web, customer_id)
        if record is None:
            return answer
        return web.json(pages.history_json(record))

    @app.page("/customers/{customer_id}")
    @guarded(settings.web_token)
    async def customer_page(web: Any, request: Any, customer_id: str) -> Any:
        record, answer = await load_customer(web, customer_id)
        if record is None:
            return answer
        return web.html(pages.customer_page(record, record.health_record(policy)))

    @app.page("/login")
    class Login(faust.web.View):
        """A form that takes the token and keeps it in an HttpOnly cookie, so the pages open
        in a browser when HEALTHSCORE_WEB_TOKEN is set."""

        async def get(self, request: Any) -> Any:
            return self.html(pages.login_page(failed=False))

        async def post(self, request: Any) -> Any:
            form = await request.post()
            given = str(form.get("token", ""))
            if settings.web_token is None or not authorized({}, settings.web_token,
                                                            {TOKEN_COOKIE: given}):  # fmt: skip
                return self.html(pages.login_page(failed=True), status=401)
            response: Any = self.web.text("", status=303, headers={"Location": "/portfolio"})
            response.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="Strict")
            return response

    @app.page("/portfolio")
    @guarded(settings.web_token)
    async def portfolio(web: Any, request: Any) -> Any:
        owner = (request.query.get("owner") or "").strip()[:MAX_CUSTOMER_ID] or None
        try:
            offset = max(0, int(request.query.get("offset") or 0))
        except ValueError:
            offset = 0
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                total, records = await store.portfolio(owner, offset, PORTFOLIO_PAGE)
        except RETRYABLE as exc:
            metrics.on_redis_error("http")
            return web.json({"error": f"redis unavailable: {exc!r}"}, status=503)
        rows = [pages.Row(r, r.health_record(policy)) for r in records]
        html = pages.portfolio_page(
            rows, owner=owner, total=total, offset=offset, limit=PORTFOLIO_PAGE
        )
        return web.html(html)

    @app.page("/worklist")
    @guarded(settings.web_token)
    async def worklist(web: Any, request: Any) -> Any:
        owner = (request.query.get("owner") or "").strip()[:MAX_CUSTOMER_ID] or None
        if owner is None:
            return web.html(pages.worklist_page([], owner=None, scanned=0, book=0, next_steps={}))
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                book, records = await store.portfolio(owner, 0, WORKLIST_BOOK)
        except RETRYABLE as exc:
            metrics.on_redis_error("http")
            return web.json({"error": f"redis unavailable: {exc!r}"}, status=503)
        rows = [pages.Row(r, r.health_record(policy)) for r in records]
        html = pages.worklist_page(
            rows,
            owner=owner,
            scanned=len(records),
            book=book,
            next_steps=policy.alerts.next_steps,
        )
        return web.html(html)

    async def count_rebalance(sender: Any, *args: Any, **kwargs: Any) -> None:
        metrics.rebalances.inc()

    app.on_rebalance_complete.connect(count_rebalance)  # type: ignore[arg-type]

    def refresh_lag() -> None:
        try:
            assignment = app.consumer.assignment()
        except Exception:  # noqa: BLE001 - not started or rebalancing: report nothing new
            return
        committed = getattr(app.consumer, "_committed_offset", {})
        metrics.lag.clear()
        for tp in assignment:
            if tp.topic not in input_names:
                continue
            end = app.consumer.highwater(tp)
            done = engine.positions.get((tp.topic, tp.partition))
            start = done + 1 if done is not None else committed.get(tp)
            if end is not None and start is not None:
                contract = settings.input_topics[tp.topic]
                metrics.lag.labels(contract, str(tp.partition)).set(max(0, end - start))

    @app.page("/metrics")
    @guarded(settings.web_token)
    async def prometheus_metrics(web: Any, request: Any) -> Any:
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                business.snapshot = await store.business_snapshot()
        except RETRYABLE as exc:
            metrics.on_redis_error("metrics")
            log.warning("business metrics unavailable: %s", exc)
        refresh_lag()
        # aiohttp adds the charset itself and refuses one inside content_type
        content_type = CONTENT_TYPE_LATEST.split(";", 1)[0]
        return web.bytes(generate_latest(registry), content_type=content_type)

    @app.page("/healthz")
    @guarded(None)  # probes send no token; it says nothing about customers
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    @guarded(None)
    async def readyz(web: Any, request: Any) -> Any:
        problems = []
        try:
            async with asyncio.timeout(5):
                await client.ping()
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            problems.append(f"redis: {exc}")
        if app.batching_consumer.fetch_problem:
            problems.append(f"kafka: {app.batching_consumer.fetch_problem}")
        if app.rebalancing:
            problems.append("kafka: rebalancing")
        elif not assigned_partitions():
            problems.append("kafka: no partitions assigned yet")
        if problems:
            return web.json({"status": "not ready", "problems": problems}, status=503)
        return web.json({"status": "ready", "partitions": sorted(assigned_partitions())})

    app.engine = engine  # type: ignore[attr-defined]
    return app


def tune_garbage_collector() -> None:
    """Scoring an event allocates many short-lived objects. With the default threshold (700
    allocations) the cyclic collector runs every few events, and each older-generation pass
    walks every long-lived object of Faust and the app: ~30% of the event path's time when
    measured in one process without Kafka or Redis.
    Objects made at start-up are moved out of collection and young passes run less often;
    almost everything the engine makes is freed by reference counting anyway."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


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
