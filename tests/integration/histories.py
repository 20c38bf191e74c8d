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


FEATURE_NAMES = ("dashboards", "reports", "exports", "alerts", "api")


def every_day(cid: str, days: int) -> list[Doc]:
    """A customer active every single day: sessions and a feature a day, seats well used,
    promoters and satisfied answers each month, a ticket a fortnight answered within hours."""
    out = [*onboarding(cid)]
    for d in range(days):
        out.append(doc("usage", "session", cid, d * DAY + 9 * 3600, user_id="u1"))
        out.append(doc("usage", "session", cid, d * DAY + 14 * 3600, user_id="u2"))
        feature = FEATURE_NAMES[d % len(FEATURE_NAMES)]
        out.append(doc("usage", "feature_used", cid, d * DAY + 10 * 3600, feature=feature, count=3))
        if d % 7 == 6:
            out.append(
                doc(
                    "usage",
                    "seat_snapshot",
                    cid,
                    d * DAY + 18 * 3600,
                    active_users=9,
                    licensed_seats=10,
                )
            )
        if d % 30 == 15:
            out.append(doc("survey", "nps", cid, d * DAY + 16 * 3600, score=10))
            out.append(doc("survey", "csat", cid, d * DAY + 16 * 3600 + 60, score=5))
        if d % 14 == 3:
            ticket = f"{cid}-d{d}"
            opened_at = d * DAY + 11 * 3600
            out.append(
                doc("support", "ticket_opened", cid, opened_at, ticket_id=ticket, priority="normal")
            )
            out.append(
                doc(
                    "support", "ticket_replied", cid, opened_at + 3600, ticket_id=ticket, by="agent"
                )
            )
            out.append(
                doc("support", "ticket_resolved", cid, opened_at + 6 * 3600, ticket_id=ticket)
            )
    return out


KIND_RANK = {"account": 0, "usage": 1, "support": 2, "survey": 3}


def in_event_time(docs: list[Doc]) -> list[Doc]:
    """Documents in event-time order (ties: account, usage, support, survey; then as given)."""
    return sorted(docs, key=lambda d: (d[1]["occurred_at"], KIND_RANK[d[0]]))


def topic_after_topic(docs: list[Doc]) -> list[Doc]:
    """As a first deployment loads a history from four systems: each topic's history in
    event-time order, all usage first, then support, survey and account."""
    ordered = in_event_time(docs)
    return [
        d for kind in ("usage", "support", "survey", "account") for d in ordered if d[0] == kind
    ]
