"""A realistic synthetic customer base: mostly healthy customers, some drifting toward churn.

Generation is deterministic for a seed and takes time as an argument, so tests, demos and
benchmarks can replay exactly the same history.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scoring.serialize import rfc3339
from stream.resources import load_policy

SEGMENTS = (
    ("smb", 0.6, 5, 400.0),
    ("mid_market", 0.3, 40, 3_000.0),
    ("enterprise", 0.1, 400, 25_000.0),
)
FEATURES = ("dashboards", "reports", "exports", "alerts", "api", "integrations", "sso", "audit_log")
OWNERS = ("ana@csm.example", "ben@csm.example", "chen@csm.example", "dara@csm.example")


@dataclass
class Customer:
    """One synthetic customer and the behaviour it was given."""

    customer_id: str
    profile: str  # "healthy" or "declining"
    segment: str
    seats: int
    mrr: float
    owner: str
    base_activity: float
    features: tuple[str, ...]
    open_tickets: list[str] = field(default_factory=list)
    resolved_tickets: list[str] = field(default_factory=list)
    ticket_seq: int = 0

    def activity(self, progress: float) -> float:
        """Relative usage level at `progress` (0 = start, 1 = end of the simulated span)."""
        if self.profile == "declining":
            return self.base_activity * max(0.05, 1.0 - 0.95 * progress)
        return self.base_activity


@dataclass(frozen=True)
class SyntheticEvent:
    """One generated message: which input topic kind it belongs to, its key and its document."""

    kind: str
    customer_id: str
    doc: dict[str, Any]


class CustomerBase:
    """Generate the event history of `customers` customers over a span of event time."""

    def __init__(
        self,
        customers: int,
        *,
        seed: int = 42,
        declining_share: float = 0.2,
        start: float | None = None,
        span_days: float = 30.0,
        prefix: str = "cust",
        skew: float = 0.0,
        support_team: bool = False,
    ) -> None:
        """`skew` > 0: customers are picked with Zipf weights 1 / rank ** skew (ranks shuffled
        with the seed), so a few produce most of the events, as real activity does; 0: all alike.
        `support_team`: an agent answers each new ticket within its first-response SLA (a
        declining customer's only half the time), as a staffed team does: the reply is an
        event of its own, beyond `total`. Without it a ticket is answered only when its
        customer's next support event happens to be a reply.
        """
        self.support_team = support_team
        # the shipped policy's first-response SLA per priority, in seconds
        self._sla = load_policy().support.first_response_sla if support_team else {}
        self._replies = random.Random(seed + 1)  # its own stream: the others stay as they were
        self._pending: list[tuple[float, int, SyntheticEvent]] = []
        self.rng = random.Random(seed)
        self.start = start if start is not None else datetime(2026, 1, 1, tzinfo=UTC).timestamp()
        self.span = span_days * 86_400.0
        self.seed = seed
        self.customers = [self._make(i, prefix, declining_share) for i in range(customers)]
        self._seq = 0
        self._cumulative: list[float] | None = None
        if skew > 0:
            ranks = list(range(1, customers + 1))
            self.rng.shuffle(ranks)
            self._cumulative = list(itertools.accumulate(1.0 / r**skew for r in ranks))

    def _make(self, i: int, prefix: str, declining_share: float) -> Customer:
        rng = self.rng
        r, acc = rng.random(), 0.0
        segment, seats, mrr = SEGMENTS[-1][0], SEGMENTS[-1][2], SEGMENTS[-1][3]
        for name, share, base_seats, base_mrr in SEGMENTS:
            acc += share
            if r < acc:
                segment, seats, mrr = name, base_seats, base_mrr
                break
        return Customer(
            customer_id=f"{prefix}-{i:06d}",
            profile="declining" if rng.random() < declining_share else "healthy",
            segment=segment,
            seats=max(1, int(seats * rng.uniform(0.5, 2.0))),
            mrr=round(mrr * rng.uniform(0.5, 2.0), 2),
            owner=rng.choice(OWNERS),
            base_activity=rng.uniform(0.4, 1.0),
            features=tuple(rng.sample(FEATURES, rng.randint(3, len(FEATURES)))),
        )

    def _event_id(self) -> str:
        self._seq += 1
        return f"sim-{self.seed}-{self._seq:010d}"

    def onboarding(self) -> Iterator[SyntheticEvent]:
        """Yield one account_updated per customer, at the start of the span."""
        for c in self.customers:
            yield self._doc(
                c,
                "account",
                "account_updated",
                self.start,
                segment=c.segment,
                owner=c.owner,
                mrr=c.mrr,
                renewal_date="2026-12-31",
            )

    def events(self, total: int) -> Iterator[SyntheticEvent]:
        """Yield onboarding, then `total` events spread evenly over the span, in event time."""
        yield from self.onboarding()
        rng = self.rng
        outcomes_at = int(total * 0.9)
        for i in range(total):
            progress = i / max(1, total)
            ts = self.start + progress * self.span
            while self._pending and self._pending[0][0] <= ts:
                yield heapq.heappop(self._pending)[2]
            if i == outcomes_at:
                yield from self.outcomes(ts)
            while True:
                c = self._pick()
                if rng.random() < c.activity(progress):
                    break
            yield self._next_for(c, progress, ts)
        while self._pending:
            yield heapq.heappop(self._pending)[2]

    def _pick(self) -> Customer:
        if self._cumulative is None:
            return self.rng.choice(self.customers)
        return self.rng.choices(self.customers, cum_weights=self._cumulative)[0]

    def outcomes(self, ts: float) -> Iterator[SyntheticEvent]:
        """Late in the span, about half the declining customers churn and some others renew."""
        for c in self.customers:
            r = self.rng.random()
            if c.profile == "declining" and r < 0.5:
                yield self._doc(c, "account", "churned", ts, reason="low adoption")
            elif c.profile == "healthy" and r < 0.3:
                yield self._doc(c, "account", "renewed", ts)

    def _next_for(self, c: Customer, p: float, ts: float) -> SyntheticEvent:
        rng = self.rng
        declining = c.profile == "declining"
        r = rng.random()
        support_share = 0.06 + (0.25 * p if declining else 0.0)
        survey_share = 0.03
        if r < support_share:
            return self._support(c, p, ts)
        if r < support_share + survey_share:
            return self._survey(c, p, ts)
        kind = rng.random()
        if kind < 0.5:
            return self._doc(c, "usage", "session", ts, user_id=f"u{rng.randint(1, c.seats)}")
        if kind < 0.97:
            return self._doc(
                c,
                "usage",
                "feature_used",
                ts,
                feature=rng.choice(c.features),
                count=rng.randint(1, 5),
            )
        share = rng.uniform(0.6, 0.95) * (c.activity(p) / c.base_activity)
        return self._doc(
            c,
            "usage",
            "seat_snapshot",
            ts,
            active_users=round(c.seats * share),
            licensed_seats=c.seats,
        )

    def _support(self, c: Customer, p: float, ts: float) -> SyntheticEvent:
        rng = self.rng
        declining = c.profile == "declining"
        if not c.open_tickets or rng.random() < 0.35:
            c.ticket_seq += 1
            ticket = f"{c.customer_id}-t{c.ticket_seq}"
            c.open_tickets.append(ticket)
            weights = (
                [0.3, 0.5, 0.15, 0.05]
                if not declining
                else [0.1, 0.3, 0.3 + 0.1 * p, 0.3 * p + 0.05]
            )
            priority = rng.choices(("low", "normal", "high", "urgent"), weights)[0]
            if self.support_team:
                self._answer(c, ticket, priority, ts)
            return self._doc(c, "support", "ticket_opened", ts, ticket_id=ticket, priority=priority)
        ticket = rng.choice(c.open_tickets)
        r = rng.random()
        if declining and r < 0.2 * p:
            return self._doc(c, "support", "ticket_escalated", ts, ticket_id=ticket)
        if r < 0.5:
            by = "agent" if rng.random() < 0.6 else "customer"
            return self._doc(c, "support", "ticket_replied", ts, ticket_id=ticket, by=by)
        if c.resolved_tickets and rng.random() < (0.3 if declining else 0.05):
            again = c.resolved_tickets.pop()
            c.open_tickets.append(again)
            return self._doc(c, "support", "ticket_reopened", ts, ticket_id=again)
        c.open_tickets.remove(ticket)
        c.resolved_tickets = [*c.resolved_tickets[-4:], ticket]
        return self._doc(c, "support", "ticket_resolved", ts, ticket_id=ticket)

    def _answer(self, c: Customer, ticket: str, priority: str, opened: float) -> None:
        """Queue the agent's first reply: within the SLA, or for a declining customer half the
        time up to three times later."""
        r = self._replies
        late = c.profile == "declining" and r.random() < 0.5
        share = r.uniform(1.2, 3.0) if late else r.uniform(0.1, 0.8)
        at = min(opened + share * self._sla[priority], self.start + self.span)
        reply = self._doc(c, "support", "ticket_replied", at, ticket_id=ticket, by="agent")
        heapq.heappush(self._pending, (at, self._seq, reply))

    def _survey(self, c: Customer, p: float, ts: float) -> SyntheticEvent:
        rng = self.rng
        mood = 1.0 - (0.8 * p if c.profile == "declining" else 0.0)  # 1 = delighted
        kind = rng.choice(("nps", "csat", "ces"))
        if kind == "nps":
            score = max(0, min(10, round(rng.gauss(9.0 * mood + 1.0 * (1 - mood), 1.2))))
        elif kind == "csat":
            score = max(1, min(5, round(rng.gauss(1 + 3.8 * mood, 0.7))))
        else:
            score = max(1, min(7, round(rng.gauss(1 + 5.5 * mood, 0.9))))
        return self._doc(c, "survey", kind, ts, score=score)

    def _doc(self, c: Customer, kind: str, type_: str, ts: float, **fields: Any) -> SyntheticEvent:
        doc = {
            "event_id": self._event_id(),
            "customer_id": c.customer_id,
            "type": type_,
            "occurred_at": rfc3339(ts),
            **fields,
        }
        return SyntheticEvent(kind, c.customer_id, doc)
