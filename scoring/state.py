"""A customer's state, built from events: apply(state, event) -> state, time as an argument.

Every field is an order-free aggregate (a min, a max, a count, a decayed sum or "latest by event
time, ties broken by value"), so the state after a set of events does not depend on the order in
which they arrived, and a redelivered event (same `event_id`) changes nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import struct
from dataclasses import dataclass, field, replace
from typing import Any

from scoring import events as ev
from scoring.decay import DecayedSum
from scoring.policy import Policy

MAX_FEATURES = 32
MAX_FEATURE_UNITS = 20
ACTIVE_DAYS = 120  # days of activity remembered per customer, as bits (`active_days`)
_DAY = 86_400.0
EMPTY_SUM = DecayedSum()  # immutable, so one shared instance is a safe default


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Ticket:
    """What we know of one support ticket, as order-free facts."""

    priority: ev.Priority | None = None
    opened_at: float | None = None
    first_agent_reply_at: float | None = None
    first_resolved_at: float | None = None
    last_resolved_at: float | None = None
    last_reopened_at: float | None = None
    reopens: int = 0
    escalations: int = 0

    @property
    def is_open(self) -> bool:
        """Open once opened, until resolved; a reopen after the last resolution opens it again."""
        if self.opened_at is None:
            return False
        if self.last_resolved_at is None:
            return True
        return self.last_reopened_at is not None and self.last_reopened_at > self.last_resolved_at

    def first_response_seconds(self) -> float | None:
        """Seconds from opening to the first agent reply, when both are known."""
        if self.opened_at is None or self.first_agent_reply_at is None:
            return None
        return max(0.0, self.first_agent_reply_at - self.opened_at)

    def resolution_seconds(self) -> float | None:
        """Seconds from opening to the first resolution, when both are known."""
        if self.opened_at is None or self.first_resolved_at is None:
            return None
        return max(0.0, self.first_resolved_at - self.opened_at)


@dataclass(slots=True, unsafe_hash=True)  # not frozen: scoring/__init__.py
class Stamped:
    """A value with the event time it was set at; the latest wins, ties go to the larger value."""

    value: Any
    at: float

    def newer(self, other: Stamped | None) -> Stamped:
        if other is None:
            return self
        if (self.at, repr(self.value)) >= (other.at, repr(other.value)):
            return self
        return other


def _min(a: float | None, b: float) -> float:
    return b if a is None else min(a, b)


def _max(a: float | None, b: float) -> float:
    return b if a is None else max(a, b)


@dataclass(slots=True, unsafe_hash=True, init=False)  # not frozen: scoring/__init__.py
class CustomerState:
    """Everything the score of one customer is computed from."""

    customer_id: str
    clock: float | None = None  # stream time this state has been advanced to (max event time)
    first_seen: float | None = None
    attributes: dict[str, Stamped] = field(default_factory=dict)  # segment, owner, mrr, renewal
    churned_at: float | None = None
    renewed_at: float | None = None
    # usage
    last_active_at: float | None = None
    activity_short: DecayedSum = EMPTY_SUM
    activity_long: DecayedSum = EMPTY_SUM
    activity_quarter: DecayedSum = EMPTY_SUM
    activity_year: DecayedSum = EMPTY_SUM
    # the days with product activity, as a bit mask: bit i set when the customer was active on
    # the i-th day (UTC) before the day of `last_active_at`, the last ACTIVE_DAYS days of it
    # (order-free: a set of days, cut at the latest). The customer's own rhythm is read from it
    active_days: int = 0
    features: dict[str, float] = field(default_factory=dict)  # feature -> last used
    seats: Stamped | None = None  # value: (active_users, licensed_seats)
    # support
    tickets: dict[str, Ticket] = field(default_factory=dict)
    # sentiment
    promoters: DecayedSum = EMPTY_SUM
    passives: DecayedSum = EMPTY_SUM
    detractors: DecayedSum = EMPTY_SUM
    csat_satisfied: DecayedSum = EMPTY_SUM
    csat_total: DecayedSum = EMPTY_SUM
    ces_easy: DecayedSum = EMPTY_SUM
    ces_total: DecayedSum = EMPTY_SUM
    last_nps: Stamped | None = None
    last_detractor_at: float | None = None
    # idempotency: the ids of the latest events applied, as 12-byte entries (event time in whole
    # seconds, big-endian, then an 8-byte digest of the id) in one sorted byte string: sorted
    # by event time, so forgetting the oldest drops a prefix. Bounded: entries older than the
    # dedupe window behind `clock` are dropped, and at most `dedupe_max_ids` are kept (see
    # `remember`), so a customer's memory of ids stays small whatever its volume
    seen: bytes = b""
    # the latest whole second of event time whose ids `dedupe_max_ids` made the state forget
    # (-1: none): an event at or before it that is not remembered cannot be told from a
    # duplicate, so it is refused (`too_late`), like one older than the dedupe window
    forgotten: int = -1
    # tickets resolved and forgotten, as entries like `seen` (time of the last resolution, then
    # a digest of the ticket id), the newest MAX_CLOSED of them
    closed: bytes = b""

    def __init__(
        self,
        customer_id: str,
        clock: float | None = None,
        first_seen: float | None = None,
        attributes: dict[str, Stamped] | None = None,
        churned_at: float | None = None,
        renewed_at: float | None = None,
        last_active_at: float | None = None,
        activity_short: DecayedSum = EMPTY_SUM,
        activity_long: DecayedSum = EMPTY_SUM,
        activity_quarter: DecayedSum = EMPTY_SUM,
        activity_year: DecayedSum = EMPTY_SUM,
        active_days: int = 0,
        features: dict[str, float] | None = None,
        seats: Stamped | None = None,
        tickets: dict[str, Ticket] | None = None,
        promoters: DecayedSum = EMPTY_SUM,
        passives: DecayedSum = EMPTY_SUM,
        detractors: DecayedSum = EMPTY_SUM,
        csat_satisfied: DecayedSum = EMPTY_SUM,
        csat_total: DecayedSum = EMPTY_SUM,
        ces_easy: DecayedSum = EMPTY_SUM,
        ces_total: DecayedSum = EMPTY_SUM,
        last_nps: Stamped | None = None,
        last_detractor_at: float | None = None,
        seen: bytes = b"",
        forgotten: int = -1,
        closed: bytes = b"",
    ) -> None:
        # written out: a compiled `__init__` (the dataclass's own would be interpreted,
        # and this class is made once per event)
        self.customer_id = customer_id
        self.clock = clock
        self.first_seen = first_seen
        self.attributes = {} if attributes is None else attributes
        self.churned_at = churned_at
        self.renewed_at = renewed_at
        self.last_active_at = last_active_at
        self.activity_short = activity_short
        self.activity_long = activity_long
        self.activity_quarter = activity_quarter
        self.activity_year = activity_year
        self.active_days = active_days
        self.features = {} if features is None else features
        self.seats = seats
        self.tickets = {} if tickets is None else tickets
        self.promoters = promoters
        self.passives = passives
        self.detractors = detractors
        self.csat_satisfied = csat_satisfied
        self.csat_total = csat_total
        self.ces_easy = ces_easy
        self.ces_total = ces_total
        self.last_nps = last_nps
        self.last_detractor_at = last_detractor_at
        self.seen = seen
        self.forgotten = forgotten
        self.closed = closed

    @property
    def segment(self) -> str | None:
        s = self.attributes.get("segment")
        return None if s is None else str(s.value)

    @property
    def owner(self) -> str | None:
        s = self.attributes.get("owner")
        return None if s is None else str(s.value)

    @property
    def is_churned(self) -> bool:
        return self.churned_at is not None and (
            self.renewed_at is None or self.churned_at > self.renewed_at
        )

    @property
    def has_usage(self) -> bool:
        return self.activity_long.ref is not None or self.seats is not None or bool(self.features)


def _copy(s: CustomerState) -> CustomerState:
    return CustomerState(
        s.customer_id,
        s.clock,
        s.first_seen,
        s.attributes,
        s.churned_at,
        s.renewed_at,
        s.last_active_at,
        s.activity_short,
        s.activity_long,
        s.activity_quarter,
        s.activity_year,
        s.active_days,
        s.features,
        s.seats,
        s.tickets,
        s.promoters,
        s.passives,
        s.detractors,
        s.csat_satisfied,
        s.csat_total,
        s.ces_easy,
        s.ces_total,
        s.last_nps,
        s.last_detractor_at,
        s.seen,
        s.forgotten,
        s.closed,
    )


def _evolve(s: CustomerState, changes: dict[str, Any]) -> CustomerState:
    """A new state: `s` with `changes` (field name -> value). `dataclasses.replace` without its
    per-call introspection: a copy field by field, then the few fields that change."""
    out = _copy(s)
    for name, value in changes.items():
        setattr(out, name, value)
    return out


def new_state(customer_id: str) -> CustomerState:
    """The state of a customer we have heard nothing about."""
    return CustomerState(customer_id)


def event_digest(event_id: str) -> bytes:
    """An 8-byte digest of an event id: a collision among a customer's ids is ~1e-11 likely.

    >>> event_digest("e-1") == event_digest("e-1"), len(event_digest("e-1"))
    (True, 8)
    """
    return hashlib.blake2b(event_id.encode(), digest_size=8).digest()


ENTRY = 12  # bytes per remembered id: 4 of event time, 8 of digest
_SECONDS = struct.Struct(">I")


def id_entry(occurred_at: float, event_id: str) -> bytes:
    """The remembered form of an event: its whole second of event time, then its id's digest.

    Entries compare as (event time, digest), so a sorted string of them is in event-time order.

    >>> id_entry(2.5, "e-1")[:4], len(id_entry(2.5, "e-1"))
    (b'\\x00\\x00\\x00\\x02', 12)
    """
    second = min(max(math.floor(occurred_at), 0), 0xFFFFFFFF)
    return _SECONDS.pack(second) + event_digest(event_id)


def entry_index(entries: bytes, entry: bytes) -> tuple[int, bool]:
    """Binary search of a 12-byte entry in a sorted string of them: (byte offset, found).

    >>> two = b"a" * 12 + b"c" * 12
    >>> entry_index(two, b"b" * 12), entry_index(two, b"c" * 12)
    ((12, False), (12, True))
    """
    lo, hi = 0, len(entries) // ENTRY
    while lo < hi:
        mid = (lo + hi) // 2
        at = entries[mid * ENTRY : mid * ENTRY + ENTRY]
        if at == entry:
            return mid * ENTRY, True
        if at < entry:
            lo = mid + 1
        else:
            hi = mid
    return lo * ENTRY, False


def remember(entries: bytes, entry: bytes, oldest: float, most: int) -> bytes:
    """The sorted entries with `entry` added, less those before event time `oldest`, less the
    oldest beyond `most`: the newest `most` ids of the window, whatever order they came in.

    >>> e = [bytes([0, 0, 0, t]) + b"d" * 8 for t in (3, 1, 2)]
    >>> kept = b""
    >>> for x in e:
    ...     kept = remember(kept, x, oldest=0.0, most=2)
    >>> [kept[i * 12 + 3] for i in range(len(kept) // 12)]
    [2, 3]
    """
    return remembered(entries, entry, oldest, most)[0]


def remembered(entries: bytes, entry: bytes, oldest: float, most: int) -> tuple[bytes, int]:
    """`remember`, and the second of the newest entry the `most` bound dropped (-1: none).

    >>> e = [bytes([0, 0, 0, t]) + b"d" * 8 for t in (1, 2, 3)]
    >>> kept, dropped = b"", -1
    >>> for x in e:
    ...     kept, d = remembered(kept, x, oldest=0.0, most=2)
    ...     dropped = max(dropped, d)
    >>> dropped
    1
    """
    at, found = entry_index(entries, entry)
    if not found:
        entries = entries[:at] + entry + entries[at:]
    cut = entry_index(entries, id_entry(oldest, "")[:4] + bytes(8))[0] if oldest > 0 else 0
    over = len(entries) - most * ENTRY
    dropped = -1
    if over > cut:
        cut = over
        dropped = _SECONDS.unpack_from(entries, cut - ENTRY)[0]
    return (entries[cut:] if cut > 0 else entries), dropped


def is_duplicate(state: CustomerState, event: ev.Event) -> bool:
    """Has this event (same id, same second of event time) been applied and is it remembered?"""
    return entry_index(state.seen, id_entry(event.occurred_at, event.event_id))[1]


def too_late(state: CustomerState, event: ev.Event, policy: Policy) -> str | None:
    """Why an event not remembered cannot be told from a duplicate, or None when it can.

    Its id would be remembered, had it been applied, unless it is more than the dedupe window
    behind the customer's latest event, or no later than the newest second whose ids the
    `dedupe_max_ids` bound dropped. Such an event is refused, not counted: the worker sends it
    to the dead-letter topic with this reason (docs/guarantees.md, section 2)."""
    t = event.occurred_at
    if math.floor(t) <= state.forgotten:
        return (
            f"no later than the ids this customer no longer remembers (the newest "
            f"{policy.dedupe_max_ids}, dedupe_max_ids): it cannot be told from a duplicate"
        )
    clock = state.clock
    if clock is not None and t < clock - policy.dedupe_window:
        days = policy.dedupe_window / _DAY
        return (
            f"more than {days:g} days (dedupe_window_days) of event time behind this "
            f"customer's latest event: it cannot be told from a duplicate"
        )
    return None


MAX_CLOSED = 128  # forgotten tickets remembered, so a late event can't bring one back


def is_closed(state: CustomerState, ticket_id: str) -> bool:
    """Was this ticket forgotten (resolved `forget_resolved_after` ago, or pushed out by newer
    ones beyond `max_tickets`) while remembered?"""
    digest, closed = event_digest(ticket_id), state.closed
    at = closed.find(digest)
    while at != -1:
        if at % ENTRY == 4:  # a digest, not bytes straddling two entries
            return True
        at = closed.find(digest, at + 1)
    return False


def _kept_ids(seen: bytes, oldest: float) -> bytes:
    """The remembered ids from event time `oldest` on (a prefix of older ones dropped)."""
    if not seen or _SECONDS.unpack_from(seen, 0)[0] >= oldest:
        return seen
    return seen[
        entry_index(seen, _SECONDS.pack(min(math.ceil(oldest), 0xFFFFFFFF)) + bytes(8))[0] :
    ]


def _advanced(state: CustomerState, now: float, policy: Policy) -> dict[str, Any]:
    """The fields `advance` changes (empty when it changes nothing)."""
    clock = now if state.clock is None else max(state.clock, now)
    seen = _kept_ids(state.seen, clock - policy.dedupe_window)
    forget = clock - policy.support.forget_resolved_after
    tickets, closed = state.tickets, state.closed
    if any(_forgettable(t, forget) for t in tickets.values()):  # rare: a new dict only then
        tickets = {}
        for k, t in state.tickets.items():
            if _forgettable(t, forget):
                assert t.last_resolved_at is not None
                closed = remember(closed, id_entry(t.last_resolved_at, k), 0.0, MAX_CLOSED)
            else:
                tickets[k] = t
    if clock == state.clock and len(seen) == len(state.seen) and tickets is state.tickets:
        return {}
    return {"clock": clock, "seen": seen, "tickets": tickets, "closed": closed}


def _forgettable(t: Ticket, forget: float) -> bool:
    """Resolved (and not reopened since) before event time `forget`."""
    return not t.is_open and t.last_resolved_at is not None and t.last_resolved_at < forget


def advance(state: CustomerState, now: float, policy: Policy) -> CustomerState:
    """Move the state's stream time forward to `now` (never back) and forget what expired."""
    changes = _advanced(state, now, policy)
    return _evolve(state, changes) if changes else state


def apply(state: CustomerState, event: ev.Event, policy: Policy) -> CustomerState:
    """Apply one event; a remembered duplicate or a refused event returns the state unchanged.

    An event older than the ids remembered is refused (`too_late`): its id can no longer be
    checked, and a duplicate must never count twice, however late it comes back (the worker
    dead-letters it). A support event for a ticket resolved and forgotten since changes
    nothing, so a late one never brings a closed ticket back."""
    if event.customer_id != state.customer_id:
        raise ValueError(f"event for {event.customer_id!r} applied to {state.customer_id!r}")
    entry = id_entry(event.occurred_at, event.event_id)
    if entry_index(state.seen, entry)[1] or too_late(state, event, policy) is not None:
        return state  # a remembered duplicate, or one too late to tell (`too_late`)
    before = state
    t = event.occurred_at
    moved = _advanced(state, t, policy)
    if moved and len(moved["tickets"]) != len(state.tickets):
        state, moved = _evolve(state, moved), {}  # the event's changes see the tickets kept
    ticket_id = getattr(event, "ticket_id", None)
    if ticket_id is not None and ticket_id not in state.tickets and is_closed(state, ticket_id):
        return before
    # Otherwise only the clock and the ids moved, which `_changes` does not read: one new
    # state holds both steps
    changes = _changes(state, event, policy)
    if "tickets" in changes and len(changes["tickets"]) > policy.support.max_tickets:
        changes["tickets"], changes["closed"] = _evict_oldest(
            changes["tickets"], state.closed, policy.support.max_tickets
        )
    kept: bytes = moved["seen"] if moved else state.seen
    clock = moved["clock"] if moved else state.clock
    oldest = (clock if clock is not None else t) - policy.dedupe_window
    changes["seen"], dropped = remembered(kept, entry, oldest, policy.dedupe_max_ids)
    if dropped > state.forgotten:
        changes["forgotten"] = dropped
    changes["first_seen"] = _min(state.first_seen, t)
    if moved:
        changes["clock"] = moved["clock"]
    return _evolve(state, changes)


def mark_active_day(mask: int, last_active_at: float | None, t: float) -> int:
    """`active_days` once day `t` is active too: shifted when `t` is a later day than the
    latest active one, the days older than ACTIVE_DAYS behind the latest forgotten.

    >>> day = 86_400.0
    >>> bin(mark_active_day(0b1, 0.0, 2 * day))  # two days later: day 0 is now bit 2
    '0b101'
    >>> bin(mark_active_day(0b101, 2 * day, 1.5 * day))  # a late event for day 1
    '0b111'
    """
    day = math.floor(t / _DAY)
    if last_active_at is None:
        return 1
    latest = math.floor(last_active_at / _DAY)
    full = (1 << ACTIVE_DAYS) - 1
    if day > latest:
        return ((mask << min(day - latest, ACTIVE_DAYS)) | 1) & full
    if latest - day < ACTIVE_DAYS:
        return mask | (1 << (latest - day))
    return mask


def active_gaps(mask: int) -> list[int]:
    """The gaps in days between successive active days of `active_days`, oldest last.

    >>> active_gaps(0b1001011)  # active 0, 1, 3 and 6 days before the latest
    [1, 2, 3]
    """
    days = [i for i in range(mask.bit_length()) if mask >> i & 1]
    return [b - a for a, b in itertools.pairwise(days)]


def _evict_oldest(
    tickets: dict[str, Ticket], closed: bytes, most: int
) -> tuple[dict[str, Ticket], bytes]:
    """The newest `most` tickets by opening time (unknown opening first out, then by id), the
    others forgotten as if closed, so a late event never brings one back."""
    order = sorted(
        tickets, key=lambda k: (tickets[k].opened_at is not None, tickets[k].opened_at or 0.0, k)
    )
    for k in order[: len(tickets) - most]:
        t = tickets[k]
        closed = remember(closed, id_entry(t.opened_at or 0.0, k), 0.0, MAX_CLOSED)
    keep = set(order[len(tickets) - most :])
    return {k: t for k, t in tickets.items() if k in keep}, closed


def _changes(s: CustomerState, e: ev.Event, p: Policy) -> dict[str, Any]:
    t = e.occurred_at
    if isinstance(e, ev.Session | ev.FeatureUsed):
        units = 1.0 if isinstance(e, ev.Session) else float(min(e.count, MAX_FEATURE_UNITS))
        out: dict[str, Any] = {
            "last_active_at": _max(s.last_active_at, t),
            "active_days": mark_active_day(s.active_days, s.last_active_at, t),
            "activity_short": s.activity_short.add(units, at=t, half_life=p.usage.short_half_life),
            "activity_long": s.activity_long.add(units, at=t, half_life=p.usage.long_half_life),
            "activity_quarter": s.activity_quarter.add(
                units, at=t, half_life=p.usage.quarter_half_life
            ),
            "activity_year": s.activity_year.add(units, at=t, half_life=p.usage.year_half_life),
        }
        if isinstance(e, ev.FeatureUsed):
            features = {**s.features, e.feature: _max(s.features.get(e.feature), t)}
            if len(features) > MAX_FEATURES:
                keep = sorted(features.items(), key=lambda kv: (kv[1], kv[0]))[-MAX_FEATURES:]
                features = dict(keep)
            out["features"] = features
        return out
    if isinstance(e, ev.SeatSnapshot):
        return {"seats": Stamped((e.active_users, e.licensed_seats), t).newer(s.seats)}
    if isinstance(
        e,
        ev.TicketOpened
        | ev.TicketReplied
        | ev.TicketResolved
        | ev.TicketReopened
        | ev.TicketEscalated,
    ):
        ticket = _ticket_after(s.tickets.get(e.ticket_id, Ticket()), e)
        return {"tickets": {**s.tickets, e.ticket_id: ticket}}
    if isinstance(e, ev.NpsAnswered):
        return _nps(s, e, p)
    if isinstance(e, ev.CsatAnswered):
        h = p.sentiment.half_life
        return {
            "csat_satisfied": s.csat_satisfied.add(1.0 if e.score >= 4 else 0.0, at=t, half_life=h),
            "csat_total": s.csat_total.add(1.0, at=t, half_life=h),
        }
    if isinstance(e, ev.CesAnswered):
        h = p.sentiment.half_life
        return {
            "ces_easy": s.ces_easy.add(1.0 if e.score >= 5 else 0.0, at=t, half_life=h),
            "ces_total": s.ces_total.add(1.0, at=t, half_life=h),
        }
    if isinstance(e, ev.AccountUpdated):
        attrs = dict(s.attributes)
        for name in ("segment", "owner", "mrr", "renewal_date"):
            value = getattr(e, name)
            if value is not None:
                attrs[name] = Stamped(value, t).newer(attrs.get(name))
        return {"attributes": attrs}
    if isinstance(e, ev.Churned):
        return {"churned_at": _max(s.churned_at, t)}
    if isinstance(e, ev.Renewed):
        return {"renewed_at": _max(s.renewed_at, t)}
    return {}


def _nps(s: CustomerState, e: ev.NpsAnswered, p: Policy) -> dict[str, Any]:
    h, t = p.sentiment.half_life, e.occurred_at
    out: dict[str, Any] = {"last_nps": Stamped(e.score, t).newer(s.last_nps)}
    if e.score >= 9:
        out["promoters"] = s.promoters.add(1.0, at=t, half_life=h)
    elif e.score >= 7:
        out["passives"] = s.passives.add(1.0, at=t, half_life=h)
    else:
        out["detractors"] = s.detractors.add(1.0, at=t, half_life=h)
    if e.score <= p.alerts.detractor_max_score:
        out["last_detractor_at"] = _max(s.last_detractor_at, t)
    return out


def _ticket_after(k: Ticket, e: ev.Event) -> Ticket:
    t = e.occurred_at
    if isinstance(e, ev.TicketOpened):
        rank = ev.PRIORITIES.index
        if (
            k.opened_at is None
            or t < k.opened_at
            or (t == k.opened_at and k.priority is not None and rank(e.priority) > rank(k.priority))
        ):
            return replace(k, opened_at=t, priority=e.priority)
        return k
    if isinstance(e, ev.TicketReplied):
        if e.by != "agent":
            return k
        return replace(k, first_agent_reply_at=_min(k.first_agent_reply_at, t))
    if isinstance(e, ev.TicketResolved):
        return replace(
            k,
            first_resolved_at=_min(k.first_resolved_at, t),
            last_resolved_at=_max(k.last_resolved_at, t),
        )
    if isinstance(e, ev.TicketReopened):
        return replace(k, last_reopened_at=_max(k.last_reopened_at, t), reopens=k.reopens + 1)
    if isinstance(e, ev.TicketEscalated):
        return replace(k, escalations=k.escalations + 1)
    return k
