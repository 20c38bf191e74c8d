"""The Alertmanager forwarder's messages and ordering, without Alertmanager (the integration test
delivers through a real one)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson
import pytest

from stream.i18n import words
from stream.settings import Settings
from stream.store.views import AlertChanges
from stream.worker.alertmanager import Forwarder, labels_of, payload


def alert(cid: str = "acme", **changes: Any) -> dict[str, Any]:
    doc = {
        "alert_id": f"id-{cid}",
        "customer_id": cid,
        "rule": "sharp_drop",
        "rules": ["sharp_drop", "band_drop"],
        "severity": "warning",
        "score": 41.6,
        "previous_score": 80.0,
        "band": "at_risk",
        "reasons": ["score dropped 38 points within 7 days", "health fell from healthy"],
        "owner": None,
        "segment": "smb",
        "raised_at": "2026-03-01T12:00:00.000Z",
    }
    return doc | changes


class Store:
    def __init__(self) -> None:
        self.forgotten: list[tuple[int, bytes]] = []

    async def forget_resolved(self, forwarded: list[tuple[int, bytes]]) -> None:
        self.forgotten.extend(forwarded)


class Recording(Forwarder):
    def __init__(self, store: Store) -> None:
        settings = Settings(
            alertmanager_url="http://am:9093/", alertmanager_resend_seconds=60.0,
            public_url="https://health.example/",
        )  # fmt: skip
        super().__init__(store, settings, clock=lambda: 1_800_000_000.0)  # type: ignore[arg-type]
        self.requests: list[list[dict[str, Any]]] = []

    async def _post(self, batch: list[dict[str, Any]]) -> None:
        self.requests.append(batch)


def test_an_alert_becomes_labels_annotations_and_a_link() -> None:
    doc = alert("a b/c")
    sent = payload(doc, labels_of(doc), "https://health.example", 1_800_000_240.0)
    assert {
        "alertname": "CustomerChurnRisk",
        "customer": "a b/c",
        "rule": "sharp_drop",
        "severity": "warning",
        "owner": "unassigned",
        "segment": "smb",
        "revenue_at_risk_at_least": "unknown",
    } == sent["labels"]
    assert "unknown (no MRR)" == sent["annotations"]["revenue_at_risk"]
    money = alert("d", revenue_at_risk=2412.5, revenue_at_risk_calibrated=True)
    priced = payload(money, labels_of(money), "https://health.example", 1_800_000_240.0)
    assert "1000" == priced["labels"]["revenue_at_risk_at_least"]
    assert "2,412.50 (MRR x churn probability)" == priced["annotations"]["revenue_at_risk"]
    assert "https://health.example/customers/a%20b%2Fc?lang=en" == sent["generatorURL"]
    assert sent["annotations"]["description"] == "\n".join(f"- {r}" for r in doc["reasons"])
    assert "a b/c: churn risk (warning)" == sent["annotations"]["subject"]
    assert (
        "a b/c: at risk (score 42): score dropped 38 points within 7 days"
        == sent["annotations"]["summary"]
    )


def test_the_annotations_a_person_reads_are_in_the_alerts_language() -> None:
    doc = alert("acme", locale="lv", revenue_at_risk=2412.5, revenue_at_risk_calibrated=True)
    sent = payload(doc, labels_of(doc), "https://health.example", 1_800_000_240.0)
    lv = words("lv")
    notes = sent["annotations"]
    assert lv.say("notify-subject", customer="acme", severity="warning") == notes["subject"]
    assert lv.say("next-step", rule="sharp_drop") == notes["next_step"]
    assert lv.say("notify-reasons") == notes["reasons_heading"]
    assert "2 412,50" in notes["revenue_at_risk"].replace("\xa0", " ")
    assert "lv" == notes["locale"]
    own = payload(doc, labels_of(doc), "", 0.0, {"sharp_drop": {"lv": "Zvaniet šodien."}})
    assert "Zvaniet šodien." == own["annotations"]["next_step"]
    assert own["generatorURL"].endswith("/customers/acme?lang=lv")  # the page in it too
    old = alert("acme")  # stored before the catalogs: no locale; the deployment's language
    assert "ru" == payload(old, labels_of(old), "", 0.0, None, "ru")["annotations"]["locale"]
    assert "sharp_drop, band_drop" == sent["annotations"]["rules"]
    assert "2026-03-01T12:00:00.000Z" == sent["startsAt"]
    assert "2027-01-15T08:04:00Z" == sent["endsAt"]


def test_resolved_alerts_go_first_and_an_alert_that_opened_and_resolved_only_resolves() -> None:
    store = Store()
    fwd = Recording(store)
    gone = orjson.dumps(alert("b") | {"resolved_at": "2026-03-02T00:00:00.000Z"})
    asyncio.run(fwd.forward([alert("a"), alert("b")], [(3, gone)]))
    resolved, firing = fwd.requests
    assert ["b"] == [a["labels"]["customer"] for a in resolved]
    assert resolved[0]["endsAt"] == "2027-01-15T08:00:00Z"  # now: resolved
    assert ["a"] == [a["labels"]["customer"] for a in firing]
    assert firing[0]["endsAt"] == "2027-01-15T08:04:00Z"  # four resend periods ahead
    assert [(3, gone)] == store.forgotten


def test_a_rise_to_critical_resolves_the_alert_under_its_old_labels() -> None:
    fwd = Recording(Store())
    asyncio.run(fwd.forward([alert("a")], []))
    asyncio.run(fwd.forward([alert("a", severity="critical")], []))
    ended, fired = fwd.requests[1:]
    assert "warning" == ended[0]["labels"]["severity"]
    assert ended[0]["endsAt"] == "2027-01-15T08:00:00Z"
    assert "critical" == fired[0]["labels"]["severity"]


def test_a_failed_post_keeps_the_resolved_alerts_for_the_next_attempt() -> None:
    store = Store()
    fwd = Recording(store)

    async def refuse(batch: list[dict[str, Any]]) -> None:
        raise TimeoutError

    fwd._post = refuse  # type: ignore[method-assign]
    gone = orjson.dumps(alert("b"))
    with pytest.raises(TimeoutError):
        asyncio.run(fwd.forward([], [(1, gone)]))
    assert [] == store.forgotten


def test_changes_that_come_in_during_a_full_pass_are_forwarded_at_once() -> None:
    class Slow(Store):
        def __init__(self) -> None:
            super().__init__()
            self.reading = asyncio.Event()

        async def open_alerts(self, partitions: Any) -> dict[int, dict[str, bytes]]:
            self.reading.set()
            await asyncio.sleep(0.05)  # a change is stored meanwhile
            return {0: {"a": orjson.dumps(alert("a"))}}

        async def resolved_alerts(self, partitions: Any) -> list[tuple[int, bytes]]:
            return []

    async def scenario() -> list[list[dict[str, Any]]]:
        store = Slow()
        fwd = Recording(store)
        fwd.clock = time.monotonic  # type: ignore[method-assign]
        task = asyncio.create_task(fwd.run(lambda: {0}))
        await store.reading.wait()
        fwd.notify(AlertChanges(opened=[alert("b")]))
        await asyncio.sleep(0.3)  # far less than the 60 s resend period
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return fwd.requests

    requests = asyncio.run(scenario())
    customers = [[a["labels"]["customer"] for a in batch] for batch in requests]
    assert [["a"], ["b"]] == customers
