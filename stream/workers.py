"""Several workers of one consumer group on one machine, started and stopped together.

`healthscore worker --processes N` starts N worker processes (each `--processes 1`) with the
same settings but their own HTTP port (`HEALTHSCORE_WEB_PORT` + i), forwards SIGINT/SIGTERM to
all of them, and when one of them ends, stops the others and exits with its code: a supervisor
(systemd, Kubernetes) then sees one unit that failed, not a machine running at half capacity.
Kafka spreads the partitions over the processes as over workers on separate machines; nothing
of our own coordinates them.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType

log = logging.getLogger(__name__)


def default_processes() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_processes(count: int, web_port: int, loglevel: str) -> int:
    """Run `count` workers until one ends or a signal stops them; return the exit code."""
    procs: list[subprocess.Popen[bytes]] = []
    for i in range(count):
        env = dict(os.environ, HEALTHSCORE_WEB_PORT=str(web_port + i))
        argv = [sys.executable, "-m", "stream.cli", "worker", "--processes", "1"]
        procs.append(subprocess.Popen([*argv, "--loglevel", loglevel], env=env))
        log.info("worker %d of %d: pid %d, HTTP port %d", i + 1, count, procs[-1].pid, web_port + i)
    stopping: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = 0
        while True:
            ended = [p for p in procs if p.poll() is not None]
            if ended:
                code = 0 if stopping else (ended[0].returncode or 1)
                break
            time.sleep(0.2)
        if not stopping:
            print(
                f"worker pid {ended[0].pid} ended with code {ended[0].returncode}; "
                "stopping the others",
                file=sys.stderr,
            )
            forward(signal.SIGTERM, None)
        deadline = time.monotonic() + 60
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return code
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
