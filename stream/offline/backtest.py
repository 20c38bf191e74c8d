"""Backtests: replay a history through the scoring core in event time, read every customer's
score at one or more cutoffs, join what happened next, and measure how well the score predicted it.

The replay is `scoring.timeline`, the very fold the worker runs (events in event time, each
preceded by the customer's due moments), so a backtest's scores and alerts are the live engine's.
Customers are independent, so they are replayed in parallel processes.
"""

from __future__ import annotations

import csv
import gzip
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from scoring import evaluation as evl
from scoring.alerts import RULES, Alert
from scoring.components import plain_signals, signals
from scoring.decay import DAY
from scoring.events import Churned, Event, event_order
from scoring.health import score
from scoring.policy import BANDS, Policy
from scoring.state import APPLIED, CustomerState, apply_into
from scoring.timeline import Standing, catch_up_into, evaluate_into
from stream.codec import DecodeError, decode_event

DEFAULT_REFRESH = 7 * DAY  # the worker's default `reevaluate_every_seconds`
MAX_ERRORS_KEPT = 20


class BacktestError(ValueError):
    """The history, labels or options cannot be backtested; the message says why."""


def parse_time(text: str) -> float:
    """A cutoff given as a date (midnight UTC) or an RFC 3339 timestamp, as POSIX seconds.

    >>> parse_time("2026-01-01"), parse_time("2026-01-01T12:00:00Z")
    (1767225600.0, 1767268800.0)
    """
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC).timestamp()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise BacktestError(f"{text!r}: not a date (YYYY-MM-DD) or an RFC 3339 time") from None


