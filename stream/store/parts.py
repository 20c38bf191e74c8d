"""The parts of a customer record as they are stored, in order: what `stream.store.codec`
writes and reads back, and `stream.store.record` holds.

A leaf module: the record uses the codec, the codec (and `stream.store.older`, for the formats
before) knows only these parts, so neither imports the other's callers. Compiled with the core
(setup.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring.alerts import AlertState
from scoring.state import CustomerState

# Native classes with their `__init__` written out, not named tuples: one of each is made for
# every evaluation and score published, and a named tuple's `__new__` (like a dataclass's
# `__init__`) is interpreted Python even in the compiled build, at 3-4 times the cost


@dataclass(slots=True, unsafe_hash=True, init=False)  # not frozen: scoring/__init__.py
class Published:
    """The last score and band sent to the score topic."""

    score: float
    band: str

    def __init__(self, score: float, band: str) -> None:
        self.score = score
        self.band = band

    def __reduce__(self) -> tuple[type[Published], tuple[float, str]]:
        return Published, (self.score, self.band)  # `scoring.state.Stamped`


@dataclass(slots=True, unsafe_hash=True, init=False)  # not frozen: scoring/__init__.py
class Evaluation:
    """The latest evaluation: its event time, score and band, and the score published before."""

    at: float
    score: float
    band: str
    previous: float | None
    revenue: float | None  # the revenue at risk (None when the MRR is unknown)

    def __init__(
        self,
        at: float,
        score: float,
        band: str,
        previous: float | None,
        revenue: float | None = None,
    ) -> None:
        self.at = at
        self.score = score
        self.band = band
        self.previous = previous
        self.revenue = revenue

    def __reduce__(
        self,
    ) -> tuple[type[Evaluation], tuple[float, float, str, float | None, float | None]]:
        return Evaluation, (self.at, self.score, self.band, self.previous, self.revenue)


# state, alert memory, applied offsets ("<topic code><partition>" -> offset), partition, the
# last published score, the latest evaluation, the due time, whether it is exact and the
# evaluation it was worked out from, the shadow policy's alert memory and last published score,
# the last day of the daily score history and that history (one byte a day)
Parts = tuple[
    CustomerState,
    AlertState,
    dict[str, int],
    int | None,
    Published | None,
    Evaluation | None,
    float | None,
    bool,
    float | None,
    AlertState,
    Published | None,
    int | None,
    bytes,
]
