"""A local Prometheus that scrapes healthscore workers and evaluates the alerting rules."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from stream.dev.stack.processes import StackError, spawn, wait_until
from stream.resources import resource

MARKER = "--config.file"


def prometheus_config(targets: Sequence[str], rules_file: Path, interval: str = "15s") -> str:
    """A prometheus.yml scraping `targets` (host:port of workers) with the engine's rules."""
    target_list = ", ".join(f'"{t}"' for t in targets)
    return (
        "global:\n"
        f"  scrape_interval: {interval}\n"
        f"  evaluation_interval: {interval}\n"
        "rule_files:\n"
        f"  - {rules_file.resolve()}\n"
        "scrape_configs:\n"
        "  - job_name: healthscore\n"
        "    static_configs:\n"
        f"      - targets: [{target_list}]\n"
    )


def prometheus_ready(host: str, port: int) -> bool:
    """Say whether Prometheus at host:port reports ready."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/-/ready", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def start_prometheus(
    directory: Path,
    *,
    host: str,
    port: int,
    targets: Sequence[str],
    interval: str = "15s",
    timeout: float = 60.0,
    report: Callable[[str], None] = print,
) -> int:
    """Start Prometheus with data and config in `directory`; return its pid once ready."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise StackError(
            "`prometheus` was not found on PATH. Install it: apt-get install -y prometheus"
        )
    directory.mkdir(parents=True, exist_ok=True)
    rules = directory / "rules.yml"
    rules.write_text(resource("prometheus/rules.yml").read_text(encoding="utf-8"))
    config = directory / "prometheus.yml"
    config.write_text(prometheus_config(targets, rules, interval))
    log = directory / "prometheus.log"
    proc = spawn(
        [
            binary,
            f"{MARKER}={config.resolve()}",
            f"--storage.tsdb.path={(directory / 'data').resolve()}",
            f"--web.listen-address={host}:{port}",
            "--storage.tsdb.retention.time=7d",
        ],
        log,
        cwd=directory,
    )
    report(f"prometheus: started pid {proc.pid}, scraping {', '.join(targets)}")
    took = wait_until(
        lambda: prometheus_ready(host, port), proc, name="Prometheus", timeout=timeout, log_path=log
    )
    report(f"prometheus: ready on http://{host}:{port} after {took:.1f}s")
    return proc.pid
