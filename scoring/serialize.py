"""The wire forms of scores and alerts, as the published contract has them
(`config/schemas/health-scores.json`, `config/schemas/churn-alerts.json`).

The stored form of a customer is `stream.store.codec`'s, not this module's.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from scoring.alerts import Alert
from scoring.health import HealthScore

_DATES: dict[int, str] = {}  # "YYYY-MM-DD" of a day since the epoch, as met
_TWO = tuple(f"{n:02d}" for n in range(60))
_THREE = tuple(f"{n:03d}" for n in range(1000))


def rfc3339(ts: float) -> str:
    """Format POSIX seconds as an RFC 3339 UTC timestamp, to the millisecond (as
    `datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")` does: microseconds
    rounded half to even, then cut), the date of each day worked out once.

    >>> rfc3339(1767225600.0), rfc3339(1767225600.0015), rfc3339(-0.5)
    ('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.001Z', '1969-12-31T23:59:59.500Z')
    """
    fraction, whole = math.modf(ts)
    micro = round(fraction * 1e6)
    seconds = int(whole)
    if micro >= 1_000_000:
        micro -= 1_000_000
        seconds += 1
    elif micro < 0:
        micro += 1_000_000
        seconds -= 1
    day, second = divmod(seconds, 86_400)
    date = _DATES.get(day)
    if date is None:
        if len(_DATES) > 100_000:
            _DATES.clear()
        date = _DATES[day] = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")
    hour, second = divmod(second, 3_600)
    minute, second = divmod(second, 60)
    return (
        date
        + "T"
        + _TWO[hour]
        + ":"
        + _TWO[minute]
        + ":"
        + _TWO[second]
        + "."
        + (_THREE[micro // 1000] + "Z")
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
        "revenue_at_risk": h.revenue_at_risk,
        "revenue_at_risk_calibrated": h.revenue_at_risk_calibrated,
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
        "rules": list(a.rules or (a.rule,)),
        "revenue_at_risk": a.revenue_at_risk,
        "revenue_at_risk_calibrated": a.revenue_at_risk_calibrated,
    }
