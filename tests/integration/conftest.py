"""Real services for integration tests: a Kafka broker and redis-server from the stack launcher,
and the worker as a separate process. A missing tool fails the run; it is never skipped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from stream.stack import StackOptions, down, up
from stream.stack.launcher import default_cache_dir

REQUIRED_TOOLS = {
    "java": "openjdk-17-jre-headless",
    "mvn": "maven",
    "redis-server": "redis-server",
    "kcat": "kcat",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        return f"127.0.0.1:{self.opts.kafka_port}"

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
def redis_client(stack: Stack) -> redis.Redis:
    return redis.Redis.from_url(stack.redis_url)


@dataclass
class Worker:
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    web_port: int
    extra: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def worker_env(stack: Stack, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHSCORE_")}
    env.update(
        {
            "HEALTHSCORE_KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap,
            "HEALTHSCORE_REDIS_URL": stack.redis_url,
            "HEALTHSCORE_WEB_PORT": str(free_port()),
            "HEALTHSCORE_APP_ID": f"it-{uuid.uuid4().hex[:8]}",
        }
    )
    env.update(overrides)
    return env


def start_worker(env: dict[str, str], log: Path) -> Worker:
    """Start `healthscore worker` as its own process and wait until its web server answers."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stream.cli", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    port = int(env["HEALTHSCORE_WEB_PORT"])
    worker = Worker(env, proc, log, port)

    def answers() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"worker exited with {proc.returncode}:\n{worker.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return True
        except OSError:
            return False

    wait_for(answers, 90, "the worker's /healthz")
    return worker


def stop_worker(worker: Worker) -> None:
    worker.proc.terminate()
    try:
        worker.proc.wait(30)
    except subprocess.TimeoutExpired:
        worker.proc.kill()
        worker.proc.wait(10)


@pytest.fixture(scope="session")
def worker(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    w = start_worker(worker_env(stack), log)
    try:
        yield w
    finally:
        stop_worker(w)
