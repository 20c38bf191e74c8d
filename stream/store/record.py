"""What the engine keeps of one customer between batches, and the named shapes inside it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from scoring.alerts import Alert, AlertState
from scoring.health import score
from scoring.policy import Policy
from scoring.segments import Fact
from scoring.serialize import health_record
from scoring.state import CustomerState, new_state
from scoring.timeline import Standing
from stream.i18n import Words
from stream.i18n import words as english
from stream.store.codec import decode_payload, encode_record
from stream.store.parts import Evaluation, Parts, Published

__all__ = ["Evaluation", "Published", "Record", "Revenue", "ViewsSeen"]

UNKNOWN_SEGMENT: Final = "unknown"
TREND_DAYS: Final = 90  # daily score points kept per customer
NO_POINT: Final = 255  # a day without an evaluation


# What became of one consumed message, for the metrics (not stored): the contract's name of its
# input topic, its event type, the outcome (applied | duplicate | redelivered | dead_lettered),
# the Kafka record's timestamp (produce time) and the event time. A plain tuple: one is made
# per event, and a named one costs a class call each
Outcome = tuple[str, str, str, float | None, float]


# Revenue and ViewsSeen are classes of this compiled module with their own `__init__`, not
# named tuples or dataclasses: one of each is made or changed per customer per batch, and a
# named tuple's construction and `_replace`, like a dataclass's generated `__init__` and
# `__eq__`, are calls into Python (docs/benchmarks.md, "The plumbing around the fold").


class Revenue:
    """A customer's revenue at risk as the sums per segment and per owner count it (cents).
    Not changed once made."""

    def __init__(self, segment: str, owner: str | None, cents: int) -> None:
        self.segment = segment
        self.owner = owner
        self.cents = cents

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Revenue)
            and self.cents == other.cents
            and self.segment == other.segment
            and self.owner == other.owner
        )

    def __repr__(self) -> str:
        return f"Revenue({self.segment!r}, {self.owner!r}, {self.cents!r})"


class ViewsSeen:
    """What the cross-customer views last saw of a customer, so only changes are sent; each
    view sets its part once it has taken a record's change."""

    def __init__(
        self,
        segment: str | None = None,
        band: str | None = None,
        score: float | None = None,
        alert: Alert | None = None,  # the open alert
        owner: str | None = None,
        revenue: Revenue | None = None,  # the revenue at risk the sums per segment and owner hold
    ) -> None:
        self.segment = segment
        self.band = band
        self.score = score
        self.alert = alert
        self.owner = owner
        self.revenue = revenue

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ViewsSeen) and self._fields() == other._fields()

    def _fields(self) -> tuple[object, ...]:
        return (self.segment, self.band, self.score, self.alert, self.owner, self.revenue)

    def __repr__(self) -> str:
        return "ViewsSeen" + repr(self._fields())


