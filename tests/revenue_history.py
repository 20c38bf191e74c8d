"""A small history of account events whose revenue figures are worked out by hand below: the
unit tests compute them offline (`stream.offline.business`), the integration test reads them
from a real Prometheus scraping a real worker that consumed the same history.

Four customers, January to April 2026, gross margin 0.8 (the shipped policy's):

- A (smb, first seen in January): pays 100 from Jan 5, 150 from Feb 10 (expansion 50),
  churns on Mar 15 (churn 150).
- B (smb, January): pays 200 from Jan 20, 120 from Feb 15 (contraction 80), churns on Mar 1
  (churn 120), renews on Apr 10 (reactivation 120).
- C (enterprise, first seen in February): pays 1,000 from Feb 3, 1,200 from Apr 5
  (expansion 200).
- D (first seen on Jan 10 by a session, so its cohort is January): pays 50 in smb from Feb 1
  (new), moves to mid_market on Mar 5 (moved out of smb, into mid_market: no movement for all
  customers or its cohort).
"""

from __future__ import annotations

from typing import Any

from scoring.serialize import rfc3339
from stream.offline.backtest import parse_time


def _at(day: str) -> str:
    return rfc3339(parse_time(day) + 12 * 3600)


def _doc(n: int, customer: str, type_: str, day: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"rev-{n:03d}",
        "customer_id": customer,
        "type": type_,
        "occurred_at": _at(day),
        **fields,
    }


# (topic kind, document), in event-time order (a customer's cohort is the month of the first
# event the worker has seen of it when its revenue moves)
HISTORY: list[tuple[str, dict[str, Any]]] = [
    ("account", _doc(1, "rev-a", "account_updated", "2026-01-05", segment="smb", mrr=100.0)),
    ("account", _doc(2, "rev-b", "account_updated", "2026-01-20", segment="smb", mrr=200.0)),
    ("usage", _doc(3, "rev-d", "session", "2026-01-10", user_id="u1")),
    ("account", _doc(4, "rev-d", "account_updated", "2026-02-01", segment="smb", mrr=50.0)),
    ("account", _doc(5, "rev-c", "account_updated", "2026-02-03", segment="enterprise", mrr=1e3)),
    ("account", _doc(7, "rev-a", "account_updated", "2026-02-10", mrr=150.0)),
    ("account", _doc(8, "rev-b", "account_updated", "2026-02-15", mrr=120.0)),
    ("account", _doc(9, "rev-b", "churned", "2026-03-01", reason="budget")),
    ("account", _doc(10, "rev-d", "account_updated", "2026-03-05", segment="mid_market")),
    ("account", _doc(11, "rev-a", "churned", "2026-03-15", reason="moved to a competitor")),
    ("account", _doc(12, "rev-c", "account_updated", "2026-04-05", mrr=1200.0)),
    ("account", _doc(13, "rev-b", "renewed", "2026-04-10")),
    ("usage", _doc(14, "rev-c", "session", "2026-04-20", user_id="u1")),
]

N = None  # a measure that is undefined that month (nothing at the start, or no churn)

# group -> month -> measure -> the value worked out by hand
EXPECTED: dict[str, dict[str, dict[str, float | None]]] = {
    "smb": {
        "2026-01": {"start_mrr": 0, "mrr_new": 300, "end_mrr": 300, "end_logos": 2,
                    "grr": N, "nrr": N, "arpa": 150, "ltv": N},
        "2026-02": {"start_mrr": 300, "start_logos": 2, "mrr_new": 50, "mrr_expansion": 50,
                    "mrr_contraction": 80, "end_mrr": 320, "end_logos": 3,
                    "logo_churn_rate": 0.0, "mrr_churn_rate": 0.0, "expansion_rate": 50 / 300,
                    "grr": 220 / 300, "nrr": 270 / 300, "arpa": 320 / 3, "ltv": N},
        "2026-03": {"start_mrr": 320, "start_logos": 3, "mrr_churn": 270, "mrr_moved_out": 50,
                    "end_mrr": 0, "end_logos": 0, "logo_churn_rate": 2 / 3,
                    "mrr_churn_rate": 270 / 320, "grr": 50 / 320, "nrr": 50 / 320,
                    "arpa": N, "ltv": N},
        "2026-04": {"start_mrr": 0, "mrr_reactivation": 120, "end_mrr": 120, "end_logos": 1,
                    "grr": N, "arpa": 120},
    },
    "mid_market": {
        "2026-03": {"start_mrr": 0, "mrr_moved_in": 50, "end_mrr": 50, "end_logos": 1},
        "2026-04": {"start_mrr": 50, "end_mrr": 50, "grr": 1.0, "nrr": 1.0,
                    "logo_churn_rate": 0.0, "arpa": 50, "ltv": N},
    },
    "enterprise": {
        "2026-02": {"start_mrr": 0, "mrr_new": 1000, "end_mrr": 1000, "end_logos": 1},
        "2026-03": {"start_mrr": 1000, "end_mrr": 1000, "grr": 1.0, "nrr": 1.0, "arpa": 1000},
        "2026-04": {"start_mrr": 1000, "mrr_expansion": 200, "end_mrr": 1200,
                    "expansion_rate": 0.2, "grr": 1.0, "nrr": 1.2, "arpa": 1200},
    },
    "all": {
        "2026-01": {"start_mrr": 0, "mrr_new": 300, "end_mrr": 300, "end_logos": 2},
        "2026-02": {"start_mrr": 300, "start_logos": 2, "mrr_new": 1050, "logos_new": 2,
                    "mrr_expansion": 50, "mrr_contraction": 80, "end_mrr": 1320, "end_logos": 4,
                    "grr": 220 / 300, "nrr": 270 / 300, "arpa": 330},
        "2026-03": {"start_mrr": 1320, "start_logos": 4, "mrr_churn": 270, "logos_churn": 2,
                    "mrr_moved_out": 0, "end_mrr": 1050, "end_logos": 2,
                    "logo_churn_rate": 0.5, "mrr_churn_rate": 270 / 1320,
                    "grr": 1050 / 1320, "nrr": 1050 / 1320, "arpa": 525,
                    "ltv": 525 * 0.8 / 0.5},
        "2026-04": {"start_mrr": 1050, "start_logos": 2, "mrr_reactivation": 120,
                    "mrr_expansion": 200, "end_mrr": 1370, "end_logos": 3,
                    "logo_churn_rate": 0.0, "grr": 1.0, "nrr": 1250 / 1050,
                    "arpa": 1370 / 3, "ltv": N},
    },
    "cohort 2026-01": {
        "2026-01": {"mrr_new": 300, "end_mrr": 300, "end_logos": 2},
        "2026-02": {"start_mrr": 300, "mrr_new": 50, "mrr_expansion": 50,
                    "mrr_contraction": 80, "end_mrr": 320, "end_logos": 3},
        "2026-03": {"start_mrr": 320, "mrr_churn": 270, "end_mrr": 50, "end_logos": 1,
                    "logo_churn_rate": 2 / 3, "grr": 50 / 320, "arpa": 50,
                    "ltv": 50 * 0.8 / (2 / 3)},
        "2026-04": {"start_mrr": 50, "mrr_reactivation": 120, "end_mrr": 170, "end_logos": 2,
                    "nrr": 1.0, "arpa": 85},
    },
    "cohort 2026-02": {
        "2026-02": {"mrr_new": 1000, "end_mrr": 1000},
        "2026-04": {"start_mrr": 1000, "mrr_expansion": 200, "end_mrr": 1200, "nrr": 1.2},
    },
}  # fmt: skip
