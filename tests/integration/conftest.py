"""Real services for integration tests: a Kafka broker and redis-server from the stack launcher,
and the worker as a separate process. A missing tool fails the run; it is never skipped."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytest
import redis

from stream.dev.ports import free_port, free_port_run
from stream.dev.stack import StackOptions, down, up
from stream.dev.stack.launcher import (
    REDIS_CLUSTER_BUS_OFFSET,
    REDIS_CLUSTER_NODES,
    default_cache_dir,
)

REQUIRED_TOOLS = {
    "java": "openjdk-17-jre-headless",
    "mvn": "maven",
    "redis-server": "redis-server",
    "kcat": "kcat",
    "openssl": "openssl",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "chromium": "chromium",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it holds; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Stack:
    opts: StackOptions

    @property
    def bootstrap(self) -> str:
        return self.opts.bootstrap

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.opts.redis_port}/0"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    missing = [
        f"{tool} (apt-get install {pkg})"
        for tool, pkg in REQUIRED_TOOLS.items()
        if shutil.which(tool) is None
    ]
    if missing:
        pytest.fail("integration tests need " + ", ".join(missing) + "; `make test` installs them")
    opts = StackOptions(
        state_dir=tmp_path_factory.mktemp("stack"),
        cache_dir=default_cache_dir(),
        kafka_port=free_port(),
        controller_port=free_port(),
        redis_port=free_port(),
    )
    up(opts, report=lambda line: print(line, file=sys.stderr))
    try:
        yield Stack(opts)
    finally:
        down(opts, report=lambda line: print(line, file=sys.stderr), purge=True)


@pytest.fixture(scope="session")
def redis_cluster(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis Cluster (three primaries with a replica each) beside the stack: its URL."""
    opts = replace(
        stack.opts,
        state_dir=tmp_path_factory.mktemp("redis-cluster"),
        redis_port=free_port_run(REDIS_CLUSTER_NODES, shifted=REDIS_CLUSTER_BUS_OFFSET),
        redis_cluster=True,
        with_prometheus=False,
    )
    up(opts, report=lambda line: print(line, file=sys.stderr))  # Kafka: the stack's, as it is
    try:
        yield opts.redis_url
    finally:
        down(opts, report=lambda line: print(line, file=sys.stderr), purge=True)


@pytest.fixture(scope="session")
def redis_client(stack: Stack) -> redis.Redis:
    return redis.Redis.from_url(stack.redis_url)