@dataclass
class History:
    """Decoded events grouped by customer, and what could not be decoded."""

    customers: dict[str, list[Event]] = field(default_factory=dict)
    events: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    first: float | None = None
    last: float | None = None

    def add(self, event: Event) -> None:
        events = self.customers.get(event.customer_id)
        if events is None:
            self.customers[event.customer_id] = [event]
        else:
            events.append(event)
        self.events += 1
        t = event.occurred_at
        if self.first is None or t < self.first:
            self.first = t
        if self.last is None or t > self.last:
            self.last = t

    def reject(self, where: str, error: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(f"{where}: {error}")


BLOCK = 1 << 20  # bytes read (as decompressed) at a time


def _blocks(path: Path) -> Iterator[tuple[list[bytes], int]]:
    """The file's lines a block at a time, each block with how far into the file (as stored)
    reading has come: one read and one split per megabyte, not a call per line."""
    with path.open("rb") as raw:
        source: Any = gzip.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw
        tail = b""
        while block := source.read(BLOCK):
            lines = (tail + block).split(b"\n")
            tail = lines.pop()  # the start of a line the next block ends
            yield lines, raw.tell()
        if tail:
            yield [tail], raw.tell()


def read_files(paths: Sequence[Path], on_bytes: Callable[[int], None] | None = None) -> History:
    """Read contract messages, one JSON object a line (`.gz` files are decompressed); a line
    that is not a valid message is counted and named, never fatal. `on_bytes(n)` is told how
    many more bytes of the files (as stored) have been read."""
    history = History()
    for path in paths:
        if not path.is_file():
            raise BacktestError(f"{path}: no such file")
        done = number = 0
        for lines, at in _blocks(path):
            if on_bytes is not None and at != done:
                on_bytes(at - done)
                done = at
            for line in lines:
                number += 1
                raw = line.strip()
                if not raw:
                    continue
                try:
                    history.add(decode_event(raw))
                except DecodeError as exc:
                    history.reject(f"{path}:{number}", exc.describe())
    return history


def read_messages(messages: Iterable[tuple[str, bytes | None, bytes]]) -> History:
    """Decode (where, key, value) messages, e.g. read from Kafka topics."""
    history = History()
    for where, key, value in messages:
        try:
            history.add(decode_event(value, key=key))
        except DecodeError as exc:
            history.reject(where, exc.describe())
    return history


def read_labels(path: Path) -> dict[str, tuple[bool, float | None]]:
    """A labels file: CSV with a header naming `customer_id`, `churned` (1/0, true/false) and
    optionally `churned_at` (a date or RFC 3339 time)."""
    if not path.is_file():
        raise BacktestError(f"{path}: no such labels file")
    out: dict[str, tuple[bool, float | None]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"customer_id", "churned"} - set(reader.fieldnames or ())
        if missing:
            raise BacktestError(f"{path}: header must name {', '.join(sorted(missing))}")
        for number, row in enumerate(reader, start=2):
            flag = (row["churned"] or "").strip().lower()
            if flag not in {"1", "0", "true", "false", "yes", "no"}:
                raise BacktestError(f"{path}:{number}: churned must be 1/0 or true/false")
            at = (row.get("churned_at") or "").strip()
            out[row["customer_id"]] = (flag in {"1", "true", "yes"}, parse_time(at) if at else None)
    return out


@dataclass(frozen=True, slots=True)
class AtCutoff:
    """A customer as the engine saw it at one cutoff."""

    cutoff: float
    score: float
    band: str
    probability: float | None
    signals: dict[str, float]
    plain: dict[str, float]
    # the rules holding at the cutoff and whether an alert was open: a manager still has it
    holding: tuple[str, ...] = ()
    alert_open: bool = False


@dataclass(frozen=True, slots=True)
class Replayed:
    """One customer's replay: its reading at each cutoff it was live at, its alerts, its churns."""

    customer_id: str
    segment: str | None
    readings: tuple[AtCutoff, ...]
    alerts: tuple[tuple[str, float], ...]  # (rule, fired at): every rule, merged or not
    churns: tuple[float, ...]
    episodes: tuple[float, ...] = ()  # when each alert was raised (one per episode)
    span: float = 0.0  # seconds from the customer's first event to the end of the replay
    # each raised alert's rules when it was raised, the leading one first (as `episodes`)
    episode_rules: tuple[tuple[str, ...], ...] = ()


def _read(standing: Standing, cutoff: float, policy: Policy) -> AtCutoff | None:
    state: CustomerState = standing.state
    if state.first_seen is None or state.first_seen > cutoff or state.is_churned:
        return None
    health = score(state, policy, cutoff, standing.memory.band)
    if health is None:
        return None
    return AtCutoff(
        cutoff,
        health.score,
        health.band,
        health.churn_probability,
        signals(state, policy, cutoff),
        plain_signals(state, policy, cutoff),
        tuple(r for r, rs in standing.memory.rules.items() if rs.active),
        standing.memory.open is not None,
    )


def replay_customer(
    events: list[Event], policy: Policy, cutoffs: Sequence[float], end: float, refresh: float
) -> Replayed:
    """Live through one customer's history up to `end` (`scoring.timeline`), reading it at
    every cutoff (after the events up to and including the cutoff, and its due moments)."""
    ordered = sorted(events, key=event_order)
    customer = ordered[0].customer_id
    standing = Standing(CustomerState(customer))
    state = standing.state
    fired: list[tuple[str, float]] = []  # every rule that fired: merged into an alert or not
    standing.memory.fired = fired
    pending = sorted(cutoffs)
    readings: list[AtCutoff] = []
    raised: list[Alert] = []
    for event in ordered:
        t = event.occurred_at
        while pending and pending[0] < t:
            catch_up_into(standing, pending[0], policy, refresh, raised)
            reading = _read(standing, pending.pop(0), policy)
            if reading is not None:
                readings.append(reading)
        catch_up_into(standing, t, policy, refresh, raised)
        if apply_into(state, event, policy) == APPLIED:
            evaluate_into(standing, t, policy, refresh, False, raised)
    for cutoff in pending:
        catch_up_into(standing, cutoff, policy, refresh, raised)
        reading = _read(standing, cutoff, policy)
        if reading is not None:
            readings.append(reading)
    catch_up_into(standing, end, policy, refresh, raised)
    standing.memory.fired = None
    alerts = fired
    episodes = [a.raised_at for a in raised]
    churns = tuple(sorted(e.occurred_at for e in ordered if isinstance(e, Churned)))
    span = end - ordered[0].occurred_at
    return Replayed(
        customer,
        standing.state.segment,
        tuple(readings),
        tuple(alerts),
        churns,
        tuple(episodes),
        span,
        tuple(a.rules or (a.rule,) for a in raised),
    )


_POLICY: Policy | None = None
# the customers' events, set before a fork-started pool is made: its workers inherit them, so
# no event is pickled on its way to them (pickling a million took longer than replaying them)
_GROUPS: list[list[Event]] = []


def _init(policy: Policy) -> None:
    global _POLICY  # one policy per worker process, set once
    _POLICY = policy


def _replay_chunk(
    chunk: list[list[Event]] | range, cutoffs: Sequence[float], end: float, refresh: float
) -> list[Replayed]:
    """Replay a chunk: the customers' events themselves, or (forked) their places in `_GROUPS`."""
    assert _POLICY is not None
    groups = [_GROUPS[i] for i in chunk] if isinstance(chunk, range) else chunk
    return [replay_customer(events, _POLICY, cutoffs, end, refresh) for events in groups]


def replay_history(
    history: History,
    policy: Policy,
    cutoffs: Sequence[float],
    *,
    refresh: float = DEFAULT_REFRESH,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[Replayed]:
    """Replay every customer (in `workers` processes; 1 replays in this process), calling
    `on_progress(events)` as customers finish."""
    global _GROUPS
    if history.last is None:
        raise BacktestError("the history has no valid event")
    end = history.last
    groups = list(history.customers.values())
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(groups) < 200:
        out = []
        for events in groups:
            out.append(replay_customer(events, policy, cutoffs, end, refresh))
            if on_progress is not None:
                on_progress(len(events))
        return out
    bounds: list[range] = []  # chunks of about a 16th of a worker's share of the events
    target = max(1, history.events // (workers * 16))
    first = size = 0
    for i, events in enumerate(groups):
        size += len(events)
        if size >= target:
            bounds.append(range(first, i + 1))
            first, size = i + 1, 0
    if first < len(groups):
        bounds.append(range(first, len(groups)))
    forked = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forked else None)
    out = []
    _GROUPS = groups if forked else []
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init, initargs=(policy,)
        ) as pool:
            futures = [
                pool.submit(
                    _replay_chunk,
                    chunk if forked else [groups[i] for i in chunk],
                    list(cutoffs),
                    end,
                    refresh,
                )
                for chunk in bounds
            ]
            for chunk, future in zip(bounds, futures, strict=True):
                out.extend(future.result())
                if on_progress is not None:
                    on_progress(sum(len(groups[i]) for i in chunk))
    finally:
        _GROUPS = []
    return out


# --- outcomes and measures -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One customer at one cutoff, with what happened within the horizon after it."""

    customer_id: str
    segment: str | None
    reading: AtCutoff
    churned: bool


def rows(
    replayed: Sequence[Replayed],
    horizon: float,
    labels: dict[str, tuple[bool, float | None]] | None = None,
) -> list[Row]:
    """Join readings with outcomes: a `churned` event within the horizon after the cutoff, or
    the labels file's (a label with a time counts within the horizon; one without counts as
    is). With labels, customers without a label are left out."""
    out: list[Row] = []
    for r in replayed:
        for reading in r.readings:
            c = reading.cutoff
            if labels is not None:
                if r.customer_id not in labels:
                    continue
                flag, at = labels[r.customer_id]
                churned = flag and (at is None or c < at <= c + horizon)
                if flag and at is not None and at <= c:
                    continue  # gone before the cutoff
            else:
                churned = any(c < t <= c + horizon for t in r.churns)
            out.append(Row(r.customer_id, r.segment, reading, churned))
    return out


@dataclass(frozen=True)
class Measured:
    """A score's (or a signal's) churn AUC and its bootstrap interval."""

    name: str
    auc: float | None
    interval: tuple[float, float] | None


def measure(name: str, values: Sequence[float], churned: Sequence[bool], draws: int) -> Measured:
    auc = evl.churn_auc(values, churned)
    interval = evl.auc_interval(values, churned, draws=draws) if auc is not None else None
    return Measured(name, auc, interval)


@dataclass(frozen=True)
class RuleQuality:
    """How an alert rule did: customers it alerted on at a cutoff (an alert raised in the
    window before it, or still open at it) against churn after, its volume and lead time."""

    rule: str
    alerted: int
    churned_alerted: int
    churners: int
    rows: int = 0  # customer-cutoffs measured
    alerts: int = 0  # alerts raised ("any") or rule firings, over the whole replay
    customer_months: float = 0.0
    lead_days: tuple[float, ...] = ()

    @property
    def precision(self) -> float | None:
        return self.churned_alerted / self.alerted if self.alerted else None

    @property
    def recall(self) -> float | None:
        return self.churned_alerted / self.churners if self.churners else None

    @property
    def lift(self) -> float | None:
        """Precision over the base rate: 2.0 means alerted customers churn twice as often."""
        if self.precision is None or not self.rows or not self.churners:
            return None
        return self.precision / (self.churners / self.rows)

    @property
    def per_customer_month(self) -> float | None:
        return self.alerts / self.customer_months if self.customer_months else None

    @property
    def median_lead_days(self) -> float | None:
        return _median(self.lead_days)

    def to_dict(self) -> dict[str, Any]:
        """The figures as `--json` and a calibrated policy's `fitted` record them."""
        return {
            "rule": self.rule,
            "alerted": self.alerted,
            "precision": self.precision,
            "lift": self.lift,
            "recall": self.recall,
            "alerts_per_customer_month": self.per_customer_month,
            "median_lead_days": self.median_lead_days,
        }


def rule_quality(
    replayed: Sequence[Replayed], table: Sequence[Row], window: float, horizon: float = 0.0
) -> list[RuleQuality]:
    """Per rule, and for "any" (the alerts raised, one per episode, the ones a manager gets):
    of the customers alerted at a cutoff (raised within `window` before it, or holding at it),
    how many churned within the horizon (precision); of the churners, how many were alerted
    (recall); the alerts per customer-month and the lead time from the first alert within
    the horizon before a churn to the churn."""
    by_id = {r.customer_id: r for r in replayed}
    churners = sum(1 for row in table if row.churned)
    months = sum(r.span for r in replayed) / (30 * DAY)
    out = []
    for rule in (*RULES, "any"):
        alerted = hit = 0
        for row in table:
            r = by_id[row.customer_id]
            c = row.reading.cutoff
            times = r.episodes if rule == "any" else [at for n, at in r.alerts if n == rule]
            held = row.reading.alert_open if rule == "any" else rule in row.reading.holding
            if held or any(c - window < at <= c for at in times):
                alerted += 1
                hit += 1 if row.churned else 0
        count = sum(
            len(r.episodes) if rule == "any" else sum(1 for n, _ in r.alerts if n == rule)
            for r in replayed
        )
        leads = tuple(
            lead_times(replayed, horizon, None if rule == "any" else rule) if horizon else []
        )
        out.append(RuleQuality(rule, alerted, hit, churners, len(table), count, months, leads))
    return out


def lead_times(
    replayed: Sequence[Replayed], horizon: float, rule: str | None = None
) -> list[float]:
    """Days from the first alert within the horizon before a churn to the churn, per churn
    that had one: alerts raised (one per episode) when `rule` is None, else that rule's."""
    out = []
    for r in replayed:
        times = r.episodes if rule is None else tuple(at for n, at in r.alerts if n == rule)
        for churn in r.churns:
            before = [at for at in times if churn - horizon <= at < churn]
            if before:
                out.append((churn - min(before)) / DAY)
    return out


@dataclass
class Report:
    """Everything a backtest measured, ready for the console, the HTML report and JSON."""

    source: str
    policy_model: str
    cutoffs: list[float]
    horizon: float
    events: int
    rejected: int
    customers: int
    rows: int
    churners: int
    score: Measured
    calibrated: bool
    signals: list[Measured]
    plain: list[Measured]
    bands: list[evl.BandRate]
    deciles: list[tuple[int, int, float]]  # (score bin low, customers, churn rate)
    calibration: list[evl.CalibrationBin]
    rules: list[RuleQuality]
    lead_days: list[float]
    errors: list[str]
    volume: AlertVolume | None = None
    table: list[Row] = field(repr=False, default_factory=list)

    @property
    def best_plain(self) -> Measured | None:
        known = [m for m in self.plain if m.auc is not None]
        return max(known, key=lambda m: m.auc or 0.0) if known else None

    def to_dict(self) -> dict[str, Any]:
        def m(x: Measured | None) -> dict[str, Any] | None:
            if x is None:
                return None
            return {"name": x.name, "auc": x.auc, "interval": x.interval}

        return {
            "source": self.source,
            "model": self.policy_model,
            "cutoffs": [datetime.fromtimestamp(c, UTC).isoformat() for c in self.cutoffs],
            "horizon_days": self.horizon / DAY,
            "events": self.events,
            "rejected": self.rejected,
            "customers": self.customers,
            "rows": self.rows,
            "churners": self.churners,
            "churn_rate": self.churners / self.rows if self.rows else None,
            "score": m(self.score),
            "best_single_signal": m(self.best_plain),
            "plain_signals": [m(x) for x in self.plain],
            "model_signals": [m(x) for x in self.signals],
            "bands": [
                {
                    "band": b.band,
                    "customers": b.customers,
                    "churned": b.churned,
                    "rate": b.rate,
                    "lift": b.lift,
                }
                for b in self.bands
            ],
            "score_bins": [
                {"from": lo, "customers": n, "churn_rate": rate} for lo, n, rate in self.deciles
            ],
            "calibration": [
                {
                    "from": b.low,
                    "to": b.high,
                    "customers": b.customers,
                    "predicted": b.predicted,
                    "observed": b.observed,
                }
                for b in self.calibration
            ],
            "alert_rules": [q.to_dict() for q in self.rules],
            "lead_time_days": {
                "churns_with_alert": len(self.lead_days),
                "median": _median(self.lead_days),
            },
            "alert_volume": None
            if self.volume is None
            else {
                "alerts": self.volume.alerts,
                "rule_firings": self.volume.firings,
                "customer_months": self.volume.customer_months,
                "alerts_per_customer_month": self.volume.per_month(self.volume.alerts),
                "firings_per_customer_month": self.volume.per_month(self.volume.firings),
            },
            "errors": self.errors,
        }


@dataclass(frozen=True, slots=True)
class AlertVolume:
    """How many alerts the replay raised (one per episode) against how many rule firings (what
    an alert per rule would have sent), over the customer-months replayed."""

    alerts: int
    firings: int
    customer_months: float

    @staticmethod
    def of(replayed: Sequence[Replayed]) -> AlertVolume:
        return AlertVolume(
            alerts=sum(len(r.episodes) for r in replayed),
            firings=sum(len(r.alerts) for r in replayed),
            customer_months=sum(r.span for r in replayed) / (30 * DAY),
        )

    @staticmethod
    def up_to(replayed: Sequence[Replayed], until: float, end: float) -> AlertVolume:
        """What a replay of only the events up to `until` would count, from a replay that went
        on to `end` (a replay is causal: what happened by `until` is the same)."""
        return AlertVolume(
            alerts=sum(1 for r in replayed for t in r.episodes if t <= until),
            firings=sum(1 for r in replayed for _, t in r.alerts if t <= until),
            customer_months=sum(max(0.0, until - (end - r.span)) for r in replayed) / (30 * DAY),
        )

    def per_month(self, count: int) -> float | None:
        return count / self.customer_months if self.customer_months else None


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def score_bins(table: Sequence[Row], width: int = 10) -> list[tuple[int, int, float]]:
    """Churn rate per score bin of `width` points (0-9, 10-19, ...; 100 joins the last)."""
    grouped: dict[int, list[bool]] = {}
    for row in table:
        lo = min(100 - width, int(row.reading.score // width) * width)
        grouped.setdefault(lo, []).append(row.churned)
    return [(lo, len(v), sum(v) / len(v)) for lo, v in sorted(grouped.items())]


def evaluate(
    history: History,
    replayed: Sequence[Replayed],
    policy: Policy,
    cutoffs: Sequence[float],
    horizon: float,
    *,
    source: str,
    labels: dict[str, tuple[bool, float | None]] | None = None,
    alert_window: float = 30 * DAY,
    draws: int = 500,
) -> Report:
    """Measure the replay: AUC with its interval, the best plain signal, churn per band and
    per score bin, calibration, alert rules and lead times."""
    table = rows(replayed, horizon, labels)
    if not table:
        raise BacktestError(
            "no customer was live at any cutoff: choose cutoffs within the history "
            f"({_day(history.first)} to {_day(history.last)})"
        )
    churned = [r.churned for r in table]
    scores = [r.reading.score for r in table]
    names = sorted({n for r in table for n in r.reading.signals})
    model_signals = [
        measure(n, [r.reading.signals.get(n, 0.0) for r in table], churned, draws=0) for n in names
    ]
    plain_names = list(table[0].reading.plain)
    plain = [measure(n, [r.reading.plain[n] for r in table], churned, draws) for n in plain_names]
    probabilities = [r.reading.probability for r in table]
    calibrated = all(p is not None for p in probabilities)
    return Report(
        source=source,
        policy_model=policy.model,
        cutoffs=list(cutoffs),
        horizon=horizon,
        events=history.events,
        rejected=history.rejected,
        customers=len(history.customers),
        rows=len(table),
        churners=sum(churned),
        score=measure("health score", scores, churned, draws),
        calibrated=calibrated,
        signals=model_signals,
        plain=plain,
        bands=sorted(
            evl.churn_by_band([r.reading.band for r in table], churned),
            key=lambda b: BANDS.index(b.band),
        ),
        deciles=score_bins(table),
        calibration=evl.calibration([p or 0.0 for p in probabilities], churned)
        if calibrated
        else [],
        rules=rule_quality(replayed, table, alert_window, horizon),
        lead_days=lead_times(replayed, horizon),
        errors=history.errors,
        table=table,
        volume=AlertVolume.of(replayed),
    )


def _day(t: float | None) -> str:
    return "?" if t is None else datetime.fromtimestamp(t, UTC).date().isoformat()


def default_cutoffs(history: History, horizon: float, count: int = 1) -> list[float]:
    """`count` cutoffs a horizon apart, the last one a horizon before the history ends (so
    every outcome is observed), at midnight UTC."""
    if history.first is None or history.last is None:
        raise BacktestError("the history has no valid event")
    out = []
    for i in range(count, 0, -1):
        t = history.last - i * horizon
        if t <= history.first:
            continue
        out.append(t - t % DAY)
    if not out:
        raise BacktestError(
            f"the history ({_day(history.first)} to {_day(history.last)}) is shorter than the "
            f"horizon ({horizon / DAY:g} days): pass --cutoff and --horizon-days"
        )
    return out


def kafka_messages(
    config: dict[str, Any],
    topics: Sequence[str],
    *,
    since: float | None = None,
    until: float | None = None,
    timeout: float = 30.0,
) -> Iterator[tuple[str, bytes | None, bytes]]:
    """Every message of the topics from `since` (or the beginning) up to `until` (or the end
    as it was when reading started): (where, key, value), where = topic/partition@offset.
    `config`: kafka-python connection options (`Settings.kafka_python_config`, TLS and SASL
    included)."""
    from kafka import KafkaConsumer, TopicPartition

    bootstrap = ",".join(config.get("bootstrap_servers", []))
    consumer = KafkaConsumer(
        **config,
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=int(timeout * 1000),
    )
    try:
        parts: list[Any] = []
        for topic in topics:
            numbers = consumer.partitions_for_topic(topic)
            if not numbers:
                raise BacktestError(f"topic {topic!r} does not exist on {bootstrap}")
            parts.extend(TopicPartition(topic, p) for p in sorted(numbers))
        consumer.assign(parts)
        ends = consumer.end_offsets(parts)
        if until is not None:
            stops = consumer.offsets_for_times({tp: int(until * 1000) for tp in parts})
            ends = {tp: (o.offset if o is not None else ends[tp]) for tp, o in stops.items()}
        starts = consumer.beginning_offsets(parts)
        if since is not None:
            found = consumer.offsets_for_times({tp: int(since * 1000) for tp in parts})
            starts = {tp: (o.offset if o is not None else ends[tp]) for tp, o in found.items()}
        left = {tp for tp in parts if starts[tp] < ends[tp]}
        for tp in parts:
            consumer.seek(tp, starts[tp])
        consumer.pause(*[tp for tp in parts if tp not in left])
        while left:
            batch = consumer.poll(timeout_ms=int(timeout * 1000))
            if not batch:
                raise BacktestError(
                    f"no message from {bootstrap} within {timeout:g} s with "
                    f"{len(left)} partitions still to read"
                )
            for tp, messages in batch.items():
                for m in messages:
                    if m.offset >= ends[tp]:
                        break
                    yield f"{tp.topic}/{tp.partition}@{m.offset}", m.key, m.value
                if consumer.position(tp) >= ends[tp] and tp in left:
                    left.discard(tp)
                    consumer.pause(tp)
    finally:
        consumer.close()
