"""The baseline: a raw aiokafka consumer reading the same topics, JSON decoding only."""

from __future__ import annotations

import asyncio
import time

import orjson
from aiokafka import AIOKafkaConsumer


async def _consume(bootstrap: str, topics: list[str], total: int) -> float:
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        seen = 0
        started = None
        while seen < total:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if started is None and batches:
                started = time.perf_counter()
            for records in batches.values():
                for r in records:
                    orjson.loads(r.value)
            seen += sum(len(v) for v in batches.values())
        return seen / (time.perf_counter() - (started or time.perf_counter()))
    finally:
        await consumer.stop()


def baseline_rate(bootstrap: str, topics: list[str], total: int) -> float:
    """Events per second a raw consumer reads and decodes (from its first fetch to the last)."""
    return asyncio.run(_consume(bootstrap, topics, total))
