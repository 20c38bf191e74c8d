"""Segment aggregates over a rolling window: NPS, CSAT, CES, response and resolution times,
reopen rate and churn rate per segment, for dashboards and reports.

Definitions (over the answers or tickets whose event time falls inside the window):
- NPS: percent of 9-10 answers minus percent of 0-6 answers, -100..100.
- CSAT: percent of 4-5 answers on the 1-5 scale.
- CES: percent of 5-7 (low-effort) answers on the 1-7 scale, and the mean answer.
- first response: mean seconds from a ticket's opening to its first agent reply.
- resolution: mean seconds from a ticket's opening to its first resolution.
- reopen rate: reopens divided by tickets opened.
- churn rate: customers who churned divided by the segment's customers.

Revenue movements (`scoring.revenue`) are facts too, `mrr_<kind>` in whole cents, summed per
month rather than per day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Final

from scoring import events as ev
from scoring import formulas, revenue
from scoring.decay import DAY
from scoring.state import CustomerState

UNKNOWN_SEGMENT: Final = "unknown"


@dataclass(slots=True, unsafe_hash=True, init=False)  # not frozen: scoring/__init__.py
class Fact:
    """One measurable fact for segment metrics, at event time `at`."""

    kind: str  # nps, csat, ces, first_response, resolution, ticket_opened, reopen, churned,
    # and the revenue movements: mrr_new, mrr_expansion, ... (`REVENUE`; value in whole cents)
    value: float
    at: float
    segment: str | None  # where a revenue movement happened (None: the customer's)

    def __init__(  # written out, as `scoring.state.Stamped`'s is
        self, kind: str, value: float, at: float, segment: str | None = None
    ) -> None:
        self.kind = kind
        self.value = value
        self.at = at
        self.segment = segment

    def __reduce__(self) -> tuple[type[Fact], tuple[str, float, float, str | None]]:
        return Fact, (self.kind, self.value, self.at, self.segment)  # `scoring.state.Stamped`


REVENUE: Final = "mrr_"  # the prefix of the revenue movements' kinds


# What `new_facts` needs of the state before an event: for a support event, whether its ticket
# was known, with its first-response and resolution seconds; for an account event (`Paying`),
# whether the customer was churned, what it paid and in which segment; nothing otherwise
class Paying:
    """What a customer paid before an account event: churned or not, cents a month, segment,
    and whether it churned at any time before (a return is a reactivation)."""

    __slots__ = ("cents", "churned", "returning", "segment")

    def __init__(self, state: CustomerState) -> None:
        self.churned = state.is_churned
        self.cents = revenue.cents(state.mrr, self.churned)
        self.segment = state.segment or UNKNOWN_SEGMENT
        self.returning = state.churned_at is not None


Snapshot = tuple[bool, float | None, float | None] | Paying | None


def snapshot(state: CustomerState, event: ev.Event) -> Snapshot:
    """What `new_facts` needs of the state before `event` is applied to it (in place)."""
    if type(event) in ev.USAGE_TYPES:
        return None
    if type(event) in ev.ACCOUNT_MOVE_TYPES:
        return Paying(state)
    if type(event) not in ev.TICKET_TYPES:
        return None
    old = state.tickets.get(event.ticket_id)  # type: ignore[attr-defined]
    if old is None:
        return (False, None, None)
    return (True, old.first_response_seconds(), old.resolution_seconds())


def new_facts(before: Snapshot, after: CustomerState, event: ev.Event) -> list[Fact]:
    """The segment facts an applied event adds, from what the state was before it
    (`snapshot`) and what it is after."""
    if type(event) in ev.USAGE_TYPES:
        return []
    t = event.occurred_at
    if type(event) is ev.NpsAnswered:
        return [Fact("nps", event.score, t)]
    if type(event) is ev.CsatAnswered:
        return [Fact("csat", event.score, t)]
    if type(event) is ev.CesAnswered:
        return [Fact("ces", event.score, t)]
    if isinstance(before, Paying):
        return _revenue_facts(before, after, t)
    if not isinstance(before, tuple):
        return []
    known, first_response, resolution = before
    out: list[Fact] = []
    if type(event) is ev.TicketOpened and not known:
        out.append(Fact("ticket_opened", 1, t))
    if type(event) is ev.TicketReopened:
        out.append(Fact("reopen", 1, t))
    ticket_id: str = event.ticket_id  # type: ignore[attr-defined]
    new = after.tickets.get(ticket_id)
    if new is not None:
        now = new.first_response_seconds()
        if first_response is None and now is not None:
            out.append(Fact("first_response", now, t))
        now = new.resolution_seconds()
        if resolution is None and now is not None:
            out.append(Fact("resolution", now, t))
    return out


def _revenue_facts(before: Paying, after: CustomerState, t: float) -> list[Fact]:
    """The churn and the revenue movements an account event made."""
    churned = after.is_churned
    out: list[Fact] = []
    if churned and not before.churned:
        out.append(Fact("churned", 1, t))
    moves = revenue.changes(
        before.segment,
        before.cents,
        after.segment or UNKNOWN_SEGMENT,
        revenue.cents(after.mrr, churned),
        before.returning,
    )
    for kind, segment, amount in moves:
        out.append(Fact(REVENUE + kind, amount, t, segment))
    return out


def facts(before: CustomerState, after: CustomerState, event: ev.Event) -> list[Fact]:
    """The segment facts one applied event adds, from the states before and after it (none
    for a duplicate: the same state)."""
    if before is after:
        return []
    return new_facts(snapshot(before, event), after, event)


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class SegmentMetrics:
    """The measures of one segment over the window; None where there is no data."""

    segment: str
    nps: float | None
    csat: float | None
    ces: float | None
    ces_mean: float | None
    first_response_seconds: float | None
    resolution_seconds: float | None
    reopen_rate: float | None
    churn_rate: float | None
    answers: int


@dataclass(frozen=True)
class SegmentWindow:
    """Facts per segment in daily buckets, kept for `window_days` of event time."""

    window_days: int = 30
    buckets: dict[tuple[str, int], tuple[Fact, ...]] = field(default_factory=dict)

    def add(self, segment: str | None, new: Iterable[Fact]) -> SegmentWindow:
        """Record facts of a customer in `segment`."""
        buckets = dict(self.buckets)
        for f in new:
            key = (segment or UNKNOWN_SEGMENT, int(f.at // DAY))
            buckets[key] = (*buckets.get(key, ()), f)
        return replace(self, buckets=buckets)

    def expire(self, now: float) -> SegmentWindow:
        """Drop the days that fell out of the window at event time `now`."""
        first = int(now // DAY) - self.window_days + 1
        return replace(self, buckets={k: v for k, v in self.buckets.items() if k[1] >= first})

    def metrics(self, segment: str, now: float, customers: int | None = None) -> SegmentMetrics:
        """Compute the segment's measures over the window ending at `now`."""
        first = int(now // DAY) - self.window_days + 1
        by_kind: dict[str, list[float]] = {}
        for (seg, day), items in self.buckets.items():
            if seg == segment and first <= day <= int(now // DAY):
                for f in items:
                    by_kind.setdefault(f.kind, []).append(f.value)
        nps_answers = [int(v) for v in by_kind.get("nps", [])]
        csat_answers = [int(v) for v in by_kind.get("csat", [])]
        ces_answers = [int(v) for v in by_kind.get("ces", [])]
        opened = len(by_kind.get("ticket_opened", []))
        churned = len(by_kind.get("churned", []))
        return SegmentMetrics(
            segment=segment,
            nps=formulas.nps_of(nps_answers),
            csat=formulas.csat_of(csat_answers),
            ces=formulas.ces_of(ces_answers),
            ces_mean=formulas.ces_mean(ces_answers),
            first_response_seconds=_mean(by_kind.get("first_response", [])),
            resolution_seconds=_mean(by_kind.get("resolution", [])),
            reopen_rate=len(by_kind.get("reopen", [])) / opened if opened else None,
            churn_rate=churned / customers if customers else None,
            answers=len(nps_answers) + len(csat_answers) + len(ces_answers),
        )


def _mean(values: list[float]) -> float | None:
    """Arithmetic mean, or None for no values.

    >>> _mean([1.0, 2.0, 6.0])
    3.0
    """
    return sum(values, 0.0) / len(values) if values else None
