"""The field's survey measures: NPS, CSAT and CES, from counts (plain or decayed)."""

from __future__ import annotations

from collections.abc import Iterable


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
