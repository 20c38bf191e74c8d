"""The worker's own HTTP routes: `/metrics` (Prometheus), `/healthz` and `/readyz`, with the
consumer's lag refreshed at each scrape."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import SecretStr

from stream.auth import guarded
from stream.metrics import BusinessCollector, EngineMetrics
from stream.store import OPERATION_TIMEOUT, RETRYABLE, RecordStore
from stream.worker.batching import BatchingApp

log = logging.getLogger(__name__)


class Probes:
    """`/metrics` behind the token (it counts customers), `/healthz` and `/readyz` open (they
    say nothing about customers)."""

    def __init__(
        self,
        app: BatchingApp,
        store: RecordStore,
        ping: Callable[[], Any],
        registry: CollectorRegistry,
        metrics: EngineMetrics,
        business: BusinessCollector,
        input_topics: dict[str, str],
        positions: dict[tuple[str, int], int],
    ) -> None:
        self.app = app
        self.store = store
        self.ping = ping
        self.registry = registry
        self.metrics = metrics
        self.business = business
        self.input_topics = input_topics  # configured name -> contract name
        self.positions = positions  # the engine's last offset done per topic and partition

    def register(self, token: SecretStr | None) -> None:
        self.app.page("/metrics")(guarded(token)(self.prometheus_metrics))
        self.app.page("/healthz")(guarded(None)(self.healthz))
        self.app.page("/readyz")(guarded(None)(self.readyz))

    def assigned_partitions(self) -> set[int]:
        """The input partition numbers this worker owns now (none while rebalancing)."""
        try:
            assignment = self.app.consumer.assignment()
        except Exception:  # noqa: BLE001 - not started or rebalancing
            return set()
        return {tp.partition for tp in assignment if tp.topic in self.input_topics}

    def refresh_lag(self) -> None:
        consumer = self.app.consumer
        try:
            assignment = consumer.assignment()
        except Exception:  # noqa: BLE001 - not started or rebalancing: report nothing new
            return
        committed = getattr(consumer, "_committed_offset", {})
        lag = self.metrics.lag
        lag.clear()
        for tp in assignment:
            if tp.topic not in self.input_topics:
                continue
            end = consumer.highwater(tp)
            done = self.positions.get((tp.topic, tp.partition))
            start = done + 1 if done is not None else committed.get(tp)
            if end is not None and start is not None:
                contract = self.input_topics[tp.topic]
                lag.labels(contract, str(tp.partition)).set(max(0, end - start))

    async def prometheus_metrics(self, web: Any, request: Any) -> Any:
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                self.business.snapshot = await self.store.business_snapshot()
        except RETRYABLE as exc:
            self.metrics.on_redis_error("metrics")
            log.warning("business metrics unavailable: %s", exc)
        self.refresh_lag()
        # aiohttp adds the charset itself and refuses one inside content_type
        content_type = CONTENT_TYPE_LATEST.split(";", 1)[0]
        return web.bytes(generate_latest(self.registry), content_type=content_type)

    async def healthz(self, web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    async def readyz(self, web: Any, request: Any) -> Any:
        problems = []
        try:
            async with asyncio.timeout(5):
                await self.ping()
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            problems.append(f"redis: {exc}")
        if self.app.batching_consumer.fetch_problem:
            problems.append(f"kafka: {self.app.batching_consumer.fetch_problem}")
        if self.app.rebalancing:
            problems.append("kafka: rebalancing")
        elif not self.assigned_partitions():
            problems.append("kafka: no partitions assigned yet")
        if problems:
            return web.json({"status": "not ready", "problems": problems}, status=503)
        return web.json({"status": "ready", "partitions": sorted(self.assigned_partitions())})
