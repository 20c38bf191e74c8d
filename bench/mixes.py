"""The benchmark's event mixes: who the events are about.

- `skewed` (the default): Zipf-distributed activity over the customers (weight 1 / rank), as
  real activity is: the top 1% of 100,000 customers produce about 60% of the events.
- `uniform`: every customer alike, so nearly every event of a batch is a different customer:
  the worst case for a worker that touches each customer's record once per batch.
- `heavy`: one customer at a steady rate (100,000 usage events a day by default) over 40 days
  of event time: what one very large account costs.
- `open_tickets`: one busy customer that opens tickets the helpdesk never resolves (3% of its
  events), beside its usage.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from scoring.serialize import rfc3339
from stream.dev.synthetic import CustomerBase, SyntheticEvent

MIXES = ("skewed", "uniform", "heavy", "open_tickets")
DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01


def one_customer(
    customer_id: str, events: int, *, days: float, ticket_share: float = 0.0, seed: int = 7
) -> Iterator[SyntheticEvent]:
    """`events` events of one customer spread evenly over `days` of event time: sessions and
    feature use, and with `ticket_share` tickets opened that are never resolved."""
    rng = random.Random(seed)
    features = ("dashboards", "reports", "exports", "alerts", "api", "integrations")
    yield SyntheticEvent(
        "account",
        customer_id,
        {
            "event_id": f"{customer_id}-onboard",
            "customer_id": customer_id,
            "type": "account_updated",
            "occurred_at": rfc3339(START),
            "segment": "enterprise",
            "owner": "ana@csm.example",
        },
    )
    step = days * DAY / max(1, events)
    for i in range(events):
        at = rfc3339(START + i * step)
        doc: dict[str, object] = {
            "event_id": f"{customer_id}-{i}",
            "customer_id": customer_id,
            "occurred_at": at,
        }
        r = rng.random()
        if r < ticket_share:
            doc.update(type="ticket_opened", ticket_id=f"{customer_id}-t{i}", priority="normal")
            yield SyntheticEvent("support", customer_id, doc)
        elif r < 0.5:
            doc.update(type="session", user_id=f"u{rng.randint(1, 5000)}")
            yield SyntheticEvent("usage", customer_id, doc)
        else:
            doc.update(type="feature_used", feature=rng.choice(features), count=1)
            yield SyntheticEvent("usage", customer_id, doc)


def mix(name: str, events: int, customers: int, *, seed: int = 7) -> Iterator[SyntheticEvent]:
    """The events of one mix (onboarding of every customer first, for the many-customer mixes)."""
    if name == "skewed":
        return CustomerBase(customers, seed=seed, span_days=1.0, prefix="b", skew=1.0).events(
            events
        )
    if name == "uniform":
        return CustomerBase(customers, seed=seed, span_days=1.0, prefix="b").events(events)
    if name == "heavy":
        return one_customer("heavy-1", events, days=40.0, seed=seed)
    if name == "open_tickets":
        return one_customer("tickets-1", events, days=40.0, ticket_share=0.03, seed=seed)
    raise ValueError(f"unknown mix {name!r}; one of {', '.join(MIXES)}")
