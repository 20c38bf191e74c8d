"""A local Prometheus that scrapes healthscore workers and evaluates the alerting rules, and a
local Alertmanager that takes the churn alerts (and Prometheus's own alerts)."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from stream.dev.stack.processes import StackError, spawn, wait_until
from stream.resources import resource

MARKER = "--config.file"
ALERTMANAGER_MARKER = "prometheus-alertmanager"


def prometheus_config(
    targets: Sequence[str],
    rules_file: Path,
    interval: str = "15s",
    alertmanager: str | None = None,
) -> str:
    """A prometheus.yml scraping `targets` (host:port of workers) with the engine's rules,
    sending its alerts to `alertmanager` (host:port) when given."""
    target_list = ", ".join(f'"{t}"' for t in targets)
    alerting = (
        "alerting:\n  alertmanagers:\n    - static_configs:\n"
        f'        - targets: ["{alertmanager}"]\n'
        if alertmanager
        else ""
    )
    return (
        "global:\n"
        f"  scrape_interval: {interval}\n"
        f"  evaluation_interval: {interval}\n"
        f"{alerting}"
        "rule_files:\n"
        f"  - {rules_file.resolve()}\n"
        "scrape_configs:\n"
        "  - job_name: healthscore\n"
        "    static_configs:\n"
        f"      - targets: [{target_list}]\n"
    )


def prometheus_ready(host: str, port: int) -> bool:
    """Say whether Prometheus (or Alertmanager) at host:port reports ready."""
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
    alertmanager: str | None = None,
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
    config.write_text(prometheus_config(targets, rules, interval, alertmanager))
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


def start_alertmanager(
    directory: Path,
    *,
    host: str,
    port: int,
    config: Path | None = None,
    timeout: float = 60.0,
    report: Callable[[str], None] = print,
) -> int:
    """Start Alertmanager with `config` (default: the shipped config/alertmanager/alertmanager.yml)
    and its data in `directory`, on its own (no peers); return its pid once ready."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        raise StackError(
            "`prometheus-alertmanager` was not found on PATH. Install it: "
            "apt-get install -y prometheus-alertmanager"
        )
    directory.mkdir(parents=True, exist_ok=True)
    source = config or resource("alertmanager/alertmanager.yml")
    copy = directory / "alertmanager.yml"
    copy.write_text(source.read_text(encoding="utf-8"))
    log = directory / "alertmanager.log"
    proc = spawn(
        [
            binary,
            f"--config.file={copy.resolve()}",
            f"--storage.path={(directory / 'data').resolve()}",
            f"--web.listen-address={host}:{port}",
            "--cluster.listen-address=",  # a single instance: no gossip port
        ],
        log,
        cwd=directory,
    )
    report(f"alertmanager: started pid {proc.pid}")
    took = wait_until(
        lambda: prometheus_ready(host, port),
        proc,
        name="Alertmanager",
        timeout=timeout,
        log_path=log,
    )
    report(f"alertmanager: ready on http://{host}:{port} after {took:.1f}s")
    return proc.pid
