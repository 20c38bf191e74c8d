"""Redis clients from the settings: one server, or a Redis Cluster (`HEALTHSCORE_REDIS_CLUSTER`).

Every process that reads or writes the store (worker, CLI, demo, benchmarks) connects here, so
a cluster needs no other change than the two settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

if TYPE_CHECKING:
    from stream.settings import Settings

# an alias (not a variable) even where redis is not installed: the compiled build checks
# `stream/store/views.py` without the runtime packages (setup.py)
Client: TypeAlias = aioredis.Redis | RedisCluster


def connect_async(settings: Settings, **options: Any) -> Client:
    """The worker's client. On a cluster, `redis_url` names any node: the others are found."""
    url = settings.redis_url.get_secret_value()
    if settings.redis_cluster:
        return RedisCluster.from_url(url, **options)
    return aioredis.Redis.from_url(url, **options)


def connect_sync(settings: Settings) -> redis.Redis | redis.RedisCluster:
    """A blocking client, for tools."""
    url = settings.redis_url.get_secret_value()
    if settings.redis_cluster:
        return redis.RedisCluster.from_url(url)
    return redis.Redis.from_url(url)
