"""When a silent customer must be looked at again, in event time: the next moment something can
change for it, not every day.

For a customer without new events, the score only moves as time passes: usage decays, open
tickets age and pass their SLAs, features and tickets leave their windows. Between the moments
listed by `moments` (inactivity crossing its threshold, an urgent ticket passing its SLA, a
ticket leaving the support or the contact window) the score never rises (a law the property
tests check), so whether it crosses a level before the next moment is known from its value at
that moment, and when it does, a bisection finds the crossing. The levels that matter are those
an alert or a band acts on: the threshold below the current band, and the score at which the
sharp-drop rule fires. A silent score that still drifts is looked at again once it has moved
`SETTLED` points, on a grid of `refresh` seconds; one that has settled is left alone until its
next moment. The cost of catching up after a backfill thus grows with what happens to
customers, not with customers times days.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

from scoring.alerts import AlertState, pending_until, risk_threshold
from scoring.decay import DAY, HOUR
from scoring.health import HealthScore, score
from scoring.health import value as value_of
from scoring.policy import Policy
from scoring.reading import inactivity_threshold
from scoring.state import CustomerState

# how far `next_check` looks before leaving the exact due time for later
LOOKAHEAD: Final = DAY
# beyond every window of the model: a silent score has settled by then
FAR: Final = 400 * DAY
# how close to a crossing the bisection gets (the due is at or after it)
RESOLUTION: Final = 6 * HOUR
# points: a score is refreshed once it drifted this much since it was evaluated
SETTLED: Final = 2.0


def moments(state: CustomerState, policy: Policy, now: float) -> list[float]:
    """Event times after `now` at which a silent customer's health changes by a step that
    can raise it or raise an alert by itself.

    >>> from scoring.state import new_state
    >>> from stream.resources import load_policy
    >>> moments(new_state("a"), load_policy(), now=100.0)
    []
    """
    out: list[float] = []
    _moments(state, policy, now, out)
    return out


def first_moment(state: CustomerState, policy: Policy, now: float) -> float:
    """The earliest of `moments` (infinity when there is none), without listing them."""
    return _moments(state, policy, now, None)


def _moments(state: CustomerState, policy: Policy, now: float, out: list[float] | None) -> float:
    """The moments after `now`, added to `out` when given; the earliest (or infinity)."""
    first = math.inf
    since = state.last_active_at if state.last_active_at is not None else state.first_seen
    if since is not None and state.has_usage:
        crossing = since + inactivity_threshold(state, policy)
        if crossing > now:
            first = crossing
            if out is not None:
                out.append(crossing)
    if not state.tickets:
        return first
    urgent = policy.support.first_response_sla["urgent"]
    contact = policy.support.contact_window
    window = policy.support.window
    for t in state.tickets.values():
        opened = t.opened_at
        if opened is None:
            continue
        if opened + contact > now:
            first = min(first, opened + contact)  # no longer counted as a contact
            if out is not None:
                out.append(opened + contact)
        if t.is_open:
            if t.priority == "urgent" and t.first_agent_reply_at is None:
                passes = opened + urgent + 1.0
                if passes > now:
                    first = min(first, passes)
                    if out is not None:
                        out.append(passes)
        else:
            leaves = opened + window
            if leaves > now:
                first = min(first, leaves)
                if out is not None:
                    out.append(leaves)
    return first


def next_due(
    state: CustomerState,
    memory: AlertState,
    policy: Policy,
    now: float,
    refresh: float,
    current: HealthScore | None = None,
) -> float | None:
    """The next event time at which the customer must be evaluated without new events; None
    when nothing can change for it any more (a churned customer, a settled score with no
    moment ahead).

    `memory` is the alert memory after the evaluation at `now`, `current` that evaluation's
    health when the caller has it. The result is a pure function of its arguments, so a replay
    evaluates customers at the very same moments as the live worker.

    >>> from scoring.state import new_state
    >>> from stream.resources import load_policy
    >>> next_due(new_state("a"), AlertState(), load_policy(), now=100.0, refresh=3600.0) is None
    True
    """
    if state.is_churned:
        return None
    first = min(first_moment(state, policy, now), _memory_moment(memory, state, policy, now))
    ahead = first != math.inf
    limit = first if ahead else now + FAR
    if current is None or current.as_of != now:
        current = score(state, policy, now, memory.band, explain=False)
    if current is None:
        return limit if ahead else None
    floor, drop = _levels(current, memory, policy, now, state.segment)
    probe = _Probe(state, policy, current.score, floor, drop)

    # Candidates on the refresh grid (now + k * refresh, the last one at `limit`): the first at
    # which the score crossed a level or drifted `SETTLED` points is due. Both only become true
    # as time passes (the score never rises before `limit`), so the first is found by a
    # galloping search (k = 1, 2, 4, ... then bisection): most silent customers are due at the
    # first or second step, which this finds in one or two scores instead of log2(steps).
    steps = max(1, math.ceil((limit - now) / refresh))
    lo, hi = 0, 1  # nothing at `lo` (now); `hi` is the next step to try
    while hi < steps and not probe.hit(min(limit, now + hi * refresh)):
        lo, hi = hi, 2 * hi
    if hi >= steps:
        hi = steps
        if not probe.hit(limit):
            return limit if ahead else None
    while hi - lo > 1:  # nothing at `lo`, something at `hi`
        mid = (lo + hi) // 2
        if probe.hit(min(limit, now + mid * refresh)):
            hi = mid
        else:
            lo = mid
    at_hi = min(limit, now + hi * refresh)
    if probe.crossed(at_hi):
        return probe.crossing(min(limit, now + lo * refresh), at_hi)
    return at_hi


class _Probe:
    """A silent customer's score at times ahead of its evaluation, each worked out once, and
    whether it crossed a level (`_levels`) or drifted from the evaluated score by then.

    A plain object rather than closures over `next_due`'s locals: compiled, nested functions
    and the environment they share refer to each other, a cycle that only the cyclic garbage
    collector frees, and `next_due` runs for every customer of every batch."""

    __slots__ = ("drop", "floor", "policy", "score", "seen", "state")

    def __init__(
        self, state: CustomerState, policy: Policy, score: float, floor: float, drop: float
    ) -> None:
        self.state = state
        self.policy = policy
        self.score = score
        self.floor = floor
        self.drop = drop
        self.seen: dict[float, float | None] = {}

    def value(self, at: float) -> float | None:
        seen = self.seen
        if at in seen:
            return seen[at]
        v = seen[at] = value_of(self.state, self.policy, at)
        return v

    def crossed(self, at: float) -> bool:
        v = self.value(at)
        return v is not None and (v < self.floor or v <= self.drop)

    def hit(self, at: float) -> bool:
        """Crossed a level, or moved `SETTLED` points below the evaluated score."""
        if self.crossed(at):
            return True
        v = self.value(at)
        return v is not None and self.score - v >= SETTLED

    def crossing(self, lo: float, hi: float) -> float:
        """A time at most `RESOLUTION` after the level is crossed, knowing it is not crossed
        at `lo` and is at `hi` (the score never rises in between)."""
        while hi - lo > RESOLUTION:
            mid = lo + (hi - lo) / 2
            if self.crossed(mid):
                hi = mid
            else:
                lo = mid
        return hi


class Check(NamedTuple):
    """When to look at a customer next: the exact due time, or a time before which nothing
    can be due (`exact` False: the exact time is worked out when it is reached)."""

    at: float | None
    exact: bool


def next_check(
    state: CustomerState,
    memory: AlertState,
    policy: Policy,
    now: float,
    refresh: float,
    current: HealthScore | None = None,
) -> Check:
    """`next_due`, or, when nothing can be due within `LOOKAHEAD`, that bound instead.

    Active customers have their next event long before anything is due, so finding the exact
    due time (a bisection, several scores) after each event is mostly wasted: one score a
    day ahead tells whether it is needed now. Evaluating at the exact times when the bound is
    reached gives the very evaluations `next_due` after every step would.
    """
    if state.is_churned:
        return Check(None, True)
    ahead = now + min(LOOKAHEAD, refresh)
    if min(first_moment(state, policy, now), _memory_moment(memory, state, policy, now)) <= ahead:
        return Check(next_due(state, memory, policy, now, refresh, current), True)
    if current is None or current.as_of != now:
        current = score(state, policy, now, memory.band, explain=False)
    if current is None:
        return Check(next_due(state, memory, policy, now, refresh, current), True)
    floor, drop = _levels(current, memory, policy, now, state.segment)
    later = value_of(state, policy, ahead)
    if later is not None and (later < floor or later <= drop):
        return Check(next_due(state, memory, policy, now, refresh, current), True)
    return Check(ahead, False)


def _levels(
    current: HealthScore, memory: AlertState, policy: Policy, now: float, segment: str | None
) -> tuple[float, float]:
    """The scores an alert or a band acts on below `current`: the floor of its band (left
    when below) and the sharp-drop level (reached when at or below; -1 when already reached)."""
    floor = _band_floor(current.band, policy)
    risk = risk_threshold(policy, segment)
    if current.score > risk:
        floor = max(floor, risk)
    window = policy.alerts.sharp_drop_window
    peak = current.score
    history = memory.history
    for i in range(0, len(history), 2):
        if now - history[i] <= window and history[i + 1] > peak:
            peak = history[i + 1]
    drop = peak - policy.alerts.sharp_drop_points
    return floor, (-1.0 if drop >= current.score else drop)


def _memory_moment(memory: AlertState, state: CustomerState, policy: Policy, now: float) -> float:
    """The moment the alert memory sets (infinity: none): a high-risk condition or a band drop
    that will have persisted."""
    until = pending_until(memory, state, policy)
    return until if until is not None and until > now else math.inf


def _band_floor(band: str, policy: Policy) -> float:
    """The score below which a customer leaves `band` for a worse one (-1: none worse)."""
    if band == "healthy":
        return policy.bands.healthy
    if band == "at_risk":
        return policy.bands.at_risk
    return -1.0
