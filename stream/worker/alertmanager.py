"""Churn alerts forwarded to Prometheus Alertmanager, which routes, groups, inhibits, silences
and delivers them (e-mail, Slack, PagerDuty, webhooks).

Alertmanager's protocol is the one Prometheus speaks: a firing alert is posted with an `endsAt`
a few resend periods ahead and posted again while it lasts; a resolved alert is posted with
`endsAt` now. Each worker forwards the alerts of the partitions it owns:

- at once, when a batch it stored opened, grew or resolved an alert (`Engine.on_alert_changes`);
- and every `HEALTHSCORE_ALERTMANAGER_RESEND_SECONDS`, every alert open in those partitions
  (read from Redis, so a restart or a rebalance loses none) and every resolved alert not yet
  forwarded (kept in Redis until Alertmanager took it).

The alerts of a customer held out by the policy's holdout experiment (`alerts.holdout`,
`scoring.holdout`) are never posted, firing or resolved: they stay in Redis like any other
(their resolved ones are forgotten there as usual), and no manager is told of them.

An alert's labels are its identity in Alertmanager: `alertname`, `customer`, `rule` (the
leading rule), `severity`, `owner`, `segment`. When an open alert's labels change (it rose to
critical), the alert under the old labels is resolved and the new one fires, so Alertmanager
notifies again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from scoring.holdout import Holdout
from stream.i18n import Words, next_step
from stream.i18n import words as catalog
from stream.metrics import EngineMetrics
from stream.settings import Settings
from stream.store import RETRYABLE, RecordStore
from stream.store.views import AlertChanges

log = logging.getLogger(__name__)

ALERTNAME = "CustomerChurnRisk"
POST_TIMEOUT = 10.0


def labels_of(doc: dict[str, Any]) -> dict[str, str]:
    """The Alertmanager labels of an alert (its churn-alerts JSON)."""
    return {
        "alertname": ALERTNAME,
        "customer": doc["customer_id"],
        "rule": doc["rule"],
        "severity": doc["severity"],
        "owner": doc.get("owner") or "unassigned",
        "segment": doc.get("segment") or "unknown",
        "revenue_at_risk_at_least": revenue_decade(doc.get("revenue_at_risk")),
    }


def revenue_decade(value: float | None) -> str:
    """The power of ten at or below an alert's revenue at risk ("0" under 1, "unknown" without
    an MRR): a label routes can match (`revenue_at_risk_at_least=~"10000|100000"`) that stays
    the same for the whole episode, as the exact figure (an annotation) is fixed when raised.

    >>> revenue_decade(2400.0), revenue_decade(0.5), revenue_decade(None), revenue_decade(1000.0)
    ('1000', '0', 'unknown', '1000')
    """
    if value is None:
        return "unknown"
    if value < 1:
        return "0"
    return str(10 ** math.floor(math.log10(value) + 1e-9))


def _money(words: Words, value: float | None, calibrated: bool | None) -> str:
    """The revenue at risk in words: "1,234.50 (MRR x churn probability)" or "unknown"."""
    if value is None:
        return words.say("notify-revenue-unknown")
    amount = words.number(value, 2)
    return words.say("notify-revenue", amount=amount, calibrated="yes" if calibrated else "no")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def payload(
    doc: dict[str, Any],
    labels: dict[str, str],
    page_base: str,
    ends_at: float,
    next_steps: Mapping[str, Mapping[str, str]] | None = None,
    default_locale: str | None = None,
) -> dict[str, Any]:
    """One alert as Alertmanager's API takes it; `ends_at` in the past resolves it. Every
    annotation a person reads is in the alert's language (its `locale`: the owner's, else the
    customer's, else the deployment's), so the shipped e-mail template
    (config/alertmanager/alertmanager.yml) arranges words without writing any."""
    words = catalog(doc.get("locale") or default_locale)  # none: stored before the catalogs
    reasons = list(doc.get("reasons") or [])
    customer = doc["customer_id"]
    rule = doc["rule"]
    lead = reasons[0] if reasons else words.say("rule", rule=rule)
    score = round(doc["score"])
    return {
        "labels": labels,
        "annotations": {
            "summary": words.say(
                "notify-summary", customer=customer, band=doc["band"], score=score, reason=lead
            ),
            "description": "\n".join(f"- {r}" for r in reasons),
            "subject": words.say("notify-subject", customer=customer, severity=doc["severity"]),
            "subject_resolved": words.say("notify-subject-resolved", customer=customer),
            "next_step": next_step(words, rule, next_steps or {}),
            "reasons_heading": words.say("notify-reasons"),
            "next_step_heading": words.say("notify-next-step"),
            "page_link": words.say("notify-open-page"),
            "locale": words.locale,
            "rules": ", ".join(doc.get("rules") or [rule]),
            "score": f"{score}",
            "band": doc["band"],
            "alert_id": doc["alert_id"],
            "raised_at": doc["raised_at"],
            "revenue_at_risk": _money(
                words, doc.get("revenue_at_risk"), doc.get("revenue_at_risk_calibrated")
            ),
        },
        "startsAt": doc["raised_at"],
        "endsAt": _iso(ends_at),
        "generatorURL": f"{page_base}/customers/{quote(customer, safe='')}?lang={words.locale}",
    }


class Forwarder:
    """Posts a worker's open and resolved alerts to Alertmanager (see the module's notes)."""

    def __init__(
        self,
        store: RecordStore,
        settings: Settings,
        metrics: EngineMetrics | None = None,
        clock: Callable[[], float] = time.time,
        next_steps: Mapping[str, Mapping[str, str]] | None = None,
        holdout: Holdout | None = None,
    ) -> None:
        assert settings.alertmanager_url is not None
        self.next_steps = next_steps or {}  # the policy's own (`AlertPolicy.next_steps`)
        self.holdout = holdout  # the policy's own (`AlertPolicy.holdout`): never posted
        self.locale = settings.languages().default  # for alerts stored without a language
        self.url = settings.alertmanager_url.rstrip("/") + "/api/v2/alerts"
        self.store = store
        self.page_base = settings.page_base
        self.resend = settings.alertmanager_resend_seconds
        self.metrics = metrics
        self.clock = clock
        self.posted: dict[str, dict[str, str]] = {}  # customer -> labels it fires under
        self._pending = AlertChanges()
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    def notify(self, changes: AlertChanges) -> None:
        """Alerts a stored batch opened, grew or resolved: forwarded at once."""
        self._pending.opened.extend(changes.opened)
        self._pending.resolved.extend(changes.resolved)
        self._wake.set()

    async def run(self, partitions: Callable[[], set[int]]) -> None:
        """Forward until cancelled: what changed as it changes, everything open each period."""
        due = 0.0
        while True:
            try:
                if self.clock() >= due:
                    self._pending = AlertChanges()  # the full pass covers them
                    await self.forward_all(partitions())
                    due = self.clock() + self.resend
                if self._pending:
                    pending, self._pending = self._pending, AlertChanges()
                    await self.forward(pending.opened, pending.resolved)
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, TimeoutError, *RETRYABLE) as exc:
                log.warning("alertmanager forwarding failed (%s); trying again shortly", exc)
                due = min(due, self.clock() + 5.0)
            except Exception:
                log.exception("alertmanager forwarding failed")
                due = min(due, self.clock() + 5.0)
            if self._pending:
                continue  # changes that came in while posting: at once
            self._wake.clear()
            try:
                async with asyncio.timeout(max(0.05, due - self.clock())):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def forward_all(self, partitions: Iterable[int]) -> None:
        """Every open alert of the partitions, and the resolved ones not yet forwarded."""
        parts = set(partitions)
        log.debug("forwarding the open alerts of partitions %s", sorted(parts))
        if not parts:
            return
        opened = await self.store.open_alerts(parts)
        resolved = await self.store.resolved_alerts(parts)
        docs = [orjson.loads(raw) for alerts in opened.values() for raw in alerts.values()]
        await self.forward(docs, resolved)

    async def forward(
        self, opened: list[dict[str, Any]], resolved: list[tuple[int, bytes]]
    ) -> None:
        """Post the alerts that resolved, then the ones that fire (an alert that opened and
        resolved since the last post only resolves; a customer whose old episode resolved
        and a new one opened ends firing); forget the resolved ones in Redis once
        Alertmanager took them."""
        now = self.clock()
        posted = dict(self.posted)
        ending: list[dict[str, Any]] = []
        gone: set[str] = set()
        holdout = self.holdout
        if holdout is not None:
            opened = [d for d in opened if not holdout.holds(d["customer_id"])]
        for _, raw in resolved:
            doc = orjson.loads(raw)
            if holdout is not None and holdout.holds(doc["customer_id"]):
                continue  # never told: nothing to resolve (forgotten below all the same)
            gone.add(doc["alert_id"])
            labels = posted.pop(doc["customer_id"], None) or labels_of(doc)
            ending.append(payload(doc, labels, self.page_base, now, self.next_steps, self.locale))
        latest = {d["customer_id"]: d for d in opened if d["alert_id"] not in gone}
        firing: list[dict[str, Any]] = []
        for customer, doc in latest.items():
            labels = labels_of(doc)
            before = posted.get(customer)
            if before is not None and before != labels:
                # the old labels end
                ending.append(
                    payload(doc, before, self.page_base, now, self.next_steps, self.locale)
                )
            ends = now + 4 * self.resend
            firing.append(payload(doc, labels, self.page_base, ends, self.next_steps, self.locale))
            posted[customer] = labels
        for state, batch in (("resolved", ending), ("firing", firing)):
            if not batch:
                continue
            try:
                await self._post(batch)
            except BaseException:
                self._count(state, len(batch), "failed")
                raise
            self._count(state, len(batch), "sent")
        self.posted = posted
        if resolved:
            await self.store.forget_resolved(resolved)

    async def _post(self, batch: list[dict[str, Any]]) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT))
        async with self._session.post(
            self.url, data=orjson.dumps(batch), headers={"Content-Type": "application/json"}
        ) as response:
            if response.status >= 300:
                text = (await response.text())[:300]
                raise aiohttp.ClientResponseError(
                    response.request_info, (), status=response.status, message=text
                )

    def _count(self, state: str, n: int, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.alertmanager.labels(state, outcome).inc(n)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
