"""A real Prometheus scrapes a real worker fed by the simulator: every dashboard query returns
data and every alerting rule evaluates without error."""

from __future__ import annotations

import contextlib
import json
import math
import re
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stream.dev.stack.processes import stop_pid
from stream.dev.stack.prometheus import start_prometheus
from stream.dev.synthetic import CustomerBase
from stream.metrics import REVENUE_GAUGES
from tests.revenue_history import EXPECTED, HISTORY

from .conftest import Stack, free_port, wait_for
from .harness import Run, Topics, produce

DASHBOARDS = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"


def query(port: int, expr: str) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        result: dict[str, Any] = json.loads(r.read())
    return result


def dashboard_queries() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        for p in board["panels"]:
            out.extend((board["title"], p["title"], t["expr"]) for t in p["targets"])
    return out


@contextlib.contextmanager
def scraped(stack: Stack, tmp: Path, docs: list[tuple[str, Any]], scrapes: int) -> Iterator[int]:
    """A real worker that consumed `docs`, scraped `scrapes` times by a real Prometheus: its
    port."""
    topics = Topics()
    run = Run(stack, topics, tmp)
    run.start()
    port = free_port()
    _, worker_port, _ = run.procs[0]
    pid = start_prometheus(
        tmp / "prometheus",
        host="127.0.0.1",
        port=port,
        targets=[f"127.0.0.1:{worker_port}"],
        interval="1s",
        report=lambda _line: None,
    )
    try:
        produce(stack, topics, docs)
        run.wait_drained()
        run.wait_quiet()
        wait_for(
            lambda: _samples(port) >= scrapes,
            60,
            f"Prometheus to scrape the worker {scrapes} times",
        )
        yield port
    finally:
        stop_pid(pid, "--config.file")
        run.stop_all()


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("observability")
    base = CustomerBase(150, seed=5, span_days=40, prefix="obs")
    docs: list[tuple[str, Any]] = [(e.kind, e.doc) for e in base.events(15_000)]
    docs += [("survey", b"{broken"), ("survey", b'{"type": "nps"}')]
    with scraped(stack, tmp, docs, 8) as port:
        yield port, tmp / "prometheus"


def _samples(port: int) -> int:
    result = query(port, 'count_over_time(up{job="healthscore"}[1m])')["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def test_every_dashboard_query_returns_data(prometheus: tuple[int, Path]) -> None:
    port, _ = prometheus
    queries = dashboard_queries()
    assert len(queries) >= 20
    empty = []
    for board, panel, expr in queries:
        answer = query(port, expr)
        assert "success" == answer["status"], (board, panel, expr, answer)
        if not answer["data"]["result"]:
            empty.append(f"{board} / {panel}: {expr}")
    assert [] == empty


def test_every_alert_rule_evaluates_without_error(prometheus: tuple[int, Path]) -> None:
    port, _ = prometheus
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/rules", timeout=10) as r:
        groups = json.loads(r.read())["data"]["groups"]
    rules = [rule for g in groups for rule in g["rules"]]
    assert {
        "HealthscoreWorkerDown",
        "HealthscoreLagGrowing",
        "HealthscoreDeadLettersRising",
        "HealthscoreAtRiskShareRising",
        "HealthscoreRevenueAtRiskRising",
        "HealthscoreNoEvents",
    } == {r["name"] for r in rules}
    deadline = time.monotonic() + 30
    while any(r["health"] == "unknown" for r in rules) and time.monotonic() < deadline:
        time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/rules", timeout=10) as r:
            rules = [x for g in json.loads(r.read())["data"]["groups"] for x in g["rules"]]
    assert {r["name"]: "ok" for r in rules} == {r["name"]: r["health"] for r in rules}
    for rule in rules:
        assert "success" == query(port, rule["query"])["status"]


def test_the_rendered_prometheus_config_passes_promtool(prometheus: tuple[int, Path]) -> None:
    _, directory = prometheus
    out = subprocess.run(
        ["promtool", "check", "config", str(directory / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == out.returncode, out.stdout + out.stderr


# --- the revenue panels against a history worked out by hand ---------------------------------


@pytest.fixture(scope="module")
def revenue_prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real worker that consumed `tests.revenue_history`, scraped by a real Prometheus."""
    with scraped(stack, tmp_path_factory.mktemp("revenue"), list(HISTORY), 3) as port:
        wait_for(
            lambda: bool(query(port, "healthscore_revenue_mrr_end")["data"]["result"]),
            30,
            "the revenue gauges",
        )
        yield port


def test_the_revenue_panels_return_the_hand_computed_values(revenue_prometheus: int) -> None:
    """Every figure the revenue dashboard's queries return for the hand-written history equals
    the value worked out by hand (tests/revenue_history.py); a figure the hand says is undefined
    (nothing at the start, no churn) is no series at all."""
    port = revenue_prometheus
    board = json.loads((DASHBOARDS / "revenue.json").read_text())
    measure_of = {f"healthscore_revenue_{n}": m for n, _, m in REVENUE_GAUGES}
    measure_of |= {f"healthscore_cohort_{n}": m for n, _, m in REVENUE_GAUGES}
    seen: dict[tuple[str, str, str], float] = {}
    shown: dict[str, set[str]] = {"segment": set(), "cohort": set()}
    for p in board["panels"]:
        for target in p["targets"]:
            name = re.search(r"healthscore_(?:revenue|cohort)_\w+", target["expr"])
            assert name is not None, target["expr"]
            measure = measure_of[name.group(0)]
            kind = "cohort" if "_cohort_" in name.group(0) else "segment"
            shown[kind].add(measure)
            answer = query(port, target["expr"])
            assert "success" == answer["status"], (p["title"], target["expr"], answer)
            for series in answer["data"]["result"]:
                labels = series["metric"]
                group = labels["segment"] if kind == "segment" else f"cohort {labels['cohort']}"
                seen[(group, labels["month"], measure)] = float(series["value"][1])
    compared, wrong = 0, []
    for group, months in EXPECTED.items():
        kind = "cohort" if group.startswith("cohort ") else "segment"
        for month, figures in months.items():
            for measure, want in figures.items():
                if measure not in shown[kind]:
                    continue
                got = seen.get((group, month, measure))
                compared += 1
                ok = (
                    got is None
                    if want is None
                    else got is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
                )
                if not ok:
                    wrong.append((group, month, measure, got, want))
    assert [] == wrong
    assert compared >= 60
