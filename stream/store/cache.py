"""The records a worker keeps in memory between batches, so Redis is read only on a miss.

A worker owns its partitions' customers: between two batches nobody else writes their records,
except another worker during a rebalance, which the compare-and-set of every write catches (a
record whose write lost is not put back, so it is loaded again). Bounded: past `limit`
records the least recently used go. A rebalance clears it (`clear`), and a batch that started
before the clear does not put its records back (`generation`). A record is only kept once it
is stored: the engine drops a batch's records when anything fails between its fold and its
write, since the fold changed them in place.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from stream.store.record import Record


class RecordCache:
    """Records by customer id, most recently used last."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.records: dict[str, Record] = {}
        self.generation = 0  # moves on at each `clear`

    def __len__(self) -> int:
        return len(self.records)

    def take(self, customer_ids: Iterable[str]) -> tuple[dict[str, Record], list[str]]:
        """The records held (taken out: they come back with `keep` once stored) and the ids
        to load."""
        found: dict[str, Record] = {}
        missing: list[str] = []
        records = self.records
        for cid in customer_ids:
            rec = records.pop(cid, None)
            if rec is None:
                missing.append(cid)
            else:
                found[cid] = rec
        return found, missing

    def keep(self, records: Iterable[Record], generation: int) -> None:
        """Hold stored records (the most recently used), unless a `clear` came since the batch
        they belong to began (`generation`); drop the least recently used beyond the limit."""
        if generation != self.generation or self.limit <= 0:
            return
        held = self.records
        for rec in records:
            held[rec.customer_id] = rec
        over = len(held) - self.limit
        if over > 0:
            for cid in list(itertools.islice(held, over)):
                del held[cid]

    def clear(self) -> None:
        """Forget everything (a rebalance: partitions may have moved)."""
        self.records.clear()
        self.generation += 1
