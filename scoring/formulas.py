"""The field's survey measures: NPS, CSAT and CES, from counts (plain or decayed)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final


def nps(promoters: float, passives: float, detractors: float) -> float | None:
    """Net Promoter Score: percent promoters (9-10) minus percent detractors (0-6), -100..100.

    >>> nps(5, 3, 2)
    30.0
    >>> nps(0, 0, 0) is None
    True
    """
    total = promoters + passives + detractors
    if total <= 0:
        return None
    return 100.0 * (promoters - detractors) / total


def nps_of(scores: Iterable[int]) -> float | None:
    """NPS of raw 0-10 answers.

    >>> nps_of([10, 9, 9, 10, 9, 8, 7, 8, 3, 6])
    30.0
    """
    counts = [0, 0, 0]
    for s in scores:
        counts[0 if s >= 9 else 1 if s >= 7 else 2] += 1
    return nps(*counts)


def csat(satisfied: float, total: float) -> float | None:
    """Customer satisfaction: percent of answers that are 4 or 5 on a 1-5 scale.

    >>> csat(3, 4)
    75.0
    """
    if total <= 0:
        return None
    return 100.0 * satisfied / total


def csat_of(scores: Iterable[int]) -> float | None:
    """CSAT of raw 1-5 answers.

    >>> csat_of([5, 4, 3, 1])
    50.0
    """
    values = list(scores)
    return csat(sum(1 for s in values if s >= 4), len(values))


def ces(easy: float, total: float) -> float | None:
    """Customer effort: percent of low-effort answers (5-7 on 1-7, 7 = very easy).

    >>> ces(2, 5)
    40.0
    """
    if total <= 0:
        return None
    return 100.0 * easy / total


def ces_of(scores: Iterable[int]) -> float | None:
    """CES of raw 1-7 answers.

    >>> ces_of([7, 6, 5, 4, 1])
    60.0
    """
    values = list(scores)
    return ces(sum(1 for s in values if s >= 5), len(values))


def ces_mean(scores: Iterable[int]) -> float | None:
    """Mean effort score on 1-7 (higher is easier), the other common CES summary.

    >>> ces_mean([7, 5, 3])
    5.0
    """
    values = list(scores)
    return sum(values, 0.0) / len(values) if values else None


_SCALES: Final[tuple[float, ...]] = (1.0, 10.0, 100.0, 1_000.0, 10_000.0)


def rounded(x: float, digits: int) -> float:
    """`round(x, digits)` (0-4 digits), exactly, without its decimal conversion in the usual
    case: scaled, the value is rounded to a whole number and scaled back, which gives the same
    float unless the scaled value lies within a hair of a half, where `round` decides. With
    no digits nothing is scaled, so a tie is exact and goes to the even neighbour here.

    >>> rounded(72.345678, 2), rounded(-0.125, 2), rounded(2.675, 2), rounded(0.5, 0)
    (72.35, -0.12, 2.67, 0.0)
    """
    scale = _SCALES[digits]
    y = x * scale
    if not abs(y) < 4e15:  # beyond exact integers (or not a number)
        return round(x, digits)
    whole = math.floor(y)
    rest = y - whole
    if digits == 0:  # unscaled, so exact: a tie is a tie, and goes to the even neighbour
        up = rest > 0.5 or (rest == 0.5 and whole % 2 == 1)
    elif abs(rest - 0.5) < 1e-6:  # a near tie of the scaled value: `round` decides
        return round(x, digits)
    else:
        up = rest > 0.5
    out = (whole + (1.0 if up else 0.0)) / scale
    return out if out != 0.0 else math.copysign(0.0, x)  # as round: a zero keeps x's sign
