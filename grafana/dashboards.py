"""Build the Grafana dashboards as JSON: `python grafana/dashboards.py` writes them into
grafana/dashboards/. A unit test checks the committed files are current; an integration test runs
every panel's query against a real Prometheus that scraped a real worker."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
HERE = Path(__file__).parent


def panel(
    title: str,
    exprs: list[tuple[str, str]],
    *,
    kind: str = "timeseries",
    unit: str = "",
    description: str = "",
    stack: bool = False,
    w: int = 12,
    h: int = 8,
    table: bool = False,
) -> dict[str, Any]:
    """One panel: `exprs` are (PromQL, legend) pairs. A `table` panel shows the latest value of
    each series, one row per label set, the queries joined side by side (one column each)."""
    defaults: dict[str, Any] = {"unit": unit} if unit else {}
    if stack:
        defaults["custom"] = {"stacking": {"mode": "normal"}, "fillOpacity": 60}
    out: dict[str, Any] = {
        "type": "table" if table else kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"w": w, "h": h},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DATASOURCE,
                "expr": expr,
                "legendFormat": legend,
                **({"instant": True, "format": "table"} if table else {}),
            }
            for i, (expr, legend) in enumerate(exprs)
        ],
    }
    if table:
        # one row per label set, a column per query named by its legend, time dropped
        out["transformations"] = [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True}}},
        ]
        out["options"] = {"sortBy": [{"displayName": "month", "desc": True}]}
    return out


def layout(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Place panels left to right, wrapping at Grafana's 24 columns."""
    x = y = row_h = 0
    for i, p in enumerate(panels):
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        p["gridPos"].update({"x": x, "y": y})
        p["id"] = i + 1
        x, row_h = x + w, max(row_h, h)
    return panels


