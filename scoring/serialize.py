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

_SUMS = (
    "activity_short",
    "activity_long",
    "promoters",
    "passives",
    "detractors",
    "csat_satisfied",
    "csat_total",
    "ces_easy",
    "ces_total",
)
_TIMES = ("clock", "first_seen", "churned_at", "renewed_at", "last_active_at", "last_detractor_at")
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


def _digests(packed: str) -> frozenset[bytes]:
    raw = base64.b64decode(packed)
    return frozenset(raw[i : i + 8] for i in range(0, len(raw), 8))


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
    """Serialise a customer state to a compact dict of JSON types (None fields left out)."""
    out: dict[str, Any] = {"id": s.customer_id}
    for name in _TIMES:
        value = getattr(s, name)
        if value is not None:
            out[name] = value
    for name in _SUMS:
        d: DecayedSum = getattr(s, name)
        if d.ref is not None:
            out[name] = [d.value, d.ref]
    if s.attributes:
        out["attributes"] = {k: _stamped(v) for k, v in s.attributes.items()}
    if s.features:
        out["features"] = s.features
    if s.seats is not None:
        out["seats"] = _stamped(s.seats)
    if s.last_nps is not None:
        out["last_nps"] = _stamped(s.last_nps)
    if s.tickets:
        out["tickets"] = {k: [getattr(t, f) for f in _TICKET_FIELDS] for k, t in s.tickets.items()}
    if s.seen:
        out["seen"] = {
            str(day): base64.b64encode(b"".join(sorted(ids))).decode()
            for day, ids in s.seen.items()
        }
    return out


def state_from_dict(d: dict[str, Any]) -> CustomerState:
    """Rebuild a customer state from `state_to_dict` output."""
    kwargs: dict[str, Any] = {name: d[name] for name in _TIMES if name in d}
    for name in _SUMS:
        if name in d:
            kwargs[name] = DecayedSum(d[name][0], d[name][1])
    if "attributes" in d:
        kwargs["attributes"] = {k: _unstamped(v) for k, v in d["attributes"].items()}
    if "features" in d:
        kwargs["features"] = dict(d["features"])
    if "seats" in d:
        kwargs["seats"] = _unstamped(d["seats"], as_tuple=True)
    if "last_nps" in d:
        kwargs["last_nps"] = _unstamped(d["last_nps"])
    if "tickets" in d:
        kwargs["tickets"] = {
            k: Ticket(**dict(zip(_TICKET_FIELDS, v, strict=True))) for k, v in d["tickets"].items()
        }
    if "seen" in d:
        kwargs["seen"] = {int(day): _digests(packed) for day, packed in d["seen"].items()}
    return CustomerState(d["id"], **kwargs)


def alerts_to_dict(a: AlertState) -> dict[str, Any]:
    """Serialise the alert policy's memory of a customer."""
    return {
        "band": a.band,
        "score": a.score,
        "history": [list(x) for x in a.history],
        "rules": {k: [r.active, r.since, r.last_raised_at] for k, r in a.rules.items()},
    }


def alerts_from_dict(d: dict[str, Any] | None) -> AlertState:
    """Rebuild the alert state; None gives the state of a customer never evaluated."""
    if not d:
        return AlertState()
    return AlertState(
        band=d.get("band"),
        score=d.get("score"),
        history=tuple((float(t), float(s)) for t, s in d.get("history", [])),
        rules={k: RuleState(*v) for k, v in d.get("rules", {}).items()},
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
