"""The synthetic customer base is valid, reproducible and has customers drifting to churn."""

from __future__ import annotations

from collections import Counter

import orjson

from stream.codec import decode_event
from stream.contract import INPUT_TOPICS
from stream.dev.synthetic import CustomerBase


def test_every_generated_message_obeys_the_contract_of_its_topic() -> None:
    for event in CustomerBase(30, seed=7).events(3000):
        decoded = decode_event(
            orjson.dumps(event.doc),
            topic=INPUT_TOPICS[event.kind],  # type: ignore[index]
            key=event.customer_id.encode(),
        )
        assert event.doc["event_id"] == decoded.event_id


def test_the_same_seed_gives_the_same_stream() -> None:
    first = [e.doc for e in CustomerBase(20, seed=3).events(500)]
    second = [e.doc for e in CustomerBase(20, seed=3).events(500)]
    assert first == second


def test_event_ids_are_unique() -> None:
    ids = [e.doc["event_id"] for e in CustomerBase(20, seed=3).events(2000)]
    assert len(ids) == len(set(ids))


def test_event_time_never_goes_backwards() -> None:
    times = [decode_event(orjson.dumps(e.doc)).occurred_at for e in CustomerBase(10).events(500)]
    assert times == sorted(times)


def test_declining_customers_use_the_product_less_late_in_the_span() -> None:
    base = CustomerBase(200, seed=11, declining_share=0.5)
    declining = {c.customer_id for c in base.customers if c.profile == "declining"}
    usage = Counter()
    events = list(base.events(40_000))[200:]
    half = len(events) // 2
    for i, e in enumerate(events):
        if e.kind == "usage" and e.customer_id in declining:
            usage["early" if i < half else "late"] += 1
    assert usage["late"] < 0.6 * usage["early"]


def test_every_customer_is_onboarded_with_segment_and_owner() -> None:
    onboarding = list(CustomerBase(50).onboarding())
    assert 50 == len(onboarding)
    assert all(e.doc["segment"] and e.doc["owner"] for e in onboarding)


def test_with_a_support_team_every_ticket_is_answered_by_an_agent_within_its_sla() -> None:
    from stream.resources import load_policy

    sla = load_policy().support.first_response_sla

    base = CustomerBase(40, seed=9, span_days=30, support_team=True)
    profile = {c.customer_id: c.profile for c in base.customers}
    docs = [(e.doc, decode_event(orjson.dumps(e.doc)).occurred_at) for e in base.events(6000)]
    assert [t for _, t in docs] == sorted(t for _, t in docs)
    opened = {d["ticket_id"]: (d, t) for d, t in docs if d["type"] == "ticket_opened"}
    first: dict[str, float] = {}
    for d, t in docs:
        if d["type"] == "ticket_replied" and d["by"] == "agent":
            first.setdefault(d["ticket_id"], t)
    end = base.start + base.span
    assert opened
    for tid, (d, t) in opened.items():
        assert tid in first, tid
        late = first[tid] - t > sla[d["priority"]]
        if profile[d["customer_id"]] == "healthy":
            assert not late or first[tid] == end, tid
