"""Typed input events: what happened to a customer, and when (event time, POSIX seconds).

Immutable structs (msgspec): built once per consumed message by the decoder, so they cost
little to make (a tenth of a frozen dataclass), hold no reference cycles (`gc=False`: the
cyclic collector never walks them) and compare and hash by value.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec

Priority = Literal["low", "normal", "high", "urgent"]
Replier = Literal["agent", "customer"]
TopicKind = Literal["usage", "support", "survey", "account"]

PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
REPLIERS: tuple[Replier, ...] = ("agent", "customer")


class Event(msgspec.Struct, frozen=True, gc=False):
    """Fields every event carries: its idempotency key, its customer and its event time."""

    TYPE: ClassVar[str] = ""
    KIND: ClassVar[TopicKind]

    event_id: str
    customer_id: str
    occurred_at: float


# --- usage -----------------------------------------------------------------------------------


class Session(Event, frozen=True, gc=False):
    """A user of the customer started a session in the product."""

    TYPE: ClassVar[str] = "session"
    KIND: ClassVar[TopicKind] = "usage"
    user_id: str


class FeatureUsed(Event, frozen=True, gc=False):
    """A feature was used `count` times."""

    TYPE: ClassVar[str] = "feature_used"
    KIND: ClassVar[TopicKind] = "usage"
    feature: str
    count: int


class SeatSnapshot(Event, frozen=True, gc=False):
    """How many of the licensed seats were active at this moment."""

    TYPE: ClassVar[str] = "seat_snapshot"
    KIND: ClassVar[TopicKind] = "usage"
    active_users: int
    licensed_seats: int


# --- support ---------------------------------------------------------------------------------


class TicketOpened(Event, frozen=True, gc=False):
    """A support ticket was opened."""

    TYPE: ClassVar[str] = "ticket_opened"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str
    priority: Priority


class TicketReplied(Event, frozen=True, gc=False):
    """Someone replied on a ticket; the first agent reply sets the first-response time."""

    TYPE: ClassVar[str] = "ticket_replied"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str
    by: Replier


class TicketResolved(Event, frozen=True, gc=False):
    """A ticket was resolved."""

    TYPE: ClassVar[str] = "ticket_resolved"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str


class TicketReopened(Event, frozen=True, gc=False):
    """A resolved ticket was opened again."""

    TYPE: ClassVar[str] = "ticket_reopened"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str


class TicketEscalated(Event, frozen=True, gc=False):
    """A ticket was escalated."""

    TYPE: ClassVar[str] = "ticket_escalated"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str


# --- survey ----------------------------------------------------------------------------------


class NpsAnswered(Event, frozen=True, gc=False):
    """A Net Promoter Score answer, 0-10."""

    TYPE: ClassVar[str] = "nps"
    KIND: ClassVar[TopicKind] = "survey"
    score: int
    comment: str | None = None


class CsatAnswered(Event, frozen=True, gc=False):
    """A customer satisfaction answer, 1-5."""

    TYPE: ClassVar[str] = "csat"
    KIND: ClassVar[TopicKind] = "survey"
    score: int
    comment: str | None = None


class CesAnswered(Event, frozen=True, gc=False):
    """A customer effort answer, 1-7 (7 = very easy)."""

    TYPE: ClassVar[str] = "ces"
    KIND: ClassVar[TopicKind] = "survey"
    score: int
    comment: str | None = None


# --- account ---------------------------------------------------------------------------------


class AccountUpdated(Event, frozen=True, gc=False):
    """Account attributes changed; absent fields keep their previous value."""

    TYPE: ClassVar[str] = "account_updated"
    KIND: ClassVar[TopicKind] = "account"
    segment: str | None = None
    owner: str | None = None
    mrr: float | None = None
    renewal_date: str | None = None
    locale: str | None = None  # the language the customer's people read ("ru", "lv-LV", "zh")


class Churned(Event, frozen=True, gc=False):
    """The customer churned (an outcome, used to judge the score)."""

    TYPE: ClassVar[str] = "churned"
    KIND: ClassVar[TopicKind] = "account"
    reason: str | None = None


class Renewed(Event, frozen=True, gc=False):
    """The customer renewed (an outcome, used to judge the score)."""

    TYPE: ClassVar[str] = "renewed"
    KIND: ClassVar[TopicKind] = "account"


class CsmAssessment(Event, frozen=True, gc=False):
    """The customer success manager's own read of the account: a rating 1-5, author, note."""

    # 1 = about to leave, 3 = neither way, 5 = thriving. The latest by event time counts, as a
    # sentiment measure that fades with its age (docs/scoring.md); the note is not kept

    TYPE: ClassVar[str] = "csm_assessment"
    KIND: ClassVar[TopicKind] = "account"
    rating: int
    author: str
    note: str | None = None


EVENT_TYPES: tuple[type[Event], ...] = (
    Session,
    FeatureUsed,
    SeatSnapshot,
    TicketOpened,
    TicketReplied,
    TicketResolved,
    TicketReopened,
    TicketEscalated,
    NpsAnswered,
    CsatAnswered,
    CesAnswered,
    AccountUpdated,
    Churned,
    Renewed,
    CsmAssessment,
)
EVENT_TYPE_BY_NAME: dict[str, type[Event]] = {cls.TYPE: cls for cls in EVENT_TYPES}
# Kinds of event tested for on every event, as sets of exact types: `type(e) in USAGE_TYPES`
# is one hash lookup, where `isinstance` against a struct class goes through its metaclass's
# `__instancecheck__`, about 0.1 us for every class that does not match. The event classes are
# leaves (none is subclassed), so the two tests agree.
USAGE_TYPES: frozenset[type[Event]] = frozenset((Session, FeatureUsed))
TICKET_TYPES: frozenset[type[Event]] = frozenset(
    (TicketOpened, TicketReplied, TicketResolved, TicketReopened, TicketEscalated)
)
# what changes the account's revenue or place in the book (`scoring.segments`' revenue facts)
ACCOUNT_MOVE_TYPES: frozenset[type[Event]] = frozenset((AccountUpdated, Churned, Renewed))
# the events of the product's own feeds (usage, and the account's place in the book): what a
# state's `usage_since` dates from
FEED_TYPES: frozenset[type[Event]] = frozenset((Session, FeatureUsed, SeatSnapshot, AccountUpdated))

# Events at the same instant are taken in this order of their kinds: the account's attributes
# (segment, owner) first, so an alert raised at that instant already names its owner.
KIND_RANK: dict[TopicKind, int] = {"account": 0, "usage": 1, "support": 2, "survey": 3}


def event_order(event: Event) -> tuple[float, int]:
    """The key that orders events in event time, ties broken by kind (`KIND_RANK`)."""
    return event.occurred_at, KIND_RANK[event.KIND]
