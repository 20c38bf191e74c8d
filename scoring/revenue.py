"""Revenue movements and the retention measures made of them, per month (pure: no clock, no I/O).

Every change of a customer's paying MRR is one movement (`changes`), dated by its event time:

- **new**: a customer starts paying (its MRR goes from nothing to more than 0) for the first
  time; **reactivation**: a customer that churned before pays again (a `renewed` after a
  `churned`);
- **expansion** / **contraction**: a paying customer's MRR goes up / down and stays above 0;
- **churn**: a paying customer stops paying: a `churned` event, or its MRR set to 0;
- **moved in** / **moved out**: a paying customer changes segment; its MRR leaves one segment
  and enters the other (neither gain nor loss: the company's totals do not move).

A customer pays its latest MRR (`account_updated.mrr`, latest by event time) unless it churned
(a `churned` not followed by a `renewed`). A downgrade to a free plan (MRR 0) is churn; paying
again after it, without a `churned` between, counts as new.

The measures of one month, for one group of customers (a segment, a cohort, or all):

- start MRR / logos: paying MRR and paying customers at the start of the month (the end of
  the month before); end = start + new + reactivation + expansion - contraction - churn +
  moved in - moved out (`Month.end_mrr`; exact, in whole cents);
- logo churn rate = churned logos / logos at the start;
- MRR churn rate = churned MRR / MRR at the start (contraction apart);
- expansion rate = expansion / MRR at the start;
- gross revenue retention (GRR) = (start - contraction - churn) / start;
- net revenue retention (NRR) = (start + expansion - contraction - churn) / start;
- average revenue per account (ARPA) = end MRR / end logos;
- lifetime value (LTV) = ARPA x gross margin / logo churn rate (None without churn: a month
  in which nobody left tells no lifetime).

A ratio over a month that started with nothing is None. Movements of customers who joined
during the month count in it (as MRR movement reports do), so GRR can read below 1 for a
segment that only grew.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

NEW: Final = "new"
EXPANSION: Final = "expansion"
CONTRACTION: Final = "contraction"
CHURN: Final = "churn"
REACTIVATION: Final = "reactivation"
MOVED_IN: Final = "moved_in"
MOVED_OUT: Final = "moved_out"
KINDS: Final = (NEW, EXPANSION, CONTRACTION, CHURN, REACTIVATION, MOVED_IN, MOVED_OUT)
# the movements that change how many customers pay: +1 or -1 logo each
LOGO_STEP: Final = {NEW: 1, REACTIVATION: 1, MOVED_IN: 1, CHURN: -1, MOVED_OUT: -1}

Change = tuple[str, str, int]  # (kind, segment, amount in whole cents, > 0)


def cents(mrr: float | None, churned: bool) -> int:
    """What a customer pays a month, in whole cents: 0 when churned or without a positive MRR.

    >>> cents(1234.56, False), cents(99.0, True), cents(None, False), cents(-5.0, False)
    (123456, 0, 0, 0)
    """
    if churned or mrr is None or not mrr > 0:
        return 0
    return max(0, round(mrr * 100))


def changes(
    segment_before: str, paid_before: int, segment_after: str, paid_after: int, returning: bool
) -> list[Change]:
    """The movements that take a customer from paying `paid_before` cents in `segment_before`
    to `paid_after` in `segment_after`; `returning`: it churned before.

    >>> changes("smb", 0, "smb", 10000, False)
    [('new', 'smb', 10000)]
    >>> changes("smb", 10000, "mid", 15000, False)
    [('moved_out', 'smb', 10000), ('moved_in', 'mid', 10000), ('expansion', 'mid', 5000)]
    >>> changes("smb", 10000, "smb", 0, False), changes("smb", 0, "smb", 500, True)
    ([('churn', 'smb', 10000)], [('reactivation', 'smb', 500)])
    """
    out: list[Change] = []
    if paid_before == paid_after and (segment_before == segment_after or not paid_after):
        return out
    if paid_before == 0:
        out.append((REACTIVATION if returning else NEW, segment_after, paid_after))
        return out
    if paid_after == 0:
        out.append((CHURN, segment_before, paid_before))
        return out
    if segment_before != segment_after:
        out.append((MOVED_OUT, segment_before, paid_before))
        out.append((MOVED_IN, segment_after, paid_before))
    if paid_after > paid_before:
        out.append((EXPANSION, segment_after, paid_after - paid_before))
    elif paid_after < paid_before:
        out.append((CONTRACTION, segment_after, paid_before - paid_after))
    return out


def month_of(t: float) -> str:
    """The calendar month (UTC) of an event time, as "YYYY-MM".

    >>> month_of(1767225600.0)
    '2026-01'
    """
    d = datetime.fromtimestamp(t, UTC)
    return f"{d.year:04d}-{d.month:02d}"


def next_month(month: str) -> str:
    """The month after `month`.

    >>> next_month("2026-12"), next_month("2026-01")
    ('2027-01', '2026-02')
    """
    year, m = int(month[:4]), int(month[5:7])
    return f"{year + 1:04d}-01" if m == 12 else f"{year:04d}-{m + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included ([] when `last` is before `first`)."""
    out: list[str] = []
    m = first
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


