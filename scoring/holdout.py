"""The alert holdout: which customers an experiment keeps out of delivery.

A holdout is a stable share of customers whose alerts are recorded (the customer's record and
alert memory as always) but delivered to no manager, so that churn after an alert can be
compared between customers a manager was told about and customers nobody was told about
(docs/alerts.md, "Does acting on alerts save customers?"). Who is held out is decided by a
digest of the experiment's name and the customer id: the same in every process, worker,
replay and Python version (never `hash()`, which is salted per process), independent of
everything the score reads, and a fresh draw for each experiment name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

_SCALE: Final = float(1 << 64)


def holdout_fraction(customer_id: str, experiment: str) -> float:
    """Where a customer falls in [0, 1) for an experiment: the first 8 bytes of the BLAKE2b
    digest of the experiment's name, a newline and the customer id, big-endian, over 2^64.

    >>> holdout_fraction("acme", "outreach-2026") == holdout_fraction("acme", "outreach-2026")
    True
    >>> 0.0 <= holdout_fraction("acme", "outreach-2026") < 1.0
    True
    """
    raw = (experiment + "\n" + customer_id).encode("utf-8")
    digest = hashlib.blake2b(raw, digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def held_out(customer_id: str, experiment: str, share: float) -> bool:
    """Is the customer in the experiment's held-out share (0: nobody, 1: everybody)?

    >>> held_out("acme", "outreach-2026", 0.0), held_out("acme", "outreach-2026", 1.0)
    (False, True)
    """
    return holdout_fraction(customer_id, experiment) < share


@dataclass(frozen=True)
class Holdout:
    """A policy's holdout experiment (`alerts.holdout`): its name and the share held out."""

    experiment: str
    share: float

    def holds(self, customer_id: str) -> bool:
        """Is this customer held out: its alerts recorded, not delivered?"""
        return held_out(customer_id, self.experiment, self.share)
