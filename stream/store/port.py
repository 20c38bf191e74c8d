"""What the engine needs of a store: the Redis adapter and the in-memory twin both give it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from stream.store.record import Record
from stream.store.views import AlertChanges


class Store(Protocol):
    """Customer records by compare-and-set, the due index, watermarks and the views."""

    async def load_many(self, customer_ids: Iterable[str]) -> dict[str, Record]: ...

    async def save_many(self, records: Iterable[Record]) -> set[str]: ...

    async def set_due(self, partition: int, entries: dict[str, float | None]) -> None: ...

    async def record_aggregates(
        self, records: Iterable[Record], marks: dict[int, float] | None = None
    ) -> AlertChanges: ...

    async def watermark(self, partition: int) -> float | None: ...

    async def due(self, partition: int, until: float, limit: int) -> list[tuple[str, float]]: ...
