"""An in-memory twin of the Redis adapter, for unit tests of the engine (never for integration
tests): the same stored form, compare-and-set, due index and watermarks, in dicts."""

from __future__ import annotations

from collections.abc import Iterable

from stream.store.keys import Keys
from stream.store.record import Record
from stream.store.views import AlertChanges, alert_commands, alerts_seen


class MemoryStore:
    """Records in their stored form, keyed by customer; `conflict_once` makes the next write of
    those customers lose its compare-and-set, as a second worker's write would."""

    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}
        self.due_index: dict[int, dict[str, float]] = {}
        self.marks: dict[int, float] = {}
        self.conflict_once: set[str] = set()
        self.writes = 0

    async def load_many(self, customer_ids: Iterable[str]) -> dict[str, Record]:
        return {cid: Record.parse(cid, self.stored.get(cid)) for cid in customer_ids}

    async def save_many(self, records: Iterable[Record]) -> set[str]:
        conflicts: set[str] = set()
        for r in records:
            current = self.stored.get(r.customer_id)
            version = int(current.partition(b"|")[0]) if current is not None else 0
            if r.customer_id in self.conflict_once:
                self.conflict_once.discard(r.customer_id)
                body = current.partition(b"|")[2] if current else Record(r.customer_id).dump()
                self.stored[r.customer_id] = b"%d|" % (version + 1) + body
                conflicts.add(r.customer_id)
                continue
            if version != r.version:
                conflicts.add(r.customer_id)
                continue
            if r.partition is not None:
                index = self.due_index.setdefault(r.partition, {})
                due = r.due if r.due is not None else float("inf")
                index[r.customer_id] = min(due, index.get(r.customer_id, due))
            self.stored[r.customer_id] = b"%d|" % (version + 1) + r.dump()
            self.writes += 1
            r.version = version + 1
            r.mark_loaded()
        return conflicts

    async def set_due(self, partition: int, entries: dict[str, float | None]) -> None:
        index = self.due_index.setdefault(partition, {})
        for cid, due in entries.items():
            if due is None:
                index.pop(cid, None)
            else:
                index[cid] = due

    async def record_aggregates(
        self, records: Iterable[Record], marks: dict[int, float] | None = None
    ) -> AlertChanges:
        recs = list(records)
        for r in recs:
            r.facts = []
        for partition, t in (marks or {}).items():
            self.marks[partition] = max(t, self.marks.get(partition, t))
        changes = alert_commands(Keys("memory"), recs)[1]
        alerts_seen(recs)
        return changes

    async def watermark(self, partition: int) -> float | None:
        return self.marks.get(partition)

    async def due(self, partition: int, until: float, limit: int) -> list[tuple[str, float]]:
        rows = sorted(
            ((due, cid) for cid, due in self.due_index.get(partition, {}).items() if due <= until)
        )
        return [(cid, due) for due, cid in rows[:limit]]
