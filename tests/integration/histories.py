"""Scripted customer histories as contract JSON, with known behaviour."""

from __future__ import annotations

import itertools
from typing import Any

from scoring.serialize import rfc3339

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86_400.0
_seq = itertools.count()

Doc = tuple[str, dict[str, Any]]


def doc(kind: str, type_: str, cid: str, t: float, **fields: Any) -> Doc:
    return kind, {
        "event_id": f"h-{cid}-{next(_seq)}",
        "customer_id": cid,
        "type": type_,
        "occurred_at": rfc3339(T0 + t),
        **fields,
    }


def onboarding(cid: str, segment: str = "smb") -> list[Doc]:
    return [
        doc(
            "account",
            "account_updated",
            cid,
            0,
            segment=segment,
            owner=f"csm-of-{cid}",
            mrr=500.0,
            renewal_date="2026-12-31",
        )
    ]


def active_days(cid: str, first: int, last: int) -> list[Doc]:
    out = []
    for d in range(first, last + 1):
        for i in range(4):
            out.append(doc("usage", "session", cid, d * DAY + i * 3600, user_id=f"u{i}"))
        for j, f in enumerate(("dashboards", "reports", "exports", "alerts", "api")):
            out.append(doc("usage", "feature_used", cid, d * DAY + 600 + j, feature=f, count=2))
    out.append(
        doc("usage", "seat_snapshot", cid, last * DAY + 900, active_users=9, licensed_seats=10)
    )
    return out


def healthy(cid: str, days: int = 30) -> list[Doc]:
    """A customer who uses the product every day and is happy."""
    return [
        *onboarding(cid),
        *active_days(cid, 0, days),
        doc("survey", "nps", cid, 5 * DAY, score=10),
        doc("survey", "csat", cid, 6 * DAY, score=5),
    ]


def declining(cid: str, days: int = 30) -> list[Doc]:
    """Active for two weeks, then usage stops, urgent tickets go unanswered, surveys turn bad."""
    out = [*onboarding(cid), *active_days(cid, 0, 14), doc("survey", "nps", cid, 3 * DAY, score=9)]
    for i, d in enumerate((16, 18, 20)):
        out.append(
            doc(
                "support", "ticket_opened", cid, d * DAY, ticket_id=f"{cid}-T{i}", priority="urgent"
            )
        )
    out.append(doc("support", "ticket_escalated", cid, 21 * DAY, ticket_id=f"{cid}-T0"))
    out.append(doc("survey", "nps", cid, 22 * DAY, score=2))
    out.append(doc("survey", "csat", cid, 23 * DAY, score=1))
    out.append(doc("usage", "session", cid, days * DAY, user_id="u0"))  # one last login
    return out
