"""The business view over a history: revenue movements and retention per segment and cohort,
and support against retention (`healthscore report`; definitions in docs/revenue.md).

Revenue is classified by the same code as the live worker's (`scoring.segments`' facts over
`scoring.revenue`), each customer's account events applied to its state in event-time order,
so the report and the live gauges agree on the same history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

from scoring import revenue
from scoring.decay import DAY
from scoring.events import (
    ACCOUNT_MOVE_TYPES,
    Churned,
    TicketOpened,
    TicketReopened,
    TicketReplied,
    TicketResolved,
    event_order,
)
from scoring.policy import Policy
from scoring.segments import REVENUE, UNKNOWN_SEGMENT, Paying, new_facts
from scoring.state import APPLIED, CustomerState, apply_into
from stream.offline.backtest import History

ALL = revenue.ALL


def revenue_ledger(history: History, policy: Policy) -> revenue.Ledger:
    """Every revenue movement of the history, per segment, cohort and for all."""
    ledger = revenue.Ledger()
    for customer, events in history.customers.items():
        ordered = sorted(events, key=event_order)
        cohort = revenue.month_of(ordered[0].occurred_at)
        state = CustomerState(customer)
        for event in ordered:
            if type(event) not in ACCOUNT_MOVE_TYPES:
                continue
            before = Paying(state)
            if apply_into(state, event, policy) != APPLIED:
                continue
            for fact in new_facts(before, state, event):
                if fact.kind.startswith(REVENUE):
                    segment = fact.segment or state.segment or UNKNOWN_SEGMENT
                    kind = fact.kind[len(REVENUE) :]
                    ledger.add(kind, segment, int(fact.value), fact.at, cohort)
    return ledger


# --- support and retention -------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A share with its 95% bootstrap interval (None without customers)."""

    customers: int
    churned: int
    interval: tuple[float, float] | None

    @property
    def rate(self) -> float | None:
        return self.churned / self.customers if self.customers else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "churned": self.churned,
            "churn_rate": self.rate,
            "interval": list(self.interval) if self.interval else None,
        }


@dataclass(frozen=True)
class SupportRow:
    """One segment (or all): churn within the horizon of the customers who contacted support in
    the window before the cutoff and of those who did not, the difference with its interval,
    and the support measures of the window."""

    segment: str
    contacted: Rate
    not_contacted: Rate
    difference: float | None  # contacted minus not contacted
    difference_interval: tuple[float, float] | None
    tickets: int
    first_response_hours: float | None  # medians over the window's tickets
    resolution_hours: float | None
    reopen_rate: float | None  # reopens / tickets opened

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "contacted": self.contacted.to_dict(),
            "not_contacted": self.not_contacted.to_dict(),
            "difference": self.difference,
            "difference_interval": list(self.difference_interval)
            if self.difference_interval
            else None,
            "tickets": self.tickets,
            "first_response_hours": self.first_response_hours,
            "resolution_hours": self.resolution_hours,
            "reopen_rate": self.reopen_rate,
        }


@dataclass
class _Group:
    contacted: list[bool] = field(default_factory=list)
    quiet: list[bool] = field(default_factory=list)
    tickets: int = 0
    reopens: int = 0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)


