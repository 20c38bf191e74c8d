"""The laws a churn score must keep to be trusted as a ranking, on generated histories.

- A customer who stops using the product never rises while silent.
- More open urgent tickets never raise a score.
- Idle customers stay ordered: longer idle ranks lower, and scores never collapse into ties.
- Contacting support never raises a score: no ticket is the best support can be.
"""

from __future__ import annotations

import msgspec
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scoring import events as ev
from scoring.decay import DAY
from scoring.health import score

from .builders import POLICY, T0, build
from .test_properties import CID, histories, latest

USAGE_KINDS = (ev.Session, ev.FeatureUsed, ev.SeatSnapshot)


@settings(max_examples=300, deadline=None)
@given(histories(span_days=60), st.floats(0, 400), st.floats(0, 400))
def test_a_customer_who_stops_using_the_product_never_rises(
    events: list[ev.Event], first: float, second: float
) -> None:
    """Silence only: nothing else happens either (a ticket leaving its window is support
    improving, not usage; so histories here have no tickets)."""
    events = [e for e in events if not hasattr(e, "ticket_id")]
    assume(events)
    state = build(events)
    early = latest(events) + min(first, second) * DAY
    late = latest(events) + max(first, second) * DAY
    before, after = score(state, POLICY, early), score(state, POLICY, late)
    assert before is not None
    assert after is not None
    assert after.score <= before.score
    assert (after.components["usage"] or 0.0) <= (before.components["usage"] or 0.0)


@settings(max_examples=300, deadline=None)
@given(histories(span_days=30), st.integers(1, 5), st.floats(0, 10))
def test_more_open_urgent_tickets_never_raise_a_score(
    events: list[ev.Event], extra: int, age_days: float
) -> None:
    now = latest(events)
    opened_at = max(T0, now - age_days * DAY)
    base = build(events)
    before = score(base, POLICY, now)
    assert before is not None
    more = build(
        [
            *events,
            *(ev.TicketOpened(f"x{i}", CID, opened_at, f"new-{i}", "urgent") for i in range(extra)),
        ]
    )
    after = score(more, POLICY, now)
    assert after is not None
    assert after.score <= before.score


def _shifted(events: list[ev.Event], days: float) -> list[ev.Event]:

    return [msgspec.structs.replace(e, occurred_at=e.occurred_at - days * DAY) for e in events]


@settings(max_examples=200, deadline=None)
@given(
    histories(span_days=60),
    st.floats(7, 200),
    st.floats(30, 700),
)
def test_idle_customers_stay_ordered_by_how_long_they_have_been_idle(
    events: list[ev.Event], earlier_by: float, idle: float
) -> None:
    """The same history lived `earlier_by` days earlier has been idle longer: it scores
    strictly lower through a year of silence (no saturation, no ties at the 0.01 the score
    is published with), and never higher after that. It takes activity to fade from: a
    customer never active (seat counts alone, or activity refused as too late) reads no use
    at all however long it is known, since recency weighs nothing in the default policy
    (docs/scoring.md)."""
    events = [e for e in events if not hasattr(e, "ticket_id")]
    assume(build(events).last_active_at is not None)
    now = latest(events) + idle * DAY
    recent = score(build(events), POLICY, now)
    older = score(build(_shifted(events, earlier_by)), POLICY, now)
    assert recent is not None
    assert older is not None
    if idle <= 365:
        assert older.score < recent.score
    else:
        assert older.score <= recent.score


def test_idle_customers_never_tie_at_the_bottom() -> None:
    """Customers idle for 2, 4, 6, ... 24 months after the same year of daily use."""
    events = [ev.Session(f"s{d}", CID, T0 + d * DAY, "u") for d in range(365)]
    state = build(events)
    scores = [
        score(state, POLICY, T0 + 365 * DAY + months * 30 * DAY) for months in range(2, 25, 2)
    ]
    values = [h.score for h in scores if h is not None]
    assert 12 == len(values)
    assert sorted(values, reverse=True) == values
    assert len(set(values)) == len(values)
    assert values[-1] > 0.0


def test_contacting_support_never_raises_the_score() -> None:
    """A customer with no ticket is not ranked below one whose ticket went perfectly."""
    use = [ev.Session(f"s{d}", CID, T0 + d * DAY, "u") for d in range(30)]
    t = T0 + 29 * DAY
    handled = [
        ev.TicketOpened("o", CID, t, "k", "normal"),
        ev.TicketReplied("r", CID, t + 600, "k", "agent"),
        ev.TicketResolved("d", CID, t + 3600, "k"),
    ]
    quiet = score(build(use), POLICY, t + 2 * 3600)
    helped = score(build([*use, *handled]), POLICY, t + 2 * 3600)
    assert quiet is not None
    assert helped is not None
    assert helped.score < quiet.score