@dataclass(slots=True, eq=True, init=False)
class Record:
    """Everything stored for one customer.

    Stored compactly (`stream.store.codec`): the state, the alert memory, applied offsets, the
    last published score and the latest evaluation. The health record with its drivers is not
    stored: it is a pure function of the state and the time and band of the latest evaluation,
    so `health_record` computes it again when it is read.
    """

    customer_id: str
    version: int
    state: CustomerState | None
    alerts: AlertState
    offsets: dict[str, int]  # "<topic code><partition>" -> offset
    partition: int | None
    published: Published | None
    evaluated: Evaluation | None
    due: float | None
    # False: `due` is a bound before which nothing can be due, the exact time to be worked out
    # from the evaluation at `due_from` (scoring.timeline.Standing)
    due_exact: bool
    due_from: float | None
    # the shadow policy's alert memory and last published score (HEALTHSCORE_SHADOW_...)
    shadow_memory: AlertState
    shadow_published: Published | None
    # the score's daily history: one byte per day (0-100, NO_POINT: none) ending on `trend_day`
    # (days since the epoch, event time), the day's last evaluation
    trend: bytes
    trend_day: int | None
    facts: list[Fact]  # for segment aggregates; not stored
    outcomes: list[Outcome]  # of this attempt; not stored
    loaded: ViewsSeen
    loaded_due: float | None  # the due time stored with the record as loaded

    def __init__(
        self,
        customer_id: str,
        version: int = 0,
        state: CustomerState | None = None,
        alerts: AlertState | None = None,
        offsets: dict[str, int] | None = None,
        partition: int | None = None,
        published: Published | None = None,
        evaluated: Evaluation | None = None,
        due: float | None = None,
        due_exact: bool = True,
        due_from: float | None = None,
        shadow_memory: AlertState | None = None,
        shadow_published: Published | None = None,
        trend: bytes = b"",
        trend_day: int | None = None,
        facts: list[Fact] | None = None,
        outcomes: list[Outcome] | None = None,
        loaded: ViewsSeen | None = None,
        loaded_due: float | None = None,
    ) -> None:
        # written out, as `scoring.state.CustomerState`'s is: the dataclass's own `__init__`
        # would run interpreted, and a record is made for every customer loaded
        self.customer_id = customer_id
        self.version = version
        self.state = state
        self.alerts = AlertState() if alerts is None else alerts
        self.offsets = {} if offsets is None else offsets
        self.partition = partition
        self.published = published
        self.evaluated = evaluated
        self.due = due
        self.due_exact = due_exact
        self.due_from = due_from
        self.shadow_memory = AlertState() if shadow_memory is None else shadow_memory
        self.shadow_published = shadow_published
        self.trend = trend
        self.trend_day = trend_day
        self.facts = [] if facts is None else facts
        self.outcomes = [] if outcomes is None else outcomes
        self.loaded = ViewsSeen() if loaded is None else loaded
        self.loaded_due = loaded_due

    def segment(self) -> str:
        return (self.state.segment if self.state else None) or UNKNOWN_SEGMENT

    def band(self) -> str | None:
        return None if self.evaluated is None else self.evaluated.band

    def score(self) -> float | None:
        return None if self.evaluated is None else self.evaluated.score

    def revenue(self) -> Revenue | None:
        """The revenue at risk of the latest evaluation, where the sums count it."""
        if self.evaluated is None or self.evaluated.revenue is None:
            return None
        owner = self.state.owner if self.state else None
        return Revenue(self.segment(), owner, round(self.evaluated.revenue * 100))

    def note_trend(self, at: float, score: float) -> None:
        """Record an evaluation in the daily history (the day's latest wins; an evaluation
        behind the history's last day changes nothing)."""
        day, point = math.floor(at / 86_400), bytes([max(0, min(100, round(score)))])
        end = self.trend_day
        if end is None or not self.trend:
            self.trend, self.trend_day = point, day
        elif day == end:
            self.trend = self.trend[:-1] + point
        elif day > end:
            gap = bytes([NO_POINT]) * min(day - end - 1, TREND_DAYS)
            self.trend, self.trend_day = (self.trend + gap + point)[-TREND_DAYS:], day

    def history(self) -> list[tuple[int, int | None]]:
        """(day, score or None) for each day of the history, oldest first."""
        if self.trend_day is None:
            return []
        first = self.trend_day - len(self.trend) + 1
        return [(first + i, None if b == NO_POINT else b) for i, b in enumerate(self.trend)]

    def current_state(self) -> CustomerState:
        return self.state if self.state is not None else new_state(self.customer_id)

    def standing(self) -> Standing:
        """What the scoring fold keeps of this customer."""
        return Standing(self.current_state(), self.alerts, self.due, self.due_exact, self.due_from)

    def settle(self, standing: Standing) -> None:
        """Take the fold's new standing."""
        self.state, self.alerts = standing.state, standing.memory
        self.due, self.due_exact, self.due_from = (
            standing.due,
            standing.exact,
            standing.evaluated_at,
        )

    def mark_stored(self) -> None:
        """Its compare-and-set write went through: one version on, and the due time and the
        score board's part (band, score, owner) as now stored (the other views set theirs as
        they take the change)."""
        self.version += 1
        self.loaded_due = self.due
        seen = self.loaded
        seen.band, seen.score = self.band(), self.score()
        seen.owner = self.state.owner if self.state else None

    def mark_loaded(self) -> None:
        """Remember what is stored now, so the next write sends only what changed."""
        owner = self.state.owner if self.state else None
        self.loaded = ViewsSeen(
            self.segment(), self.band(), self.score(), self.alerts.open, owner, self.revenue()
        )
        self.loaded_due = self.due

    def health_record(self, policy: Policy, words: Words | None = None) -> dict[str, Any] | None:
        """The health record of the latest evaluation (the HTTP body), or None before one; its
        words by `words` (`stream.i18n`; None: English).

        Scoring is pure, so scoring the stored state at the evaluation's time, with its band as
        the previous band (hysteresis keeps a band for the value it was given), gives the
        record again; under a changed scoring policy it gives the new model's view."""
        if self.evaluated is None or self.state is None:
            return None
        health = score(self.state, policy, self.evaluated.at, self.evaluated.band)
        if health is None:
            return None
        w = words if words is not None else english()
        return health_record(health, self.evaluated.previous, None, w, w.locale)

    def parts(self) -> Parts:
        """What is stored of this record (`stream.store.parts`)."""
        return (
            self.current_state(),
            self.alerts,
            self.offsets,
            self.partition,
            self.published,
            self.evaluated,
            self.due,
            self.due_exact,
            self.due_from,
            self.shadow_memory,
            self.shadow_published,
            self.trend_day,
            self.trend,
        )

    def dump(self) -> bytes:
        """The stored form (without the version)."""
        return encode_record(self.parts())

    @classmethod
    def parse(cls, customer_id: str, stored: bytes | str | None) -> Record:
        """A record from its stored `<version>|<record>` form (None: a customer not seen yet)."""
        record = cls(customer_id)
        if stored is None:
            return record
        data = stored.encode() if isinstance(stored, str) else stored
        bar = data.index(b"|")
        (
            record.state,
            record.alerts,
            record.offsets,
            record.partition,
            record.published,
            record.evaluated,
            record.due,
            record.due_exact,
            record.due_from,
            record.shadow_memory,
            record.shadow_published,
            record.trend_day,
            record.trend,
        ) = decode_payload(customer_id, data[bar + 1 :])
        record.version = int(data[:bar])
        record.mark_loaded()
        return record
