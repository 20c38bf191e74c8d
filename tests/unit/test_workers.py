"""`healthscore worker --processes N`: the supervisor's ports, signals and exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from stream.workers import default_processes


def test_the_default_is_one_worker_per_usable_core() -> None:
    assert default_processes() == len(os.sched_getaffinity(0))


def fake_cli(tmp_path: Path, body: str) -> dict[str, str]:
    """A `stream.cli` that records its port and argv, then runs `body`."""
    pkg = tmp_path / "fake" / "stream"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text(
        textwrap.dedent(
            f"""
            import os, sys, time
            out = {str(tmp_path)!r}
            port = os.environ["HEALTHSCORE_WEB_PORT"]
            open(os.path.join(out, port), "w").write(" ".join(sys.argv[1:]))
            """
        )
        + textwrap.dedent(body)
    )
    return dict(os.environ, PYTHONPATH=str(tmp_path / "fake"))


def supervise(env: dict[str, str], count: int) -> subprocess.Popen[bytes]:
    code = (
        "import sys; from stream.workers import run_processes; "
        f"sys.exit(run_processes({count}, 7100, 'warning'))"
    )
    repo = str(Path(__file__).resolve().parents[2])
    # the supervisor itself imports the real package; its children find the fake cli first
    return subprocess.Popen(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {repo!r}); {code}"],
        env=env,
        cwd=env["PYTHONPATH"],  # `python -m` looks in the working directory first
    )


def test_each_worker_gets_its_own_port_and_a_signal_stops_them_all(tmp_path: Path) -> None:
    env = fake_cli(tmp_path, "time.sleep(60)\n")
    proc = supervise(env, 3)
    deadline = time.monotonic() + 20
    while len([p for p in tmp_path.iterdir() if p.is_file()]) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    ports = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert ["7100", "7101", "7102"] == ports
    assert "worker --processes 1 --loglevel warning" == (tmp_path / "7100").read_text()
    proc.send_signal(signal.SIGTERM)
    assert 0 == proc.wait(30)


def test_one_worker_failing_stops_the_others_with_its_exit_code(tmp_path: Path) -> None:
    env = fake_cli(tmp_path, 'sys.exit(3) if port == "7101" else time.sleep(60)\n')
    proc = supervise(env, 2)
    assert 3 == proc.wait(60)
