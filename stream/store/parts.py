"""The parts of a customer record as they are stored, in order: what `stream.store.codec`
writes and reads back, and `stream.store.record` holds.

A leaf module: the record uses the codec, the codec (and `stream.store.older`, for the formats
before) knows only these parts, so neither imports the other's callers. Compiled with the core
(setup.py).
"""

from __future__ import annotations

from typing import NamedTuple

from scoring.alerts import AlertState
from scoring.state import CustomerState


class Published(NamedTuple):
    """The last score and band sent to the score topic."""

    score: float
    band: str


class Evaluation(NamedTuple):
    """The latest evaluation: its event time, score and band, and the score published before."""

    at: float
    score: float
    band: str
    previous: float | None
    revenue: float | None = None  # the revenue at risk (None when the MRR is unknown)


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
