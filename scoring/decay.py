"""Exponentially decayed sums in event time, exact whatever order the events arrive in.

A decayed sum is kept at a reference time `ref` (the latest event time added). Its value at any
time t >= ref is `value * 2 ** (-(t - ref) / half_life)`. An event of weight w at time t_e adds
`w * 2 ** (-(ref - t_e) / half_life)` when older than `ref`, or moves `ref` forward first when
newer. Either way the sum after a set of events equals `sum(w_i * 2 ** (-(max_t - t_i) / h))`,
so the state does not depend on arrival order (up to float rounding).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Final

DAY: Final = 86_400.0
HOUR: Final = 3_600.0


def decay_factor(elapsed: float, half_life: float) -> float:
    """Return the share of a weight left after `elapsed` seconds with the given half-life.

    >>> decay_factor(7 * DAY, 7 * DAY)
    0.5
    >>> decay_factor(0.0, DAY)
    1.0
    """
    if elapsed <= 0:
        return 1.0
    return math.pow(2.0, -elapsed / half_life)


@functools.lru_cache(maxsize=256)
def _per_day(half_life: float) -> float:
    """What a steady rate of one a day sums to: the integral of 2^(-t/h) over [0, inf) is
    h / ln 2; a daily series sums to 1 / (1 - 2^(-1/h)) (cached: policies have few half-lives)."""
    return 1.0 / (1.0 - decay_factor(DAY, half_life))


@dataclass(slots=True, unsafe_hash=True, init=False)  # not frozen: scoring/__init__.py
class DecayedSum:
    """A sum of weights that halves every `half_life` seconds of event time.

    >>> s = DecayedSum().add(1.0, at=0.0, half_life=DAY).add(1.0, at=DAY, half_life=DAY)
    >>> s.value_at(DAY, DAY)
    1.5
    >>> s.value_at(2 * DAY, DAY)
    0.75
    """

    value: float = 0.0
    ref: float | None = None

    def __init__(self, value: float = 0.0, ref: float | None = None) -> None:
        # written out: a compiled `__init__` (the dataclass's own would be interpreted)
        self.value = value
        self.ref = ref

    def add(self, weight: float, *, at: float, half_life: float) -> DecayedSum:
        """Add `weight` that happened at event time `at`."""
        if self.ref is None:
            return DecayedSum(weight, at)
        if at >= self.ref:
            return DecayedSum(self.value * decay_factor(at - self.ref, half_life) + weight, at)
        return DecayedSum(self.value + weight * decay_factor(self.ref - at, half_life), self.ref)

    def value_at(self, now: float, half_life: float) -> float:
        """Value of the sum at time `now`; events after `now` are not in the past yet, so
        asking before `ref` gives the value at `ref`."""
        if self.ref is None:
            return 0.0
        return self.value * decay_factor(now - self.ref, half_life)

    def rate_at(self, now: float, half_life: float) -> float:
        """Average rate per day this sum stands for: for a steady rate r, this returns r.

        >>> s = DecayedSum()
        >>> for day in range(200):
        ...     s = s.add(3.0, at=day * DAY, half_life=7 * DAY)
        >>> round(s.rate_at(199 * DAY, 7 * DAY), 1)
        3.0
        """
        if self.ref is None:
            return 0.0
        return self.value * decay_factor(now - self.ref, half_life) / _per_day(half_life)