@dataclass(slots=True)
class Totals:
    """The movements of one group in one month: cents and logos per kind."""

    cents: dict[str, int]
    logos: dict[str, int]

    @staticmethod
    def empty() -> Totals:
        return Totals(dict.fromkeys(KINDS, 0), dict.fromkeys(KINDS, 0))

    def add(self, kind: str, amount: int) -> None:
        self.cents[kind] += amount
        self.logos[kind] += 1


@dataclass(frozen=True, slots=True)
class Month:
    """One group's month: where it started, what moved, where it ended, and the measures."""

    group: str  # a segment, "cohort 2026-01", or "all"
    month: str
    start_mrr: float
    start_logos: int
    mrr: Mapping[str, float]  # per kind of movement, in currency units
    logos: Mapping[str, int]  # per kind: customers (expansion/contraction: customers that did)
    margin: float

    @property
    def end_mrr(self) -> float:
        m = self.mrr
        return round(
            self.start_mrr
            + m[NEW]
            + m[REACTIVATION]
            + m[EXPANSION]
            - m[CONTRACTION]
            - m[CHURN]
            + m[MOVED_IN]
            - m[MOVED_OUT],
            2,
        )

    @property
    def end_logos(self) -> int:
        return self.start_logos + sum(step * self.logos[kind] for kind, step in LOGO_STEP.items())

    def _of_start(self, amount: float) -> float | None:
        return amount / self.start_mrr if self.start_mrr > 0 else None

    @property
    def logo_churn_rate(self) -> float | None:
        return self.logos[CHURN] / self.start_logos if self.start_logos > 0 else None

    @property
    def mrr_churn_rate(self) -> float | None:
        return self._of_start(self.mrr[CHURN])

    @property
    def expansion_rate(self) -> float | None:
        return self._of_start(self.mrr[EXPANSION])

    @property
    def grr(self) -> float | None:
        return self._of_start(self.start_mrr - self.mrr[CONTRACTION] - self.mrr[CHURN])

    @property
    def nrr(self) -> float | None:
        m = self.mrr
        return self._of_start(self.start_mrr + m[EXPANSION] - m[CONTRACTION] - m[CHURN])

    @property
    def arpa(self) -> float | None:
        return self.end_mrr / self.end_logos if self.end_logos > 0 else None

    @property
    def ltv(self) -> float | None:
        arpa, churn = self.arpa, self.logo_churn_rate
        if arpa is None or not churn:
            return None
        return arpa * self.margin / churn

    MEASURES = (
        "start_mrr",
        "end_mrr",
        "start_logos",
        "end_logos",
        "logo_churn_rate",
        "mrr_churn_rate",
        "expansion_rate",
        "grr",
        "nrr",
        "arpa",
        "ltv",
    )

    def measures(self) -> dict[str, float | None]:
        """The month's figures by name (`MEASURES`), then the movements (`mrr_<kind>`)."""
        out: dict[str, float | None] = {name: getattr(self, name) for name in self.MEASURES}
        for kind in KINDS:
            out[f"mrr_{kind}"] = self.mrr[kind]
            out[f"logos_{kind}"] = float(self.logos[kind])
        return out

    def to_dict(self) -> dict[str, object]:
        return {"group": self.group, "month": self.month, **self.measures()}