def dashboard(
    uid: str, title: str, description: str, panels: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["healthscore"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "panels": layout(panels),
        # Prometheus has no customer ids (they would be unbounded labels): the customers
        # themselves, by risk, are on the worker's portfolio page
        "templating": {
            "list": [
                {
                    "name": "pages",
                    "label": "Worker pages (HEALTHSCORE_PUBLIC_URL)",
                    "type": "textbox",
                    "query": "http://localhost:6066",
                    "current": {"text": "http://localhost:6066", "value": "http://localhost:6066"},
                    "hide": 2,
                }
            ]
        },
        "links": [
            {
                "title": "Customers by risk (portfolio)",
                "type": "link",
                "url": "${pages}/portfolio",
                "icon": "external link",
                "targetBlank": True,
                "tooltip": "Every customer, most at risk first, with trend, drivers and alerts",
            }
        ],
    }


def customer_health() -> dict[str, Any]:
    seg = "{{segment}}"
    return dashboard(
        "healthscore-customers",
        "Customer health",
        "How healthy the customer base is, per band and per segment.",
        [
            panel(
                "Customers per band",
                [("max by (band) (healthscore_customers)", "{{band}}")],
                stack=True,
                description="Healthy, at risk and critical customers over time.",
            ),
            panel(
                "At-risk share",
                [("max(healthscore_at_risk_share)", "at risk or critical")],
                kind="stat",
                unit="percentunit",
                w=6,
                description="Share of scored customers at risk or critical.",
            ),
            panel(
                "Score distribution",
                [("max by (le) (healthscore_score_bucket)", "≤ {{le}}")],
                kind="bargauge",
                w=6,
                description="Customers with a score at or below each value (cumulative).",
            ),
            panel(
                "Revenue at risk per segment",
                [("max by (segment) (healthscore_revenue_at_risk)", seg)],
                stack=True,
                w=12,
                description="Sum of the customers' MRR x churn probability (MRR x relative "
                "risk where the policy is uncalibrated), per segment.",
            ),
            panel(
                "Revenue at risk per manager",
                [
                    (
                        "topk(10, max by (owner) (healthscore_owner_revenue_at_risk))",
                        "{{owner}}",
                    )
                ],
                kind="bargauge",
                w=12,
                description="The ten owners with the most revenue at risk; their worklists "
                "(/worklist?owner=) rank it customer by customer.",
            ),
            panel(
                "Alerts by rule (per hour)",
                [("sum by (rule) (increase(healthscore_alerts_total[1h]))", "{{rule}}")],
                description="Churn alerts raised, by rule.",
            ),
            panel(
                "NPS per segment",
                [("max by (segment) (healthscore_segment_nps)", seg)],
                w=6,
                description="Promoters minus detractors, % over 30 days.",
            ),
            panel(
                "CSAT per segment",
                [("max by (segment) (healthscore_segment_csat_percent)", seg)],
                unit="percent",
                w=6,
                description="Share of 4-5 answers over 30 days.",
            ),
            panel(
                "CES per segment",
                [("max by (segment) (healthscore_segment_ces_percent)", seg)],
                unit="percent",
                w=6,
                description="Share of low-effort (5-7) answers over 30 days.",
            ),
            panel(
                "First response per segment",
                [("max by (segment) (healthscore_segment_first_response_seconds)", seg)],
                unit="s",
                w=6,
                description="Mean time to the first agent reply over 30 days.",
            ),
            panel(
                "Churn rate per segment",
                [("max by (segment) (healthscore_segment_churn_rate)", seg)],
                unit="percentunit",
                w=8,
                description="Churned customers over the segment's customers.",
            ),
            panel(
                "Reopen rate per segment",
                [("max by (segment) (healthscore_segment_reopen_rate)", seg)],
                unit="percentunit",
                w=8,
                description="Reopens per ticket opened, 30 days.",
            ),
            panel(
                "Resolution time per segment",
                [("max by (segment) (healthscore_segment_resolution_seconds)", seg)],
                unit="s",
                w=8,
                description="Mean time to the first resolution over 30 days.",
            ),
        ],
    )


def engine() -> dict[str, Any]:
    return dashboard(
        "healthscore-engine",
        "Engine",
        "The stream worker's throughput, latency, lag and errors.",
        [
            panel(
                "Throughput by outcome",
                [("sum by (outcome) (rate(healthscore_events_total[1m]))", "{{outcome}}")],
                unit="ops",
                stack=True,
                description="Input events per second: applied, duplicate (same event again), "
                "redelivered (after a restart), dead-lettered.",
            ),
            panel(
                "Produce-to-score latency",
                [
                    (
                        f"histogram_quantile({q}, sum by (le) "
                        "(rate(healthscore_event_to_score_seconds_bucket[5m])))",
                        f"p{int(q * 100)}",
                    )
                    for q in (0.5, 0.95, 0.99)
                ],
                unit="s",
                description="From the event's Kafka timestamp to its score stored.",
            ),
            panel(
                "Consumer lag",
                [("sum by (topic) (healthscore_consumer_lag)", "{{topic}}")],
                description="Messages waiting, per input topic.",
            ),
            panel(
                "Dead letters",
                [("sum by (field) (rate(healthscore_dead_letters_total[5m]))", "{{field}}")],
                unit="ops",
                description="Messages sent to health-dlq, by the field at fault.",
            ),
            panel(
                "Fetch errors",
                [("sum by (error) (rate(healthscore_fetch_errors_total[5m]))", "{{error}}")],
                unit="ops",
                description="Fetched batches the worker could not decode (a compression codec "
                "missing, a corrupt batch): retried with backoff, nothing skipped; /readyz names "
                "the error.",
            ),
            panel(
                "Redis errors and retries",
                [
                    (
                        "sum by (operation) (rate(healthscore_redis_errors_total[5m]))",
                        "{{operation}}",
                    )
                ],
                unit="ops",
                description="Failed Redis operations, each retried with backoff.",
            ),
            panel(
                "Rebalances",
                [("sum(increase(healthscore_rebalances_total[15m]))", "rebalances")],
                description="Consumer group rebalances completed, per 15 minutes.",
            ),
            panel(
                "Batch time p99",
                [
                    (
                        "histogram_quantile(0.99, sum by (le) "
                        "(rate(healthscore_batch_seconds_bucket[5m])))",
                        "p99",
                    )
                ],
                unit="s",
                w=8,
                description="Time to apply, publish and store one batch.",
            ),
            panel(
                "Scores published",
                [("sum(rate(healthscore_scores_published_total[1m]))", "per second")],
                unit="ops",
                w=8,
                description="Updates sent to health-scores.",
            ),
            panel(
                "Workers up",
                [('sum(up{job="healthscore"})', "workers")],
                kind="stat",
                w=8,
                description="Worker processes Prometheus can scrape.",
            ),
        ],
    )


def revenue() -> dict[str, Any]:
    """Revenue movements, retention and lifetime value per month: per segment (`all`: every
    customer) and per cohort. The months are labels (the worker reads them from its ledger in
    Redis, event time), so these panels are tables of the latest scrape, not time series."""

    def seg(name: str) -> str:
        return f"max by (segment, month) (healthscore_revenue_{name})"

    def coh(name: str) -> str:
        return f"max by (cohort, month) (healthscore_cohort_{name})"

    movements = [
        ("mrr_start", "start MRR"),
        ("mrr_new", "new"),
        ("mrr_expansion", "expansion"),
        ("mrr_contraction", "contraction"),
        ("mrr_churned", "churned"),
        ("mrr_reactivation", "reactivation"),
        ("mrr_end", "end MRR"),
    ]
    rates = [
        ("grr", "GRR"),
        ("nrr", "NRR"),
        ("logo_churn_rate", "logo churn"),
        ("mrr_churn_rate", "MRR churn"),
        ("expansion_rate", "expansion rate"),
    ]
    value = [("logos_end", "customers"), ("arpa", "ARPA"), ("ltv", "lifetime value")]
    return dashboard(
        "healthscore-revenue",
        "Customer revenue",
        "Revenue kept and lost per month: expansion, contraction, churn and reactivation, gross "
        "and net revenue retention, ARPA and lifetime value, per segment and per cohort "
        "(definitions: docs/revenue.md).",
        [
            panel(
                "Net and gross revenue retention, logo and MRR churn, per segment and month",
                [(seg(name), legend) for name, legend in rates],
                table=True,
                unit="percentunit",
                w=24,
                h=9,
                description="NRR = (start + expansion - contraction - churn) / start; GRR "
                "leaves expansion out. Logo churn: churned customers over those paying at the "
                "month's start. The segment `all` is every customer.",
            ),
            panel(
                "MRR movements per segment and month",
                [(seg(name), legend) for name, legend in movements],
                table=True,
                w=24,
                h=9,
                description="Where each month's MRR came from and went: new customers, "
                "expansion, contraction, churn and customers who came back.",
            ),
            panel(
                "ARPA and lifetime value per segment and month",
                [(seg(name), legend) for name, legend in value],
                table=True,
                w=12,
                description="ARPA = MRR / paying customers at the month's end; lifetime value "
                "= ARPA x gross margin (the policy's) / logo churn rate (none in a month "
                "without churn).",
            ),
            panel(
                "Cohorts: net revenue retention and MRR per month",
                [
                    (coh("nrr"), "NRR"),
                    (coh("mrr_end"), "end MRR"),
                    (coh("logos_end"), "customers"),
                    (coh("ltv"), "lifetime value"),
                ],
                table=True,
                w=12,
                description="Customers grouped by the month they were first seen.",
            ),
        ],
    )


DASHBOARDS = {
    "customer-health.json": customer_health,
    "engine.json": engine,
    "revenue.json": revenue,
}


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def main(target: Path = HERE / "dashboards") -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name, build in DASHBOARDS.items():
        (target / name).write_text(render(build()), encoding="utf-8")
        print(target / name)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "dashboards")