def support_retention(
    history: History,
    cutoff: float,
    horizon: float,
    *,
    window: float = 90 * DAY,
    labels: dict[str, tuple[bool, float | None]] | None = None,
    draws: int = 2000,
    seed: int = 7,
) -> list[SupportRow]:
    """Customers live at `cutoff` (seen before it, not churned by it) who opened a ticket in
    the `window` before it against those who did not: churn within `horizon` after it, per
    segment (the latest before the cutoff) and for all, with 95% bootstrap intervals (customers
    resampled, `draws` times). Beside them, the window's tickets: median first response and
    resolution, and reopens per ticket opened."""
    groups: dict[str, _Group] = {}
    start = cutoff - window
    for customer, events in history.customers.items():
        ordered = sorted(events, key=event_order)
        if ordered[0].occurred_at > cutoff:
            continue
        segment: str | None = None
        contacted = False
        churn_times: list[float] = []
        opened: dict[str, float] = {}
        g_tickets = g_reopens = 0
        frt: list[float] = []
        res: list[float] = []
        replied: set[str] = set()
        resolved: set[str] = set()
        for e in ordered:
            t = e.occurred_at
            if isinstance(e, Churned):
                churn_times.append(t)
                continue
            if t > cutoff:
                continue
            seg = getattr(e, "segment", None)
            if seg:
                segment = seg
            if t < start:
                continue
            if isinstance(e, TicketOpened):
                if e.ticket_id not in opened:
                    opened[e.ticket_id] = t
                    g_tickets += 1
                contacted = True
            elif isinstance(e, TicketReopened):
                g_reopens += 1
            elif isinstance(e, TicketReplied):
                at = opened.get(e.ticket_id)
                if e.by == "agent" and at is not None and e.ticket_id not in replied:
                    replied.add(e.ticket_id)
                    frt.append(max(0.0, t - at))
            elif isinstance(e, TicketResolved):
                at = opened.get(e.ticket_id)
                if at is not None and e.ticket_id not in resolved:
                    resolved.add(e.ticket_id)
                    res.append(max(0.0, t - at))
        if labels is not None:
            if customer not in labels:
                continue
            flag, at = labels[customer]
            if flag and at is not None and at <= cutoff:
                continue
            churned = flag and (at is None or at <= cutoff + horizon)
        else:
            if any(t <= cutoff for t in churn_times):
                continue
            churned = any(cutoff < t <= cutoff + horizon for t in churn_times)
        for name in (segment or UNKNOWN_SEGMENT, ALL):
            g = groups.setdefault(name, _Group())
            (g.contacted if contacted else g.quiet).append(churned)
            g.tickets += g_tickets
            g.reopens += g_reopens
            g.first_response.extend(frt)
            g.resolution.extend(res)
    rng = np.random.default_rng(seed)
    out = []
    for name in sorted(groups, key=lambda n: (n == ALL, n)):
        g = groups[name]
        a, b = _rate(g.contacted, rng, draws), _rate(g.quiet, rng, draws)
        diff = a.rate - b.rate if a.rate is not None and b.rate is not None else None
        interval = None
        if diff is not None and a.rate is not None and b.rate is not None:
            da = rng.binomial(a.customers, a.rate, draws) / a.customers
            db = rng.binomial(b.customers, b.rate, draws) / b.customers
            lo, hi = np.percentile(da - db, [2.5, 97.5])
            interval = (float(lo), float(hi))
        out.append(
            SupportRow(
                segment=name,
                contacted=a,
                not_contacted=b,
                difference=diff,
                difference_interval=interval,
                tickets=g.tickets,
                first_response_hours=median(g.first_response) / 3600 if g.first_response else None,
                resolution_hours=median(g.resolution) / 3600 if g.resolution else None,
                reopen_rate=g.reopens / g.tickets if g.tickets else None,
            )
        )
    return out


def _rate(outcomes: Sequence[bool], rng: np.random.Generator, draws: int) -> Rate:
    """A churn share and its percentile bootstrap interval (resampling customers: the count of
    churners in a resample of n is binomial with the observed share)."""
    n, k = len(outcomes), sum(outcomes)
    if not n:
        return Rate(0, 0, None)
    shares = rng.binomial(n, k / n, draws) / n
    lo, hi = np.percentile(shares, [2.5, 97.5])
    return Rate(n, k, (float(lo), float(hi)))


# --- the whole view --------------------------------------------------------------------------


@dataclass
class BusinessReport:
    """What `healthscore report` shows."""

    source: str
    events: int
    customers: int
    first: float | None
    last: float | None
    margin: float
    months: dict[str, list[revenue.Month]]  # group -> its months
    cutoff: float
    horizon: float
    support: list[SupportRow]
    holdout: list[Any] = field(default_factory=list)  # stream.offline.holdout's rows

    def segments(self) -> list[str]:
        """The segment groups, all last."""
        names = [g for g in self.months if not revenue.is_cohort(g) and g != ALL]
        return [*sorted(names), *([ALL] if ALL in self.months else [])]

    def cohorts(self) -> list[str]:
        return sorted(g for g in self.months if revenue.is_cohort(g))

    def to_dict(self) -> dict[str, Any]:
        def holdout_dict(row: Any) -> Any:
            return row.to_dict() if hasattr(row, "to_dict") else row

        return {
            "source": self.source,
            "events": self.events,
            "customers": self.customers,
            "gross_margin": self.margin,
            "revenue": {
                g: {"months": [m.to_dict() for m in ms], "summary": revenue.summary(ms)}
                for g, ms in self.months.items()
            },
            "support": {
                "cutoff": self.cutoff,
                "horizon_days": self.horizon / DAY,
                "segments": [r.to_dict() for r in self.support],
            },
            "holdout": [holdout_dict(r) for r in self.holdout],
        }


def business_report(
    history: History,
    policy: Policy,
    *,
    source: str,
    cutoff: float,
    horizon: float,
    labels: dict[str, tuple[bool, float | None]] | None = None,
) -> BusinessReport:
    """Revenue per segment and cohort over the whole history, and support against retention at
    `cutoff` (the holdout rows are added by the caller, who replays the history)."""
    ledger = revenue_ledger(history, policy)
    last = revenue.month_of(history.last) if history.last is not None else None
    return BusinessReport(
        source=source,
        events=history.events,
        customers=len(history.customers),
        first=history.first,
        last=history.last,
        margin=policy.gross_margin,
        months=ledger.months(policy.gross_margin, last),
        cutoff=cutoff,
        horizon=horizon,
        support=support_retention(history, cutoff, horizon, labels=labels),
    )
