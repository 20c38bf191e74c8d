"""Start, probe and stop the local processes of the stack, each in its own session."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class StackError(RuntimeError):
    """A stack service could not be started, found or stopped; the message says what to do."""


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Say whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Say whether a Redis server at host:port answers PING (a loading server does not)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def pid_alive(pid: int | None, marker: str) -> bool:
    """Say whether process `pid` runs and its command line contains `marker` (no reused pid)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state != "Z" and marker in cmdline


def spawn(argv: Sequence[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start `argv` detached in its own session, output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )


def wait_until(
    ready: Callable[[], bool],
    proc: subprocess.Popen[bytes],
    *,
    name: str,
    timeout: float,
    log_path: Path,
) -> float:
    """Wait until `ready()`; fail with the log's tail if the process dies or time runs out."""
    started = time.monotonic()
    while True:
        if ready():
            return time.monotonic() - started
        code = proc.poll()
        if code is not None:
            raise StackError(f"{name} exited with code {code} while starting.\n{tail(log_path)}")
        if time.monotonic() - started > timeout:
            stop_pid(proc.pid, name)
            raise StackError(
                f"{name} did not become ready within {timeout:.0f}s.\n{tail(log_path)}"
            )
        time.sleep(0.2)


def tail(path: Path, lines: int = 25) -> str:
    """Return the last lines of a log file, labelled, for error messages."""
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return f"(no log at {path})"
    return f"last lines of {path}:\n" + "\n".join("  " + line for line in text)


def stop_pid(pid: int, marker: str, grace: float = 30.0) -> bool:
    """Stop process `pid` with SIGTERM, then SIGKILL after `grace` seconds; True if it was ours."""
    if not pid_alive(pid, marker):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid, marker):
            _reap(pid)
            return True
        _reap(pid)
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while pid_alive(pid, marker):
        _reap(pid)
        time.sleep(0.05)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status if `pid` is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
