"""Prometheus metrics of the worker: the engine's own health, and the customer base's health.

Every label set is bounded: topics, event types, outcomes, rules, severities, bands, segments
and partitions; never a customer id. Business gauges (customers per band, score distribution,
per-segment NPS, CSAT, CES, response times and churn) are read from Redis when Prometheus
scrapes, so every worker reports the same global values: dashboards take `max` of them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scoring.policy import BANDS
from scoring.revenue import COHORT, Month, is_cohort

# Seconds. Dense between 0.1 and 1: a quantile is interpolated within its bucket, and the live
# latency's p99 is judged against 250 ms, which with only 0.25 and 0.5 around it read as
# "249 ms" or "495 ms" whatever it was within them
LATENCY_BUCKETS = (
    *(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75),
    *(1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0),
)
EVENT_AGE_BUCKETS = (0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 3600.0, 86_400.0, 7 * 86_400.0)
SCORE_BUCKETS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)


def observe_many(histogram: Histogram, values: list[float]) -> None:
    """Observe many values at once: each bucket and the sum moved once, not once per value
    (the engine observes every event of a batch). Falls back to one `observe` per value."""
    if not values:
        return
    bounds = getattr(histogram, "_upper_bounds", None)
    buckets = getattr(histogram, "_buckets", None)
    total = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None:
        for v in values:
            histogram.observe(v)
        return
    counts = [0] * len(bounds)
    for v in values:
        counts[bisect.bisect_left(bounds, v)] += 1
    for i, n in enumerate(counts):
        if n:
            buckets[i].inc(n)
    total.inc(sum(values))


class EngineMetrics:
    """Counters and histograms the engine updates as it works."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.events = Counter(
            "healthscore_events",
            "Input events by topic, type and outcome",
            ["topic", "type", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "healthscore_dead_letters",
            "Messages sent to the dead-letter topic, by field at fault",
            ["topic", "field"],
            registry=registry,
        )
        self.latency = Histogram(
            "healthscore_event_to_score_seconds",
            "Seconds from an event's Kafka timestamp (produce time) to its score being stored",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.event_age = Histogram(
            "healthscore_event_age_seconds",
            "Seconds from an event's occurred_at (event time) to its score being stored",
            buckets=EVENT_AGE_BUCKETS,
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "healthscore_batch_seconds",
            "Seconds to apply one batch, publish and store it",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.redis_errors = Counter(
            "healthscore_redis_errors",
            "Redis operations that failed and were retried",
            ["operation"],
            registry=registry,
        )
        self.write_conflicts = Counter(
            "healthscore_write_conflicts",
            "Compare-and-set writes lost to another writer and redone",
            registry=registry,
        )
        self.scores_published = Counter(
            "healthscore_scores_published", "Score updates sent to health-scores", registry=registry
        )
        self.alerts = Counter(
            "healthscore_alerts",
            "Churn alerts raised, by rule and severity",
            ["rule", "severity"],
            registry=registry,
        )
        # the alerts raised (counted above too) that the policy's holdout kept out of delivery
        self.alerts_held_out = Counter(
            "healthscore_alerts_held_out",
            "Churn alerts raised but held out of delivery by the policy's holdout experiment "
            "(recorded, not published nor forwarded), by leading rule",
            ["rule"],
            registry=registry,
        )
        self.rebalances = Counter(
            "healthscore_rebalances",
            "Consumer group rebalances this worker completed",
            registry=registry,
        )
        self.reevaluations = Counter(
            "healthscore_reevaluations",
            "Customers re-evaluated by stream time (no event)",
            registry=registry,
        )
        self.fetch_errors = Counter(
            "healthscore_fetch_errors",
            "Fetches the consumer could not decode (a compression codec missing, a corrupt "
            "batch); retried with backoff, the worker goes on",
            ["error"],
            registry=registry,
        )
        self.fetch_errors.labels("UnsupportedCodecError")
        self.lag = Gauge(
            "healthscore_consumer_lag",
            "Messages not yet processed, per input partition",
            ["topic", "partition"],
            registry=registry,
        )
        self.watermark = Gauge(
            "healthscore_watermark_seconds",
            "Stream time (highest event time seen) per partition",
            ["partition"],
            registry=registry,
        )
        # Pre-create the label sets dashboards sum over, so they read 0 rather than nothing.
        for op in ("load", "save", "due", "watermark", "segments", "metrics"):
            self.redis_errors.labels(op)

        self.alertmanager = Counter(
            "healthscore_alertmanager_alerts",
            "Alerts posted to Alertmanager, by state (firing, resolved) and outcome (sent, failed)",
            ["state", "outcome"],
            registry=registry,
        )

    def on_redis_error(self, operation: str) -> None:
        self.redis_errors.labels(operation).inc()


@dataclass
class SegmentSnapshot:
    """One segment's measures over the window; None where there is no data."""

    nps: float | None = None
    csat: float | None = None
    ces: float | None = None
    first_response_seconds: float | None = None
    resolution_seconds: float | None = None
    reopen_rate: float | None = None
    churn_rate: float | None = None
    customers: int = 0


@dataclass
class BusinessSnapshot:
    """What the business gauges report, read from Redis at scrape time."""

    bands: dict[str, int] = field(default_factory=dict)
    score_buckets: list[tuple[float, int]] = field(default_factory=list)  # (le, cumulative)
    score_sum: float = 0.0
    segments: dict[str, SegmentSnapshot] = field(default_factory=dict)
    revenue_by_segment: dict[str, float] = field(default_factory=dict)  # revenue at risk
    revenue_by_owner: dict[str, float] = field(default_factory=dict)
    # revenue movements and retention per month: segment, "cohort YYYY-MM" or "all" -> months
    revenue: dict[str, list[Month]] = field(default_factory=dict)


# The monthly revenue figures (scoring.revenue), each a gauge labelled by segment and month, and
# the same by cohort and month: (name, help, Month measure)
REVENUE_GAUGES: tuple[tuple[str, str, str], ...] = (
    ("mrr_start", "MRR at the start of the month", "start_mrr"),
    ("mrr_end", "MRR at the end of the month", "end_mrr"),
    ("logos_start", "Paying customers at the start of the month", "start_logos"),
    ("logos_end", "Paying customers at the end of the month", "end_logos"),
    ("mrr_new", "New MRR in the month (customers paying for the first time)", "mrr_new"),
    ("mrr_expansion", "Expansion MRR in the month", "mrr_expansion"),
    ("mrr_contraction", "Contraction MRR in the month", "mrr_contraction"),
    ("mrr_churned", "MRR lost to churned customers in the month", "mrr_churn"),
    ("mrr_reactivation", "MRR of customers who came back in the month", "mrr_reactivation"),
    ("logos_new", "Customers who started paying in the month", "logos_new"),
    ("logos_churned", "Customers who stopped paying in the month", "logos_churn"),
    ("logos_reactivated", "Customers who came back in the month", "logos_reactivation"),
    ("logo_churn_rate", "Churned customers / customers at the month's start", "logo_churn_rate"),
    ("mrr_churn_rate", "Churned MRR / MRR at the start of the month", "mrr_churn_rate"),
    ("expansion_rate", "Expansion MRR / MRR at the start of the month", "expansion_rate"),
    ("grr", "Gross revenue retention: (start - contraction - churn) / start", "grr"),
    ("nrr", "Net revenue retention: (start + expansion - contraction - churn) / start", "nrr"),
    ("arpa", "Average revenue per account: MRR / paying customers at the month's end", "arpa"),
    ("ltv", "Lifetime value: ARPA x gross margin / logo churn rate", "ltv"),
)


class BusinessCollector(Collector):
    """Expose the latest business snapshot as gauges (refreshed by the /metrics handler)."""

    def __init__(self) -> None:
        self.snapshot = BusinessSnapshot()

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        bands = GaugeMetricFamily(
            "healthscore_customers", "Customers per health band", labels=["band"]
        )
        for band in BANDS:
            bands.add_metric([band], snap.bands.get(band, 0))
        yield bands
        total = sum(snap.bands.values())
        share = GaugeMetricFamily(
            "healthscore_at_risk_share", "Share of scored customers at risk or critical"
        )
        share.add_metric(
            [],
            (snap.bands.get("at_risk", 0) + snap.bands.get("critical", 0)) / total
            if total
            else 0.0,
        )
        yield share
        dist = GaugeMetricFamily(
            "healthscore_score_bucket",
            "Customers with a score at or below `le` (cumulative)",
            labels=["le"],
        )
        for le, count in snap.score_buckets:
            dist.add_metric([f"{le:g}"], count)
        yield dist
        for name, doc, label, sums in (
            (
                "healthscore_revenue_at_risk",
                "Revenue at risk per segment: the sum of its customers' MRR x churn probability "
                "(MRR x relative risk where uncalibrated)",
                "segment",
                snap.revenue_by_segment,
            ),
            (
                "healthscore_owner_revenue_at_risk",
                "Revenue at risk per customer success manager (owner)",
                "owner",
                snap.revenue_by_owner,
            ),
        ):
            family = GaugeMetricFamily(name, doc, labels=[label])
            for key, value in sorted(sums.items()):
                family.add_metric([key], value)
            yield family
        yield from self._segments(snap.segments.items())
        yield from self._revenue(snap.revenue)

    @staticmethod
    def _revenue(groups: dict[str, list[Month]]) -> Iterator[Metric]:
        """The monthly revenue figures: `healthscore_revenue_<measure>{segment, month}` (the
        segment "all" is every customer) and `healthscore_cohort_<measure>{cohort, month}`;
        months whose measure is undefined (nothing at the start, no churn) are left out."""
        families = [
            (
                measure,
                GaugeMetricFamily(
                    f"healthscore_revenue_{name}",
                    f"{doc}, per segment",
                    labels=["segment", "month"],
                ),
                GaugeMetricFamily(
                    f"healthscore_cohort_{name}",
                    f"{doc}, per cohort (the month customers were first seen)",
                    labels=["cohort", "month"],
                ),
            )
            for name, doc, measure in REVENUE_GAUGES
        ]
        for group, months in sorted(groups.items()):
            cohort = is_cohort(group)
            label = group[len(COHORT) :] if cohort else group
            for m in months:
                values = m.measures()
                for measure, by_segment, by_cohort in families:
                    value = values[measure]
                    if value is not None:
                        (by_cohort if cohort else by_segment).add_metric(
                            [label, m.month], float(value)
                        )
        for _, by_segment, by_cohort in families:
            yield by_segment
            yield by_cohort

    @staticmethod
    def _segments(items: Iterable[tuple[str, SegmentSnapshot]]) -> Iterator[Metric]:
        specs = [
            ("healthscore_segment_nps", "NPS per segment over 30 days (-100..100)", "nps"),
            ("healthscore_segment_csat_percent", "CSAT per segment over 30 days (% 4-5)", "csat"),
            (
                "healthscore_segment_ces_percent",
                "CES per segment over 30 days (% low effort)",
                "ces",
            ),
            (
                "healthscore_segment_first_response_seconds",
                "Mean first-response time per segment over 30 days",
                "first_response_seconds",
            ),
            (
                "healthscore_segment_resolution_seconds",
                "Mean resolution time per segment over 30 days",
                "resolution_seconds",
            ),
            (
                "healthscore_segment_reopen_rate",
                "Reopens per ticket opened, 30 days",
                "reopen_rate",
            ),
            (
                "healthscore_segment_churn_rate",
                "Churned customers over customers, 30 days",
                "churn_rate",
            ),
            ("healthscore_segment_customers", "Customers per segment", "customers"),
        ]
        rows = list(items)
        for name, doc, attr in specs:
            family = GaugeMetricFamily(name, doc, labels=["segment"])
            for segment, snap in rows:
                value = getattr(snap, attr)
                if value is not None:
                    family.add_metric([segment], float(value))
            yield family
