"""Typed input events: what happened to a customer, and when (event time, POSIX seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

Priority = Literal["low", "normal", "high", "urgent"]
Replier = Literal["agent", "customer"]
TopicKind = Literal["usage", "support", "survey", "account"]

PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
REPLIERS: tuple[Replier, ...] = ("agent", "customer")


@dataclass(frozen=True, slots=True)
class Event:
    """Fields every event carries: its idempotency key, its customer and its event time."""

    TYPE: ClassVar[str] = ""
    KIND: ClassVar[TopicKind]

    event_id: str
    customer_id: str
    occurred_at: float


# --- usage -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session(Event):
    """A user of the customer started a session in the product."""

    TYPE: ClassVar[str] = "session"
    KIND: ClassVar[TopicKind] = "usage"
    user_id: str


@dataclass(frozen=True, slots=True)
class FeatureUsed(Event):
    """A feature was used `count` times."""

    TYPE: ClassVar[str] = "feature_used"
    KIND: ClassVar[TopicKind] = "usage"
    feature: str
    count: int


@dataclass(frozen=True, slots=True)
class SeatSnapshot(Event):
    """How many of the licensed seats were active at this moment."""

    TYPE: ClassVar[str] = "seat_snapshot"
    KIND: ClassVar[TopicKind] = "usage"
    active_users: int
    licensed_seats: int


# --- support ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketOpened(Event):
    """A support ticket was opened."""

    TYPE: ClassVar[str] = "ticket_opened"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str
    priority: Priority


@dataclass(frozen=True, slots=True)
class TicketReplied(Event):
    """Someone replied on a ticket; the first agent reply sets the first-response time."""

    TYPE: ClassVar[str] = "ticket_replied"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str
    by: Replier


@dataclass(frozen=True, slots=True)
class TicketResolved(Event):
    """A ticket was resolved."""

    TYPE: ClassVar[str] = "ticket_resolved"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str


@dataclass(frozen=True, slots=True)
class TicketReopened(Event):
    """A resolved ticket was opened again."""

    TYPE: ClassVar[str] = "ticket_reopened"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str


@dataclass(frozen=True, slots=True)
class TicketEscalated(Event):
    """A ticket was escalated."""

    TYPE: ClassVar[str] = "ticket_escalated"
    KIND: ClassVar[TopicKind] = "support"
    ticket_id: str


# --- survey ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NpsAnswered(Event):
    """A Net Promoter Score answer, 0-10."""

    TYPE: ClassVar[str] = "nps"
    KIND: ClassVar[TopicKind] = "survey"
    score: int
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class CsatAnswered(Event):
    """A customer satisfaction answer, 1-5."""

    TYPE: ClassVar[str] = "csat"
    KIND: ClassVar[TopicKind] = "survey"
    score: int
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class CesAnswered(Event):
    """A customer effort answer, 1-7 (7 = very easy)."""

    TYPE: ClassVar[str] = "ces"
    KIND: ClassVar[TopicKind] = "survey"
    score: int
    comment: str | None = None


# --- account ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountUpdated(Event):
    """Account attributes changed; absent fields keep their previous value."""

    TYPE: ClassVar[str] = "account_updated"
    KIND: ClassVar[TopicKind] = "account"
    segment: str | None = None
    owner: str | None = None
    mrr: float | None = None
    renewal_date: str | None = None


@dataclass(frozen=True, slots=True)
class Churned(Event):
    """The customer churned (an outcome, used to judge the score)."""

    TYPE: ClassVar[str] = "churned"
    KIND: ClassVar[TopicKind] = "account"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Renewed(Event):
    """The customer renewed (an outcome, used to judge the score)."""

    TYPE: ClassVar[str] = "renewed"
    KIND: ClassVar[TopicKind] = "account"


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
)
EVENT_TYPE_BY_NAME: dict[str, type[Event]] = {cls.TYPE: cls for cls in EVENT_TYPES}
# kinds of event tested for on every event, as tuples: `isinstance(e, A | B)` builds its union
# each time it runs
USAGE_EVENTS: tuple[type[Event], ...] = (Session, FeatureUsed)
TICKET_EVENTS: tuple[type[Event], ...] = (
    TicketOpened,
    TicketReplied,
    TicketResolved,
    TicketReopened,
    TicketEscalated,
)

# Events at the same instant are taken in this order of their kinds: the account's attributes
# (segment, owner) first, so an alert raised at that instant already names its owner.
KIND_RANK: dict[TopicKind, int] = {"account": 0, "usage": 1, "support": 2, "survey": 3}


def event_order(event: Event) -> tuple[float, int]:
    """The key that orders events in event time, ties broken by kind (`KIND_RANK`)."""
    return event.occurred_at, KIND_RANK[event.KIND]