def monthly(
    group: str, totals: Mapping[str, Totals], margin: float, last: str | None = None
) -> list[Month]:
    """A group's months in order, from its first movement to `last` (default: its last
    movement), each starting where the one before ended; months without movement included."""
    if not totals:
        return []
    first = min(totals)
    end = last if last is not None else max(totals)
    out: list[Month] = []
    start_cents, start_logos = 0, 0
    for month in months_between(first, end):
        t = totals.get(month) or Totals.empty()
        m = Month(
            group,
            month,
            start_cents / 100.0,
            start_logos,
            {k: v / 100.0 for k, v in t.cents.items()},
            dict(t.logos),
            margin,
        )
        out.append(m)
        start_cents += sum(
            (1 if k in (NEW, REACTIVATION, EXPANSION, MOVED_IN) else -1) * t.cents[k] for k in KINDS
        )
        start_logos = m.end_logos
    return out


class Ledger:
    """Movements summed per group and month: per segment, per cohort (the month a customer was
    first seen, as "cohort YYYY-MM") and for all customers. Within "all" and a cohort, moving
    between segments is no movement."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[str, Totals]] = {}

    def add(self, kind: str, segment: str, amount: int, at: float, cohort: str | None) -> None:
        """Record one movement (`changes`) at event time `at`; `cohort`: the month the
        customer was first seen."""
        month = month_of(at)
        for group in groups(kind, segment, cohort):
            self._add(group, month, kind, amount)

    def add_totals(self, group: str, month: str, totals: Totals) -> None:
        """Fold in one group-month's sums (as stored)."""
        mine = self.groups.setdefault(group, {}).setdefault(month, Totals.empty())
        for k in KINDS:
            mine.cents[k] += totals.cents[k]
            mine.logos[k] += totals.logos[k]

    def _add(self, group: str, month: str, kind: str, amount: int) -> None:
        self.groups.setdefault(group, {}).setdefault(month, Totals.empty()).add(kind, amount)

    def months(self, margin: float, last: str | None = None) -> dict[str, list[Month]]:
        """Every group's months up to `last` (default: the latest month with a movement)."""
        if last is None:
            last = max((m for t in self.groups.values() for m in t), default=None)
        return {g: monthly(g, t, margin, last) for g, t in sorted(self.groups.items())}


ALL: Final = "all"
COHORT: Final = "cohort "


def groups(kind: str, segment: str, cohort: str | None) -> list[str]:
    """The groups a movement counts in: its segment; unless it is a move between segments,
    all customers and the customer's cohort too.

    >>> groups("new", "smb", "2026-01"), groups("moved_in", "smb", "2026-01")
    (['smb', 'all', 'cohort 2026-01'], ['smb'])
    """
    if kind in (MOVED_IN, MOVED_OUT):
        return [segment]
    if cohort is None:
        return [segment, ALL]
    return [segment, ALL, cohort_group(cohort)]


def cohort_group(month: str) -> str:
    """The group name of a cohort: customers first seen in `month`."""
    return COHORT + month


def is_cohort(group: str) -> bool:
    return group.startswith(COHORT)


def summary(months: Iterable[Month], span: int = 12) -> dict[str, float | None]:
    """A group's figures over its latest `span` months (12: a year): the monthly logo churn
    (churned customers over customer-months at risk) and the lifetime value it implies with the
    latest ARPA, and GRR and NRR compounded month by month (the year's retention). Months that
    started with no paying customer are left out."""
    ms = [m for m in list(months)[-span:] if m.start_logos > 0]
    if not ms:
        return {"months": 0, "logo_churn_rate": None, "grr": None, "nrr": None, "ltv": None}
    churned = sum(m.logos[CHURN] for m in ms)
    exposed = sum(m.start_logos for m in ms)
    rate = churned / exposed if exposed else None
    grr = nrr = 1.0
    for m in ms:
        grr *= m.grr if m.grr is not None else 1.0
        nrr *= m.nrr if m.nrr is not None else 1.0
    arpa = ms[-1].arpa
    ltv = arpa * ms[-1].margin / rate if arpa is not None and rate else None
    return {"months": len(ms), "logo_churn_rate": rate, "grr": grr, "nrr": nrr, "ltv": ltv}
