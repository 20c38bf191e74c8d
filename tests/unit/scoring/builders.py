"""Builders for events and states in scoring tests: readable, with time in days."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace

from scoring import events as ev
from scoring.decay import DAY, HOUR
from scoring.policy import Policy
from scoring.state import CustomerState, apply, new_state
from stream.resources import load_policy

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
CID = "acme"
_ids = itertools.count()
POLICY: Policy = load_policy()


def day(d: float) -> float:
    return T0 + d * DAY


def hour(h: float) -> float:
    return T0 + h * HOUR


def _id() -> str:
    return f"e{next(_ids)}"


def session(t: float, cid: str = CID) -> ev.Session:
    return ev.Session(_id(), cid, t, "u1")


def feature(t: float, name: str = "reports", count: int = 1, cid: str = CID) -> ev.FeatureUsed:
    return ev.FeatureUsed(_id(), cid, t, name, count)


def seats(t: float, active: int, licensed: int, cid: str = CID) -> ev.SeatSnapshot:
    return ev.SeatSnapshot(_id(), cid, t, active, licensed)


def opened(
    t: float, ticket: str, priority: ev.Priority = "normal", cid: str = CID
) -> ev.TicketOpened:
    return ev.TicketOpened(_id(), cid, t, ticket, priority)


def replied(t: float, ticket: str, by: ev.Replier = "agent", cid: str = CID) -> ev.TicketReplied:
    return ev.TicketReplied(_id(), cid, t, ticket, by)


def resolved(t: float, ticket: str, cid: str = CID) -> ev.TicketResolved:
    return ev.TicketResolved(_id(), cid, t, ticket)


def reopened(t: float, ticket: str, cid: str = CID) -> ev.TicketReopened:
    return ev.TicketReopened(_id(), cid, t, ticket)


def escalated(t: float, ticket: str, cid: str = CID) -> ev.TicketEscalated:
    return ev.TicketEscalated(_id(), cid, t, ticket)


def nps(t: float, score: int, cid: str = CID) -> ev.NpsAnswered:
    return ev.NpsAnswered(_id(), cid, t, score)


def csat(t: float, score: int, cid: str = CID) -> ev.CsatAnswered:
    return ev.CsatAnswered(_id(), cid, t, score)


def ces(t: float, score: int, cid: str = CID) -> ev.CesAnswered:
    return ev.CesAnswered(_id(), cid, t, score)


def account(
    t: float,
    segment: str | None = None,
    owner: str | None = None,
    cid: str = CID,
    mrr: float | None = None,
) -> ev.AccountUpdated:
    return ev.AccountUpdated(_id(), cid, t, segment=segment, owner=owner, mrr=mrr)


def churned(t: float, cid: str = CID) -> ev.Churned:
    return ev.Churned(_id(), cid, t)


def build(
    events: Iterable[ev.Event],
    policy: Policy = POLICY,
    cid: str = CID,
    start: CustomerState | None = None,
) -> CustomerState:
    """The state after `events`, applied in order to `start` (a new customer's state)."""
    state = new_state(cid) if start is None else start
    for e in events:
        state = apply(state, e, policy)
    return state


def daily_sessions(first_day: int, last_day: int, per_day: int = 1) -> list[ev.Event]:
    return [
        session(day(d) + i * 60) for d in range(first_day, last_day + 1) for i in range(per_day)
    ]


def paging_every_rule(policy: Policy) -> Policy:
    """The policy with every alert rule paging, as policies before `alerts.page` did: for the
    tests of the episode mechanics (cooldown, ids, merging), which a detractor answer, the
    quickest trouble to cause, exercises best. Which rules page is tested on its own."""
    return replace(policy, alerts=replace(policy.alerts, page=None))
