"""A customer's life in event time: events applied, and silent moments evaluated, in order.

The worker folds every event and every due moment through `on_event` and `catch_up`, and so
does any replay of a history (a test's reference, a backtest). A customer's evaluations are
the same sequence however the events were batched: after each event and each evaluation its
next due moment is set (`scoring.schedule.next_due`), and before an event every due moment up
to the event's time is evaluated first, exactly as the timer would have when living through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from scoring.alerts import Alert, AlertState, evaluate
from scoring.events import Event, event_order
from scoring.health import HealthScore, score
from scoring.policy import Policy
from scoring.schedule import Check, next_check, next_due
from scoring.state import CustomerState, apply


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Standing:
    """What is kept of a customer between steps: its state, alert memory and next due time.

    `due` is exact, or (`exact` False) a time before which nothing can be due, the exact time
    being worked out from the evaluation at `evaluated_at` once that bound is reached
    (`scoring.schedule.next_check`)."""

    state: CustomerState
    memory: AlertState = field(default_factory=AlertState)
    due: float | None = None
    exact: bool = True
    evaluated_at: float | None = None


def resolve(standing: Standing, policy: Policy, refresh: float) -> Standing:
    """The standing with its exact due time."""
    if standing.exact or standing.evaluated_at is None:
        return standing
    due = next_due(standing.state, standing.memory, policy, standing.evaluated_at, refresh)
    return replace(standing, due=due, exact=True)


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Step:
    """The outcome of one step: the new standing, the latest health and the alerts raised."""

    standing: Standing
    health: HealthScore | None = None
    raised: tuple[Alert, ...] = ()
    evaluated: tuple[float, ...] = ()  # the event times it evaluated the customer at, in order


def evaluate_at(
    standing: Standing, at: float, policy: Policy, refresh: float, exact: bool = False
) -> Step:
    """Evaluate a customer at event time `at` (never before its clock) without a new event,
    and schedule its next due moment: exactly when `exact` (a silent customer evaluated at a
    due moment: no event is likely to come first, so the bound `next_check` would give is only
    a second visit), else lazily. Either way the later evaluations are the same."""
    state = standing.state
    now = max(at, state.clock if state.clock is not None else at)
    health = score(state, policy, now, standing.memory.band, explain=False)
    memory, raised = standing.memory, list[Alert]()
    if health is not None:
        memory, raised = evaluate(memory, state, health, policy, now)
    if exact:
        check = Check(next_due(state, memory, policy, now, refresh, health), True)
    else:
        check = next_check(state, memory, policy, now, refresh, health)
    return Step(Standing(state, memory, check.at, check.exact, now), health, tuple(raised), (now,))


def catch_up(standing: Standing, until: float, policy: Policy, refresh: float) -> Step:
    """Evaluate every due moment after the customer's clock, up to and including `until`."""
    current, health = standing, None
    raised: list[Alert] = []
    times: list[float] = []
    while True:
        due, clock = current.due, current.state.clock
        if due is None or clock is None or not clock < due <= until:
            return Step(current, health, tuple(raised), tuple(times))
        if not current.exact:
            current = resolve(current, policy, refresh)
            continue
        later = evaluate_at(current, due, policy, refresh, exact=True)
        raised.extend(later.raised)
        times.extend(later.evaluated)
        current, health = later.standing, later.health or health


def on_event(standing: Standing, event: Event, policy: Policy, refresh: float) -> Step | None:
    """Apply one event and evaluate the customer at its clock; None when the event changes
    nothing (a remembered duplicate or a refused event). Due moments before the event are the
    caller's to catch up first (`catch_up`), so it can tell their alerts apart."""
    after = apply(standing.state, event, policy)
    if after is standing.state:
        return None
    moved = replace(standing, state=after)
    return evaluate_at(moved, event.occurred_at, policy, refresh)


def replay(
    events: list[Event], policy: Policy, refresh: float, until: float | None = None
) -> tuple[Standing | None, list[Alert]]:
    """Live through one customer's events in event-time order (`event_order`; a stable sort, so
    events of one kind at one instant keep their given order), then through its due moments up
    to `until`: the standing it ends with and every alert raised on the way."""
    standing: Standing | None = None
    raised: list[Alert] = []
    for event in sorted(events, key=event_order):
        if standing is None:
            standing = Standing(CustomerState(event.customer_id))
        caught = catch_up(standing, event.occurred_at, policy, refresh)
        raised.extend(caught.raised)
        step = on_event(caught.standing, event, policy, refresh)
        if step is not None:
            standing = step.standing
            raised.extend(step.raised)
        else:
            standing = caught.standing
    if standing is not None and until is not None:
        caught = catch_up(standing, until, policy, refresh)
        standing = caught.standing
        raised.extend(caught.raised)
    return standing, raised
