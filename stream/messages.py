"""The shapes of consumed messages on their way through the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from scoring.events import Event


class Incoming(NamedTuple):
    """One consumed message and where it came from (a tuple: one is made per message)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = None  # the Kafka record's timestamp (produce time), seconds


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why a message could not be applied, and where it came from."""

    source: Incoming
    error: str
    field: str

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers that carry the source position and the error beside the original bytes."""
        return [
            ("dlq.topic", self.source.topic.encode()),
            ("dlq.partition", str(self.source.partition).encode()),
            ("dlq.offset", str(self.source.offset).encode()),
            ("dlq.field", self.field.encode()),
            ("dlq.error", self.error.encode()),
        ]


class Decoded(NamedTuple):
    """A consumed message with its event, or with why it cannot be applied."""

    message: Incoming
    event: Event | DeadLetter
