"""Plain-dict forms of states, scores and alerts: compact for storage, readable for the wire.

The storage forms (`state_to_dict`, `alerts_to_dict` and their inverses) round-trip exactly. The
wire forms (`health_record`, `alert_record`) follow the published contract in
`config/schemas/health-scores.json` and `config/schemas/churn-alerts.json`.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from scoring.alerts import Alert, AlertState, RuleState
from scoring.decay import DecayedSum
from scoring.health import HealthScore
from scoring.state import CustomerState, Stamped, Ticket

# Storage keys: short, because every byte is stored once per customer.
_SUMS = {
    "activity_short": "as",
    "activity_long": "al",
    "activity_quarter": "aq",
    "activity_year": "ay",
    "promoters": "np",
    "passives": "na",
    "detractors": "nd",
    "csat_satisfied": "cs",
    "csat_total": "ct",
    "ces_easy": "ee",
    "ces_total": "et",
}
_TIMES = {
    "clock": "c",
    "first_seen": "f",
    "churned_at": "ch",
    "renewed_at": "rn",
    "last_active_at": "la",
    "last_detractor_at": "ld",
}
_ATTRIBUTES = {"segment": "s", "owner": "o", "mrr": "m", "renewal_date": "r"}
_ATTRIBUTE_NAMES = {v: k for k, v in _ATTRIBUTES.items()}
_TICKET_FIELDS = (
    "priority",
    "opened_at",
    "first_agent_reply_at",
    "first_resolved_at",
    "last_resolved_at",
    "last_reopened_at",
    "reopens",
    "escalations",
)


def rfc3339(ts: float) -> str:
    """Format POSIX seconds as an RFC 3339 UTC timestamp.

    >>> rfc3339(1767225600.0)
    '2026-01-01T00:00:00.000Z'
    """
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _stamped(s: Stamped | None) -> list[Any] | None:
    if s is None:
        return None
    value = list(s.value) if isinstance(s.value, tuple) else s.value
    return [value, s.at]


def _unstamped(raw: list[Any] | None, as_tuple: bool = False) -> Stamped | None:
    if raw is None:
        return None
    value = tuple(raw[0]) if as_tuple else raw[0]
    return Stamped(value, raw[1])


def state_to_dict(s: CustomerState) -> dict[str, Any]:
    """Serialise a customer state to a compact dict of JSON types (empty fields left out; the
    customer id is not repeated: it is the record's key)."""
    out: dict[str, Any] = {}
    for name, key in _TIMES.items():
        value = getattr(s, name)
        if value is not None:
            out[key] = value
    for name, key in _SUMS.items():
        d: DecayedSum = getattr(s, name)
        if d.ref is not None:
            out[key] = [d.value, d.ref]
    if s.attributes:
        out["at"] = {_ATTRIBUTES.get(k, k): _stamped(v) for k, v in s.attributes.items()}
    if s.features:
        out["ft"] = s.features
    if s.seats is not None:
        out["st"] = _stamped(s.seats)
    if s.last_nps is not None:
        out["ln"] = _stamped(s.last_nps)
    if s.tickets:
        out["tk"] = {k: [getattr(t, f) for f in _TICKET_FIELDS] for k, t in s.tickets.items()}
    if s.seen:
        out["sn"] = base64.b64encode(s.seen).decode()
    if s.closed:
        out["cl"] = base64.b64encode(s.closed).decode()
    return out


def state_from_dict(customer_id: str, d: dict[str, Any]) -> CustomerState:
    """Rebuild a customer state from `state_to_dict` output."""
    kwargs: dict[str, Any] = {name: d[key] for name, key in _TIMES.items() if key in d}
    for name, key in _SUMS.items():
        if key in d:
            kwargs[name] = DecayedSum(d[key][0], d[key][1])
    if "at" in d:
        kwargs["attributes"] = {
            _ATTRIBUTE_NAMES.get(k, k): _unstamped(v) for k, v in d["at"].items()
        }
    if "ft" in d:
        kwargs["features"] = d["ft"]
    if "st" in d:
        kwargs["seats"] = _unstamped(d["st"], as_tuple=True)
    if "ln" in d:
        kwargs["last_nps"] = _unstamped(d["ln"])
    if "tk" in d:
        kwargs["tickets"] = {k: Ticket(*v) for k, v in d["tk"].items()}
    if isinstance(d.get("sn"), str):  # records written before 0.2 kept ids by day: forgotten
        kwargs["seen"] = base64.b64decode(d["sn"])
    if "cl" in d:
        kwargs["closed"] = base64.b64decode(d["cl"])
    return CustomerState(customer_id, **kwargs)


def alerts_to_dict(a: AlertState) -> list[Any]:
    """Serialise the alert policy's memory of a customer: [band, score, history, rules]."""
    return [
        a.band,
        a.score,
        a.history,
        {k: [r.active, r.since, r.last_raised_at] for k, r in a.rules.items()},
    ]


def alerts_from_dict(d: list[Any] | None) -> AlertState:
    """Rebuild the alert state; None gives the state of a customer never evaluated."""
    if not d:
        return AlertState()
    band, score, history, rules = d
    return AlertState(
        band=band,
        score=score,
        history=tuple((t, s) for t, s in history),
        rules={k: RuleState(*v) for k, v in rules.items()},
    )


def health_record(h: HealthScore, previous_score: float | None) -> dict[str, Any]:
    """The `health-scores` message (and HTTP body) of a score."""
    return {
        "customer_id": h.customer_id,
        "score": h.score,
        "band": h.band,
        "components": dict(h.components),
        "drivers": [
            {"signal": d.signal, "impact": d.impact, "detail": d.detail} for d in h.drivers
        ],
        "confidence": h.confidence,
        "as_of": rfc3339(h.as_of),
        "model": h.model,
        "previous_score": previous_score,
        "churn_probability": h.churn_probability,
    }


def alert_record(a: Alert) -> dict[str, Any]:
    """The `churn-alerts` message of an alert."""
    return {
        "alert_id": a.alert_id,
        "customer_id": a.customer_id,
        "rule": a.rule,
        "severity": a.severity,
        "score": a.score,
        "previous_score": a.previous_score,
        "band": a.band,
        "reasons": list(a.reasons),
        "owner": a.owner,
        "segment": a.segment,
        "raised_at": rfc3339(a.raised_at),
    }
