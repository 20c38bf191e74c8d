"""Where everything lives in Redis: the one place that names keys (the worker, the CLI and the
demo all use it).

Every key of one customer shares the hash tag `{customer_id}`, and every per-partition key the
tag `{p<partition>}`, so Redis Cluster keeps what one script touches in one slot.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    """The key names under one prefix (`HEALTHSCORE_REDIS_KEY_PREFIX`).

    >>> keys = Keys("hs")
    >>> keys.record("acme"), keys.due(3), keys.segment_day("smb", 20_000)
    ('hs:{acme}:rec', 'hs:due:{p3}', 'hs:seg:smb:20000')
    """

    prefix: str

    def record(self, customer_id: str) -> str:
        """A customer's record; the hash tag keeps a customer in one cluster slot."""
        return f"{self.prefix}:{{{customer_id}}}:rec"

    def due(self, partition: int) -> str:
        """The sorted set of a partition's customers by next due time."""
        return f"{self.prefix}:due:{{p{partition}}}"

    def watermark(self, partition: int) -> str:
        """A partition's stream time (the highest event time applied)."""
        return f"{self.prefix}:wm:{{p{partition}}}"

    def open_alerts(self, partition: int) -> str:
        """The hash of a partition's customers with an alert open: customer id -> the alert
        (JSON, as on churn-alerts, as it stands now)."""
        return f"{self.prefix}:alerts:{{p{partition}}}"

    def resolved_alerts(self, partition: int) -> str:
        """The sorted set of a partition's alerts that resolved and are not yet forwarded
        (JSON with `resolved_at`, by the event time they resolved; capped)."""
        return f"{self.prefix}:resolved:{{p{partition}}}"

    def clock(self) -> str:
        """The highest event time over all partitions."""
        return f"{self.prefix}:clock"

    def board(self) -> str:
        """The score board: every customer by band, then score (`views.board_value`)."""
        return f"{self.prefix}:board"

    def owner_board(self, owner: str) -> str:
        """One owner's customers by band, then score (a manager's portfolio)."""
        return f"{self.prefix}:board:o:{owner}"

    def revenue_by_segment(self) -> str:
        """The hash of revenue at risk per segment, in cents."""
        return f"{self.prefix}:rar:segment"

    def revenue_by_owner(self) -> str:
        """The hash of revenue at risk per owner, in cents."""
        return f"{self.prefix}:rar:owner"

    def segment_counts(self) -> str:
        """The hash of customers per segment (every segment seen is a field)."""
        return f"{self.prefix}:segcount"

    def segments(self) -> str:
        """Earlier layout: the set of segment names seen (read once to migrate, then deleted)."""
        return f"{self.prefix}:segments"

    def segment_customers(self, segment: str) -> str:
        """Earlier layout: the set of a segment's customers (read once to migrate, then deleted)."""
        return f"{self.prefix}:segcust:{segment}"

    def segment_day(self, segment: str, day: int) -> str:
        """A segment's counters (NPS answers, tickets, ...) of one day of event time."""
        return f"{self.prefix}:seg:{segment}:{day}"

    def revenue_month(self, month: str) -> str:
        """The revenue movements of one month ("YYYY-MM"): `<group>|<kind>` in cents and
        `<group>|<kind>|n` in movements, per segment, cohort and for all (`scoring.revenue`)."""
        return f"{self.prefix}:revenue:{month}"

    def revenue_months(self) -> str:
        """The set of months with revenue movements."""
        return f"{self.prefix}:revenue:months"


def customer_record_key(prefix: str, customer_id: str) -> str:
    """The key of a customer's record under `prefix`."""
    return Keys(prefix).record(customer_id)
