"""`healthscore stack up|down|status` on its own ports: idempotent, honest, leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from stream.dev.stack.processes import pid_alive, port_answers

from .conftest import free_port, wait_for


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stream.cli", "stack", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_up_twice_then_status_then_kill_then_down_then_status(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    ports = {
        "--kafka-port": free_port(),
        "--controller-port": free_port(),
        "--redis-port": free_port(),
        "--prometheus-port": free_port(),
    }
    port_args = [x for k, v in ports.items() for x in (k, str(v))]
    pids: dict[str, int] = {}
    try:
        first = cli("up", "--state-dir", state, "--with-prometheus", *port_args)
        assert 0 == first.returncode, first.stderr
        assert "kafka: ready" in first.stderr
        assert "redis: ready" in first.stderr

        second = cli("up", "--state-dir", state, "--with-prometheus", *port_args)
        assert 0 == second.returncode, second.stderr
        assert "kafka: already running" in second.stderr
        assert "redis: already running" in second.stderr

        running = cli("status", "--state-dir", state)
        assert 0 == running.returncode, running.stdout
        assert 3 == running.stdout.count("running")

        pids = {
            n: s["pid"]
            for n, s in json.loads((Path(state) / "stack.json").read_text())["services"].items()
        }
        os.kill(pids["kafka"], signal.SIGKILL)
        wait_for(lambda: not pid_alive(pids["kafka"], "kafka.Kafka"), 10, "the broker to die")
        broken = cli("status", "--state-dir", state)
        assert 1 == broken.returncode
        assert f"process {pids['kafka']} is gone" in broken.stdout
    finally:
        stopped = cli("down", "--state-dir", state)
    assert 0 == stopped.returncode, stopped.stderr
    assert not pid_alive(pids["redis"], "redis-server")
    assert not port_answers("127.0.0.1", ports["--redis-port"])
    assert not port_answers("127.0.0.1", ports["--kafka-port"])
    assert not port_answers("127.0.0.1", ports["--prometheus-port"])
    assert not pid_alive(pids["prometheus"], "--config.file")
    after = cli("status", "--state-dir", state)
    assert 1 == after.returncode
    assert 2 == after.stdout.count("stopped")
