"""A customer's life in event time: events applied, and silent moments evaluated, in order.

The worker folds every event and every due moment through `on_event` and `catch_up`, and so
does any replay of a history (a test's reference, a backtest). A customer's evaluations are
the same sequence however the events were batched: after each event and each evaluation its
next due moment is set (`scoring.schedule.next_due`), and before an event every due moment up
to the event's time is evaluated first, exactly as the timer would have when living through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring import alerts
from scoring.alerts import Alert, AlertState
from scoring.events import Event, event_order
from scoring.health import HealthScore, score
from scoring.policy import Policy
from scoring.schedule import next_check, next_due
from scoring.state import APPLIED, CustomerState, apply_into


@dataclass(slots=True, eq=True, init=False)
class Standing:
    """What is kept of a customer between steps: its state, alert memory and next due time,
    updated in place by the steps below.

    `due` is exact, or (`exact` False) a time before which nothing can be due, the exact time
    being worked out from the evaluation at `evaluated_at` once that bound is reached
    (`scoring.schedule.next_check`)."""

    state: CustomerState
    memory: AlertState
    due: float | None
    exact: bool
    evaluated_at: float | None

    def __init__(
        self,
        state: CustomerState,
        memory: AlertState | None = None,
        due: float | None = None,
        exact: bool = True,
        evaluated_at: float | None = None,
    ) -> None:
        self.state = state
        self.memory = AlertState() if memory is None else memory
        self.due = due
        self.exact = exact
        self.evaluated_at = evaluated_at


def resolve(standing: Standing, policy: Policy, refresh: float) -> Standing:
    """Work out the standing's exact due time (in place); return it."""
    if not standing.exact and standing.evaluated_at is not None:
        standing.due = next_due(
            standing.state, standing.memory, policy, standing.evaluated_at, refresh
        )
        standing.exact = True
    return standing


@dataclass(slots=True, eq=True, init=False)
class Step:
    """The outcome of a step: the standing (updated in place), the latest health and the
    alerts raised."""

    standing: Standing
    health: HealthScore | None
    raised: tuple[Alert, ...]
    evaluated: tuple[float, ...]  # the event times it evaluated the customer at, in order

    def __init__(
        self,
        standing: Standing,
        health: HealthScore | None = None,
        raised: tuple[Alert, ...] = (),
        evaluated: tuple[float, ...] = (),
    ) -> None:
        # written out: the dataclass's own `__init__` would run interpreted, once per event of
        # a replay
        self.standing = standing
        self.health = health
        self.raised = raised
        self.evaluated = evaluated


def evaluate_into(
    standing: Standing,
    at: float,
    policy: Policy,
    refresh: float,
    exact: bool = False,
    raised: list[Alert] | None = None,
) -> HealthScore | None:
    """Evaluate a customer at event time `at` (never before its clock) without a new event,
    and schedule its next due moment: exactly when `exact` (a silent customer evaluated at a
    due moment: no event is likely to come first, so the bound `next_check` would give is only
    a second visit), else lazily. Either way the later evaluations are the same. The standing
    is updated in place; an alert raised is added to `raised`."""
    state = standing.state
    clock = state.clock
    now = at if clock is None or at >= clock else clock
    memory = standing.memory
    health = score(state, policy, now, memory.band, explain=False)
    if health is not None:
        alert = alerts.evaluate_into(memory, state, health, policy, now)
        if alert is not None and raised is not None:
            raised.append(alert)
    if exact:
        standing.due = next_due(state, memory, policy, now, refresh, health)
        standing.exact = True
    else:
        check = next_check(state, memory, policy, now, refresh, health)
        standing.due, standing.exact = check.at, check.exact
    standing.evaluated_at = now
    return health


def evaluate_at(
    standing: Standing, at: float, policy: Policy, refresh: float, exact: bool = False
) -> Step:
    """`evaluate_into`, with what it did as a `Step`."""
    raised: list[Alert] = []
    health = evaluate_into(standing, at, policy, refresh, exact, raised)
    assert standing.evaluated_at is not None
    return Step(standing, health, tuple(raised), (standing.evaluated_at,))


def catch_up_into(
    standing: Standing,
    until: float,
    policy: Policy,
    refresh: float,
    raised: list[Alert],
    times: list[float] | None = None,
) -> HealthScore | None:
    """Evaluate every due moment after the customer's clock, up to and including `until`, in
    place; return the latest health (None: nothing was due). Alerts raised go to `raised`, the
    times evaluated at to `times` when given."""
    health: HealthScore | None = None
    while True:
        due, clock = standing.due, standing.state.clock
        if due is None or clock is None or not clock < due <= until:
            return health
        if not standing.exact:
            resolve(standing, policy, refresh)
            continue
        health = evaluate_into(standing, due, policy, refresh, True, raised) or health
        if times is not None and standing.evaluated_at is not None:
            times.append(standing.evaluated_at)


def catch_up(standing: Standing, until: float, policy: Policy, refresh: float) -> Step:
    """`catch_up_into`, with what it did as a `Step`."""
    raised: list[Alert] = []
    times: list[float] = []
    health = catch_up_into(standing, until, policy, refresh, raised, times)
    return Step(standing, health, tuple(raised), tuple(times))


def on_event(standing: Standing, event: Event, policy: Policy, refresh: float) -> Step | None:
    """Apply one event and evaluate the customer at its clock (in place); None when the event
    changes nothing (a remembered duplicate or a refused event). Due moments before the event
    are the caller's to catch up first (`catch_up`), so it can tell their alerts apart."""
    if apply_into(standing.state, event, policy) != APPLIED:
        return None
    return evaluate_at(standing, event.occurred_at, policy, refresh)


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
        catch_up_into(standing, event.occurred_at, policy, refresh, raised)
        if apply_into(standing.state, event, policy) == APPLIED:
            evaluate_into(standing, event.occurred_at, policy, refresh, False, raised)
    if standing is not None and until is not None:
        catch_up_into(standing, until, policy, refresh, raised)
    return standing, raised
