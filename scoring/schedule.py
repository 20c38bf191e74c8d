"""When a silent customer must be looked at again, in event time."""

from __future__ import annotations

import math

from scoring.policy import Policy
from scoring.state import CustomerState


def next_due(state: CustomerState, policy: Policy, now: float, every: float) -> float | None:
    """The next event time at which the customer's health must be re-evaluated without events.

    Candidates: the next multiple of `every` after `now` (decay), the moment inactivity
    crosses its threshold, and the moment an unanswered urgent ticket passes its SLA. A churned
    customer is never due. Times on a fixed grid keep a replay's re-evaluations identical.

    >>> from scoring.state import new_state
    >>> from config import load_policy
    >>> next_due(new_state("a"), load_policy(), now=100.0, every=3600.0)
    3600.0
    """
    if state.is_churned:
        return None
    candidates = [(math.floor(now / every) + 1) * every]
    since = state.last_active_at if state.last_active_at is not None else state.first_seen
    if since is not None and state.has_usage:
        crossing = since + policy.alerts.inactivity_after
        if crossing > now:
            candidates.append(crossing)
    sla = policy.support.first_response_sla["urgent"]
    for t in state.tickets.values():
        if (
            t.is_open
            and t.priority == "urgent"
            and t.first_agent_reply_at is None
            and t.opened_at is not None
            and t.opened_at + sla > now
        ):
            candidates.append(t.opened_at + sla + 1.0)
    return min(candidates)
