"""The alert holdout on the worker's path: a held-out customer's alert is recorded and counted
but neither published on churn-alerts nor forwarded to Alertmanager (the integration test
tests/integration/test_alertmanager.py delivers through a real one)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import orjson
from prometheus_client import CollectorRegistry

from scoring.holdout import Holdout
from stream.metrics import EngineMetrics
from stream.resources import load_policy
from stream.settings import Settings
from stream.store import Record
from stream.store.memory import MemoryStore
from stream.worker.engine import Engine

from .test_alertmanager import Recording, Store, alert
from .test_fold import DAY, T0, Sent, usage

HOLDOUT = Holdout("outreach-test", 0.5)
CANDIDATES = [f"cust-{i}" for i in range(50)]
HELD = next(c for c in CANDIDATES if HOLDOUT.holds(c))
TOLD = next(c for c in CANDIDATES if not HOLDOUT.holds(c))
BASE = load_policy()
POLICY = replace(BASE, alerts=replace(BASE.alerts, holdout=HOLDOUT))


def test_a_held_out_customers_alert_is_recorded_and_counted_but_not_published() -> None:
    store, sent, registry = MemoryStore(), Sent(), CollectorRegistry()
    e = Engine(Settings(), POLICY, store, sent, EngineMetrics(registry))
    back = T0 + POLICY.alerts.inactivity_after + 10 * DAY

    async def go() -> None:
        await e.process([usage(0, T0, HELD), usage(0, T0, TOLD)])
        await e.process([usage(1, back, HELD), usage(1, back, TOLD)])

    asyncio.run(go())
    assert [TOLD] == [a["customer_id"] for a in sent.alerts()]
    [published] = sent.alerts()
    rule, severity = published["rule"], published["severity"]
    # recorded as any alert: the alert memory of both says the rule raised an alert then
    held = Record.parse(HELD, store.stored[HELD]).alerts.rules[rule]
    told = Record.parse(TOLD, store.stored[TOLD]).alerts.rules[rule]
    assert held.last_raised_at is not None
    assert held.last_raised_at == told.last_raised_at
    # what was held out is in the fold's outputs, apart from what is published
    held_out = [a for o in sent.outputs for a in o.held_out]
    assert [HELD] == [a.customer_id for a in held_out]
    assert [alert.customer_id for o in sent.outputs for alert in o.raised] == [HELD, TOLD]
    assert (rule, severity) == (held_out[0].rule, held_out[0].severity)
    labels = {"rule": rule, "severity": severity}
    assert 2 == registry.get_sample_value("healthscore_alerts_total", labels)  # both raised
    assert 1 == registry.get_sample_value("healthscore_alerts_held_out_total", {"rule": rule})


def test_without_a_holdout_every_alert_is_published() -> None:
    store, sent = MemoryStore(), Sent()
    e = Engine(Settings(), BASE, store, sent)
    back = T0 + BASE.alerts.inactivity_after + 10 * DAY

    async def go() -> None:
        await e.process([usage(0, T0, HELD), usage(0, T0, TOLD)])
        await e.process([usage(1, back, HELD), usage(1, back, TOLD)])

    asyncio.run(go())
    assert sorted([HELD, TOLD]) == sorted(a["customer_id"] for a in sent.alerts())


class Holding(Recording):
    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.holdout = HOLDOUT


def test_the_forwarder_never_posts_a_held_out_customers_alert_firing_or_resolved() -> None:
    store = Store()
    fwd = Holding(store)
    gone_held = orjson.dumps(alert(HELD) | {"alert_id": "old-held"})
    gone_told = orjson.dumps(alert(TOLD) | {"alert_id": "old-told"})
    asyncio.run(fwd.forward([alert(HELD), alert(TOLD)], [(0, gone_held), (1, gone_told)]))
    posted = [a["labels"]["customer"] for batch in fwd.requests for a in batch]
    assert [TOLD, TOLD] == posted  # the old one resolved, the new one firing
    assert HELD not in fwd.posted
    # both resolved alerts are forgotten in Redis all the same
    assert [(0, gone_held), (1, gone_told)] == store.forgotten


def test_the_forwarder_posts_everyone_without_a_holdout() -> None:
    fwd = Recording(Store())
    asyncio.run(fwd.forward([alert(HELD), alert(TOLD)], []))
    assert [HELD, TOLD] == [a["labels"]["customer"] for a in fwd.requests[0]]


def test_the_pages_do_not_show_a_held_out_customers_alert() -> None:
    """The worklist, portfolio and customer page read records through `CustomerRoutes.shown`:
    a held-out customer's open alert is not shown to a manager, another's is."""
    from stream.web.routes import CustomerRoutes

    from .test_pages import a_customer

    routes = CustomerRoutes(None, POLICY, lambda _what: None)  # type: ignore[arg-type]
    held, told = a_customer(HELD), a_customer(TOLD)
    assert held.alerts.open is not None
    assert told.alerts.open is not None
    assert routes.shown(held).alerts.open is None
    assert routes.shown(told).alerts.open is not None
    everyone = CustomerRoutes(None, BASE, lambda _what: None)  # type: ignore[arg-type]
    assert everyone.shown(a_customer(HELD)).alerts.open is not None
