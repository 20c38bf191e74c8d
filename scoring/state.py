"""A customer's state, built from events, updated in place: time is an argument.

Every field is an order-free aggregate (a min, a max, a count, a decayed sum or "latest by event
time, ties broken by value"), so the state after a set of events does not depend on the order in
which they arrived, and a redelivered event (same `event_id`) changes nothing.

The engine's fold owns the states it loaded and updates them in place (`apply_into`,
`advance_into`): no new state per event. `apply` and `advance` are the same steps on a copy, for
callers that keep the state they had (tests, tools).
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass, field
from typing import Any, Final

from scoring import events as ev
from scoring.decay import DecayedSum, decay_factor
from scoring.policy import AlertPolicy, Policy, UsagePolicy

MAX_FEATURES: Final = 32
MAX_FEATURE_UNITS: Final = 20
ACTIVE_DAYS: Final = 120  # days of activity remembered per customer, as bits (`active_days`)
_DAY: Final = 86_400.0
EMPTY_SUM: Final = DecayedSum()  # immutable, so one shared instance is a safe default
NO_YEAR: Final = -1.0  # `act_year` of activity recorded before the year sum existed (sums are >= 0)

# What `apply_into` did with an event
APPLIED: Final = 0
DUPLICATE: Final = 1  # its id is remembered: applied before
TOO_LATE: Final = 2  # it cannot be told from a duplicate any more (`too_late`): refused
CLOSED_TICKET: Final = 3  # for a ticket resolved and forgotten since: changes nothing


@dataclass(slots=True, eq=True, init=False)
class Ticket:
    """What we know of one support ticket, as order-free facts (updated in place)."""

    priority: ev.Priority | None
    opened_at: float | None
    first_agent_reply_at: float | None
    first_resolved_at: float | None
    last_resolved_at: float | None
    last_reopened_at: float | None
    reopens: int
    escalations: int

    def __init__(
        self,
        priority: ev.Priority | None = None,
        opened_at: float | None = None,
        first_agent_reply_at: float | None = None,
        first_resolved_at: float | None = None,
        last_resolved_at: float | None = None,
        last_reopened_at: float | None = None,
        reopens: int = 0,
        escalations: int = 0,
    ) -> None:
        self.priority = priority
        self.opened_at = opened_at
        self.first_agent_reply_at = first_agent_reply_at
        self.first_resolved_at = first_resolved_at
        self.last_resolved_at = last_resolved_at
        self.last_reopened_at = last_reopened_at
        self.reopens = reopens
        self.escalations = escalations

    def copy(self) -> Ticket:
        return Ticket(
            self.priority,
            self.opened_at,
            self.first_agent_reply_at,
            self.first_resolved_at,
            self.last_resolved_at,
            self.last_reopened_at,
            self.reopens,
            self.escalations,
        )

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


@dataclass(slots=True, unsafe_hash=True, init=False)  # not frozen: scoring/__init__.py
class Stamped:
    """A value with the event time it was set at; the latest wins, ties go to the larger value.
    Immutable (shared between states)."""

    value: Any
    at: float

    # Written out (`init=False`): the one `dataclass` writes is interpreted Python even in the
    # compiled build, 3-4 times the cost of this one; a stamped value is made for every seat
    # snapshot, NPS answer and account attribute applied or read back
    def __init__(self, value: Any, at: float) -> None:
        self.value = value
        self.at = at

    def __reduce__(self) -> tuple[type[Stamped], tuple[Any, float]]:
        # pickle and copy call the class with its fields (a compiled class with its own
        # `__init__` cannot be made empty first)
        return Stamped, (self.value, self.at)

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


def _attribute(attributes: dict[str, Stamped], name: str) -> str | None:
    s = attributes.get(name)
    return None if s is None else str(s.value)


# The latest manager's assessment (`events.CsmAssessment`), kept as two account attributes
# stamped with its event time: its rating and its author (the note stays in the event stream)
CSM_RATING: Final = "csm_rating"
CSM_AUTHOR: Final = "csm_author"


def assessment(s: CustomerState) -> Stamped | None:
    """The latest manager's assessment's rating (1-5) with its event time; None without one."""
    return s.attributes.get(CSM_RATING)


def assessment_author(s: CustomerState) -> str:
    """Who gave the latest manager's assessment ("" without one)."""
    author = s.attributes.get(CSM_AUTHOR)
    return "" if author is None else str(author.value)


def _newer_assessment(attrs: dict[str, Stamped], e: ev.CsmAssessment) -> bool:
    """Does the assessment replace the one kept? The latest by event time wins, ties go to the
    larger (rating, author): the largest of a total order, so any arrival order keeps the same
    pair, never the rating of one and the author of another."""
    rating = attrs.get(CSM_RATING)
    if rating is None:
        return True
    author = attrs.get(CSM_AUTHOR)
    kept = "" if author is None else str(author.value)
    return (e.occurred_at, e.rating, e.author) >= (rating.at, int(rating.value), kept)


def locale_of(s: CustomerState) -> str | None:
    """The customer's language, as its account attribute `locale` has it (None: not given)."""
    return _attribute(s.attributes, "locale")


def _mrr(attributes: dict[str, Stamped]) -> float | None:
    s = attributes.get("mrr")
    if s is None:
        return None
    # tested type by type: compiled, `isinstance(v, int | float)` builds the union at each call
    v = s.value
    if isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool)):
        return float(v)
    return None


def first_mrr_day(attributes: dict[str, Stamped]) -> list[float]:
    """The `mrr_days` the latest MRR attribute alone makes (what a record that stores none has)."""
    mrr = _mrr(attributes)
    return [] if mrr is None else [attributes["mrr"].at, mrr]


def mrr_days_implied(s: CustomerState) -> bool:
    """Are the state's MRR days the ones its latest MRR attribute alone makes
    (`first_mrr_day`)? Asked at every write of a record, without making that list."""
    days = s.mrr_days
    n = len(days)
    if n > 2:
        return False
    mrr = _mrr(s.attributes)
    if mrr is None:
        return n == 0
    return n == 2 and days[0] == s.attributes["mrr"].at and days[1] == mrr


@dataclass(slots=True, eq=True, init=False)
class CustomerState:
    """Everything the score of one customer is computed from. Mutable: `apply_into` and
    `advance_into` update it in place; `copy` makes an independent one."""

    customer_id: str
    clock: float | None  # stream time this state has been advanced to (max event time)
    first_seen: float | None
    # the earliest usage or account event: when the product's own feeds first saw the customer,
    # what its usage rates are read over (`scoring.reading.observed`); a survey answer or a
    # ticket dated earlier says nothing about its use of the product
    usage_since: float | None
    # segment, owner, mrr, renewal, locale and the latest manager's assessment (CSM_RATING,
    # CSM_AUTHOR); Stamped, shared
    attributes: dict[str, Stamped]
    # attributes' segment and owner, kept at hand (read at every score)
    segment: str | None = field(init=False, compare=False)
    owner: str | None = field(init=False, compare=False)
    mrr: float | None = field(init=False, compare=False)  # and the MRR, when a number
    # the inactivity threshold of `active_days` under an alert policy, kept until they change
    # (`scoring.reading.inactivity_threshold`; not stored)
    rhythm_mask: int = field(init=False, compare=False)
    rhythm_of: AlertPolicy | None = field(init=False, compare=False)
    rhythm: float = field(init=False, compare=False)
    # the mean gap between the active days of `active_days` in seconds (0 with fewer than two
    # gaps), kept until they change (`scoring.reading.usual_gap`; not stored)
    gap_mask: int = field(init=False, compare=False)
    gap: float = field(init=False, compare=False)
    # 2 ** (-(act_ref - first_seen + 1 day) / h) for the four activity half-lives under a usage
    # policy, kept until the activity's reference or first sighting move: with the decay since
    # act_ref they give how much of a steady rate's full sum the days seen can gather, without
    # a power per evaluation (`scoring.reading.usage_subs`; not stored)
    seen_key: float = field(init=False, compare=False)
    seen_of: UsagePolicy | None = field(init=False, compare=False)
    seen_short: float = field(init=False, compare=False)
    seen_long: float = field(init=False, compare=False)
    seen_quarter: float = field(init=False, compare=False)
    seen_year: float = field(init=False, compare=False)
    # the attributes in their stored form, kept until they change (`stream.store.codec`)
    stored_attributes: list[Any] | None = field(init=False, compare=False)
    churned_at: float | None
    renewed_at: float | None
    # usage
    last_active_at: float | None
    # four decayed sums of activity units (half-lives: the policy's short, long, quarter and
    # year), always added together, so kept at one reference time (`act_ref`, None before any
    # activity): each sum's value at t >= act_ref is its field * 2 ** (-(t - act_ref) / h)
    act_ref: float | None
    act_short: float
    act_long: float
    act_quarter: float
    act_year: float  # NO_YEAR: activity without a year sum (records from before it existed)
    # the days with product activity, as a bit mask: bit i set when the customer was active on
    # the i-th day (UTC) before the day of `last_active_at`, the last ACTIVE_DAYS days of it
    # (order-free: a set of days, cut at the latest). The customer's own rhythm is read from it
    active_days: int
    features: dict[str, float]  # feature -> last used
    seats: Stamped | None  # value: (active_users, licensed_seats)
    # support
    tickets: dict[str, Ticket]
    # sentiment (immutable sums, replaced when added to: answers are rare)
    promoters: DecayedSum
    passives: DecayedSum
    detractors: DecayedSum
    csat_satisfied: DecayedSum
    csat_total: DecayedSum
    ces_easy: DecayedSum
    ces_total: DecayedSum
    last_nps: Stamped | None
    last_detractor_at: float | None
    # revenue: the MRR each UTC day ended with, as flat [at, mrr, at, mrr, ...] in time order
    # (the day's latest statement; a tie, the larger MRR), the days within the contraction
    # window behind the latest and the one in force as it starts (`note_mrr`; order-free: a
    # function of the statements, cut at the latest). What `contraction` reads
    mrr_days: list[float]
    # idempotency: the ids of the latest events applied, as 12-byte entries (event time in whole
    # seconds, big-endian, then an 8-byte digest of the id) in one sorted byte string: sorted
    # by event time, so forgetting the oldest drops a prefix. Bounded: entries older than the
    # dedupe window behind `clock` are dropped, and at most `dedupe_max_ids` are kept (see
    # `remember`), so a customer's memory of ids stays small whatever its volume
    seen: bytearray  # changed in place: appended to, and its oldest entries cut from the front
    # the latest whole second of event time whose ids `dedupe_max_ids` made the state forget
    # (-1: none): an event at or before it that is not remembered cannot be told from a
    # duplicate, so it is refused (`too_late`), like one older than the dedupe window
    forgotten: int
    # tickets resolved and forgotten, as entries like `seen` (time of the last resolution, then
    # a digest of the ticket id), the newest MAX_CLOSED of them
    closed: bytes

    def __init__(
        self,
        customer_id: str,
        clock: float | None = None,
        first_seen: float | None = None,
        attributes: dict[str, Stamped] | None = None,
        churned_at: float | None = None,
        renewed_at: float | None = None,
        last_active_at: float | None = None,
        act_ref: float | None = None,
        act_short: float = 0.0,
        act_long: float = 0.0,
        act_quarter: float = 0.0,
        act_year: float = 0.0,
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
        mrr_days: list[float] | None = None,
        usage_since: float | None = None,
        seen: bytes | bytearray = b"",
        forgotten: int = -1,
        closed: bytes = b"",
    ) -> None:
        # written out: a compiled `__init__` (the dataclass's own would be interpreted)
        self.customer_id = customer_id
        self.clock = clock
        self.first_seen = first_seen
        self.attributes = {} if attributes is None else attributes
        self.segment = _attribute(self.attributes, "segment")
        self.owner = _attribute(self.attributes, "owner")
        self.mrr = _mrr(self.attributes)
        self.rhythm_mask, self.rhythm_of, self.rhythm = -1, None, 0.0
        self.gap_mask, self.gap = -1, 0.0
        self.seen_key, self.seen_of = -1.0, None
        self.seen_short = self.seen_long = self.seen_quarter = self.seen_year = 0.0
        self.stored_attributes = None
        self.churned_at = churned_at
        self.renewed_at = renewed_at
        self.last_active_at = last_active_at
        self.act_ref = act_ref
        self.act_short = act_short
        self.act_long = act_long
        self.act_quarter = act_quarter
        self.act_year = act_year
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
        # records from before `mrr_days` knew only the latest MRR: it starts the days
        self.mrr_days = first_mrr_day(self.attributes) if mrr_days is None else mrr_days
        self.usage_since = usage_since
        self.seen = bytearray(seen)  # its own (a copy of what it is given)
        self.forgotten = forgotten
        self.closed = closed

    def copy(self) -> CustomerState:
        """An independent copy: what `apply_into` changes in place is copied (the containers
        and the tickets); immutable values are shared."""
        return CustomerState(
            self.customer_id,
            self.clock,
            self.first_seen,
            dict(self.attributes),
            self.churned_at,
            self.renewed_at,
            self.last_active_at,
            self.act_ref,
            self.act_short,
            self.act_long,
            self.act_quarter,
            self.act_year,
            self.active_days,
            dict(self.features),
            self.seats,
            {k: t.copy() for k, t in self.tickets.items()},
            self.promoters,
            self.passives,
            self.detractors,
            self.csat_satisfied,
            self.csat_total,
            self.ces_easy,
            self.ces_total,
            self.last_nps,
            self.last_detractor_at,
            list(self.mrr_days),
            self.usage_since,
            self.seen,
            self.forgotten,
            self.closed,
        )

    @property
    def is_churned(self) -> bool:
        churned = self.churned_at
        if churned is None:
            return False
        renewed = self.renewed_at
        return renewed is None or churned > renewed

    @property
    def has_usage(self) -> bool:
        return self.act_ref is not None or self.seats is not None or bool(self.features)

    def activity(self, which: int, half_life: float, now: float) -> float:
        """The value at `now` of one activity sum (0 short, 1 long, 2 quarter, 3 year)."""
        ref = self.act_ref
        if ref is None:
            return 0.0
        v = (
            self.act_short
            if which == 0
            else self.act_long
            if which == 1
            else self.act_quarter
            if which == 2
            else self.act_year
        )
        return v * decay_factor(now - ref, half_life)

    # the activity sums as `DecayedSum`s, for readers outside the hot path
    @property
    def activity_short(self) -> DecayedSum:
        return DecayedSum(self.act_short, self.act_ref)

    @property
    def activity_long(self) -> DecayedSum:
        return DecayedSum(self.act_long, self.act_ref)

    @property
    def activity_quarter(self) -> DecayedSum:
        return DecayedSum(self.act_quarter, self.act_ref)

    @property
    def activity_year(self) -> DecayedSum:
        return DecayedSum(self.act_year, self.act_ref)


def new_state(customer_id: str) -> CustomerState:
    """The state of a customer we have heard nothing about."""
    return CustomerState(customer_id)


def event_digest(event_id: str) -> bytes:
    """An 8-byte digest of an event id: a collision among a customer's ids is ~1e-11 likely.

    >>> event_digest("e-1") == event_digest("e-1"), len(event_digest("e-1"))
    (True, 8)
    """
    return hashlib.blake2b(event_id.encode(), digest_size=8).digest()


ENTRY: Final = 12  # bytes per remembered id: 4 of event time, 8 of digest
_SECONDS: Final = struct.Struct(">I")
_MAX_SECOND: Final = 0xFFFFFFFF


def _second(t: float) -> int:
    """The whole second of event time an entry stores (clamped to 4 bytes)."""
    return min(max(math.floor(t), 0), _MAX_SECOND)


def id_entry(occurred_at: float, event_id: str) -> bytes:
    """The remembered form of an event: its whole second of event time, then its id's digest.

    Entries compare as (event time, digest), so a sorted string of them is in event-time order.

    >>> id_entry(2.5, "e-1")[:4], len(id_entry(2.5, "e-1"))
    (b'\\x00\\x00\\x00\\x02', 12)
    """
    return _SECONDS.pack(_second(occurred_at)) + event_digest(event_id)


def entry_index(entries: bytes | bytearray, entry: bytes) -> tuple[int, bool]:
    """Binary search of a 12-byte entry in a sorted string of them: (byte offset, found).

    >>> two = b"a" * 12 + b"c" * 12
    >>> entry_index(two, b"b" * 12), entry_index(two, b"c" * 12)
    ((12, False), (12, True))
    """
    n = len(entries)
    # most events come in event-time order: past the last entry, no search
    if n == 0 or entries[n - ENTRY :] < entry:
        return n, False
    lo, hi = 0, n // ENTRY
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


def _first_from(entries: bytes | bytearray, second: int) -> int:
    """The byte offset of the first entry at or after whole second `second`."""
    n = len(entries)
    if n == 0 or _SECONDS.unpack_from(entries, 0)[0] >= second:
        return 0
    lo, hi = 0, n // ENTRY
    while lo < hi:
        mid = (lo + hi) // 2
        if _SECONDS.unpack_from(entries, mid * ENTRY)[0] < second:
            lo = mid + 1
        else:
            hi = mid
    return lo * ENTRY


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
        entries = entries + entry if at == len(entries) else entries[:at] + entry + entries[at:]
    cut = _first_from(entries, _second(oldest)) if oldest > 0 else 0
    over = len(entries) - most * ENTRY
    dropped = -1
    if over > cut:
        cut = over
        dropped = _SECONDS.unpack_from(entries, cut - ENTRY)[0]
    return (entries[cut:] if cut > 0 else entries), dropped


def is_duplicate(state: CustomerState, event: ev.Event) -> bool:
    """Has this event (same id, same second of event time) been applied and is it remembered?"""
    return entry_index(state.seen, id_entry(event.occurred_at, event.event_id))[1]


def _too_late(state: CustomerState, t: float, policy: Policy) -> bool:
    if math.floor(t) <= state.forgotten:
        return True
    clock = state.clock
    return clock is not None and t < clock - policy.dedupe_window


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


MAX_CLOSED: Final = 128  # forgotten tickets remembered, so a late event can't bring one back


def is_closed(state: CustomerState, ticket_id: str) -> bool:
    """Was this ticket forgotten (resolved `forget_resolved_after` ago, or pushed out by newer
    ones beyond `max_tickets`) while remembered?"""
    closed = state.closed
    if not closed:
        return False
    digest = event_digest(ticket_id)
    at = closed.find(digest)
    while at != -1:
        if at % ENTRY == 4:  # a digest, not bytes straddling two entries
            return True
        at = closed.find(digest, at + 1)
    return False


def _forgettable(t: Ticket, forget: float) -> bool:
    """Resolved (and not reopened since) before event time `forget`."""
    resolved = t.last_resolved_at
    return resolved is not None and resolved < forget and not t.is_open


def advance_into(state: CustomerState, now: float, policy: Policy) -> None:
    """Move the state's stream time forward to `now` (never back) and forget what expired:
    ids older than the dedupe window, tickets resolved `forget_resolved_after` ago."""
    clock = state.clock
    if clock is None or now > clock:
        clock = state.clock = now
    seen = state.seen
    if seen:
        oldest = clock - policy.dedupe_window
        if _SECONDS.unpack_from(seen, 0)[0] < oldest:
            del seen[: _first_from(seen, min(math.ceil(oldest), _MAX_SECOND))]
    tickets = state.tickets
    if tickets:
        forget = clock - policy.support.forget_resolved_after
        gone = [k for k, t in tickets.items() if _forgettable(t, forget)]
        for k in gone:
            last = tickets.pop(k).last_resolved_at
            assert last is not None
            state.closed = remember(state.closed, id_entry(last, k), 0.0, MAX_CLOSED)


def advance(state: CustomerState, now: float, policy: Policy) -> CustomerState:
    """`advance_into` on a copy (the same state when nothing would change)."""
    out = state.copy()
    advance_into(out, now, policy)
    return state if out == state else out


def _ticket_of(event: ev.Event) -> str | None:
    if type(event) in ev.TICKET_TYPES:
        ticket_id: str = event.ticket_id  # type: ignore[attr-defined]
        return ticket_id
    return None


def apply_into(state: CustomerState, event: ev.Event, policy: Policy) -> int:
    """Apply one event in place; return what became of it: APPLIED, or DUPLICATE, TOO_LATE or
    CLOSED_TICKET, in which cases the state is left exactly as it was.

    A remembered id is a duplicate. An event older than the ids remembered is refused
    (`too_late`): its id can no longer be checked, and a duplicate must never count twice,
    however late it comes back (the worker dead-letters it). A support event for a ticket
    resolved and forgotten since changes nothing, so a late one never brings a closed ticket
    back."""
    if event.customer_id != state.customer_id:
        raise ValueError(f"event for {event.customer_id!r} applied to {state.customer_id!r}")
    t = event.occurred_at
    entry = id_entry(t, event.event_id)
    at, found = entry_index(state.seen, entry)
    if found:
        return DUPLICATE
    if _too_late(state, t, policy):
        return TOO_LATE
    ticket_id = _ticket_of(event)
    if ticket_id is not None:
        known = state.tickets.get(ticket_id)
        if known is None:
            if is_closed(state, ticket_id):
                return CLOSED_TICKET
        else:
            clock = t if state.clock is None else max(state.clock, t)
            if _forgettable(known, clock - policy.support.forget_resolved_after):
                return CLOSED_TICKET  # advancing to the event forgets it
    before = len(state.seen)
    advance_into(state, t, policy)
    at -= before - len(state.seen)  # the prefix advancing dropped
    _change(state, event, policy, ticket_id)
    # remember the id: where the search found its place (most often the end)
    seen = state.seen
    if at < 0:
        at = 0
    if at >= len(seen):
        seen += entry
    else:
        seen[at:at] = entry
    now = state.clock
    oldest = (now if now is not None else t) - policy.dedupe_window
    cut = _first_from(seen, _second(oldest)) if oldest > 0 else 0
    over = len(seen) - policy.dedupe_max_ids * ENTRY
    if over > cut:
        cut = over
        dropped = _SECONDS.unpack_from(seen, cut - ENTRY)[0]
        if dropped > state.forgotten:
            state.forgotten = dropped
    if cut > 0:
        del seen[:cut]  # a bytearray drops a prefix without copying what is kept
    first = state.first_seen
    if first is None or t < first:
        state.first_seen = t
    if type(event) in ev.FEED_TYPES:
        since = state.usage_since
        if since is None or t < since:
            state.usage_since = t
    return APPLIED


def apply(state: CustomerState, event: ev.Event, policy: Policy) -> CustomerState:
    """`apply_into` on a copy: the new state, or `state` itself when the event changes
    nothing (a remembered duplicate, a refused event, a forgotten ticket's)."""
    if event.customer_id != state.customer_id:
        raise ValueError(f"event for {event.customer_id!r} applied to {state.customer_id!r}")
    out = state.copy()
    return out if apply_into(out, event, policy) == APPLIED else state


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
    if day == latest:
        return mask | 1
    full = (1 << ACTIVE_DAYS) - 1
    if day > latest:
        return ((mask << min(day - latest, ACTIVE_DAYS)) | 1) & full
    if latest - day < ACTIVE_DAYS:
        return mask | (1 << (latest - day))
    return mask


GAP_CHUNK: Final = 60  # bits of `active_days` read at a time: small integers in the compiled core


def gap_summary(mask: int) -> tuple[int, int, int]:
    """The gaps in days between successive active days of `active_days`: how many, their sum
    (days from the oldest active day to the latest) and the longest. Read 60 bits at a time,
    so the compiled core walks machine integers rather than shifting a 120-bit one per day.

    >>> gap_summary(0b1001011)  # active 0, 1, 3 and 6 days before the latest: gaps 1, 2, 3
    (3, 6, 3)
    >>> gap_summary(0b100), gap_summary(0)
    ((0, 0, 0), (0, 0, 0))
    """
    count = longest = 0
    first = last = -1
    base = 0
    while mask > 0:
        chunk = mask & ((1 << GAP_CHUNK) - 1)
        mask >>= GAP_CHUNK
        day = base
        while chunk:
            if chunk & 1:
                if last < 0:
                    first = day
                else:
                    count += 1
                    longest = max(longest, day - last)
                last = day
            chunk >>= 1
            day += 1
        base += GAP_CHUNK
    return (count, last - first, longest) if count else (0, 0, 0)


def _evict_oldest(state: CustomerState, most: int) -> None:
    """Keep the newest `most` tickets by opening time (unknown opening first out, then by id),
    the others forgotten as if closed, so a late event never brings one back."""
    tickets = state.tickets
    order = sorted(
        tickets, key=lambda k: (tickets[k].opened_at is not None, tickets[k].opened_at or 0.0, k)
    )
    for k in order[: len(tickets) - most]:
        t = tickets.pop(k)
        state.closed = remember(state.closed, id_entry(t.opened_at or 0.0, k), 0.0, MAX_CLOSED)


def _add_activity(s: CustomerState, units: float, t: float, p: Policy) -> None:
    """Add `units` at `t` to the four activity sums (one reference time: the latest)."""
    u = p.usage
    ref = s.act_ref
    if ref is None:
        s.act_ref = t
        s.act_short, s.act_long, s.act_quarter, s.act_year = units, units, units, units
        return
    if s.act_year < 0:  # the year sum starts now (a record from before it existed)
        s.act_year = 0.0 if t >= ref else units * decay_factor(ref - t, u.year_half_life)
        if t < ref:
            s.act_short += units * decay_factor(ref - t, u.short_half_life)
            s.act_long += units * decay_factor(ref - t, u.long_half_life)
            s.act_quarter += units * decay_factor(ref - t, u.quarter_half_life)
            return
    if t >= ref:
        if t > ref:
            s.act_ref = t
            s.act_short *= decay_factor(t - ref, u.short_half_life)
            s.act_long *= decay_factor(t - ref, u.long_half_life)
            s.act_quarter *= decay_factor(t - ref, u.quarter_half_life)
            s.act_year *= decay_factor(t - ref, u.year_half_life)
        s.act_short += units
        s.act_long += units
        s.act_quarter += units
        s.act_year += units
    else:
        s.act_short += units * decay_factor(ref - t, u.short_half_life)
        s.act_long += units * decay_factor(ref - t, u.long_half_life)
        s.act_quarter += units * decay_factor(ref - t, u.quarter_half_life)
        s.act_year += units * decay_factor(ref - t, u.year_half_life)


def _change(s: CustomerState, e: ev.Event, p: Policy, ticket_id: str | None) -> None:
    """What the event changes, in place (its id and the clock are the caller's)."""
    t = e.occurred_at
    if type(e) in ev.USAGE_TYPES:
        units = 1.0
        if type(e) is ev.FeatureUsed:
            units = float(min(e.count, MAX_FEATURE_UNITS))
        s.active_days = mark_active_day(s.active_days, s.last_active_at, t)
        last = s.last_active_at
        if last is None or t > last:
            s.last_active_at = t
        _add_activity(s, units, t, p)
        if type(e) is ev.FeatureUsed:
            features = s.features
            used = features.get(e.feature)
            if used is None or t > used:
                features[e.feature] = t
            if len(features) > MAX_FEATURES:
                keep = sorted(features.items(), key=lambda kv: (kv[1], kv[0]))[-MAX_FEATURES:]
                s.features = dict(keep)
        return
    if ticket_id is not None:
        ticket = s.tickets.get(ticket_id)
        if ticket is None:
            ticket = s.tickets[ticket_id] = Ticket()
        _ticket_change(ticket, e)
        if len(s.tickets) > p.support.max_tickets:
            _evict_oldest(s, p.support.max_tickets)
        return
    if type(e) is ev.SeatSnapshot:
        s.seats = Stamped((e.active_users, e.licensed_seats), t).newer(s.seats)
    elif type(e) is ev.NpsAnswered:
        h = p.sentiment.half_life
        s.last_nps = Stamped(e.score, t).newer(s.last_nps)
        if e.score >= 9:
            s.promoters = s.promoters.add(1.0, at=t, half_life=h)
        elif e.score >= 7:
            s.passives = s.passives.add(1.0, at=t, half_life=h)
        else:
            s.detractors = s.detractors.add(1.0, at=t, half_life=h)
        if e.score <= p.alerts.detractor_max_score:
            s.last_detractor_at = _max(s.last_detractor_at, t)
    elif type(e) is ev.CsatAnswered:
        h = p.sentiment.half_life
        s.csat_satisfied = s.csat_satisfied.add(1.0 if e.score >= 4 else 0.0, at=t, half_life=h)
        s.csat_total = s.csat_total.add(1.0, at=t, half_life=h)
    elif type(e) is ev.CesAnswered:
        h = p.sentiment.half_life
        s.ces_easy = s.ces_easy.add(1.0 if e.score >= 5 else 0.0, at=t, half_life=h)
        s.ces_total = s.ces_total.add(1.0, at=t, half_life=h)
    elif type(e) is ev.AccountUpdated:
        attrs = s.attributes
        for name, value in (
            ("segment", e.segment),
            ("owner", e.owner),
            ("mrr", e.mrr),
            ("renewal_date", e.renewal_date),
            ("locale", e.locale),
        ):
            if value is not None:
                attrs[name] = Stamped(value, t).newer(attrs.get(name))
        mrr = e.mrr
        if mrr is not None and not isinstance(mrr, bool):
            note_mrr(s.mrr_days, t, float(mrr), p.alerts.contraction_window)
        s.segment = _attribute(attrs, "segment")
        s.owner = _attribute(attrs, "owner")
        s.mrr = _mrr(attrs)
        s.stored_attributes = None
    elif type(e) is ev.CsmAssessment:
        attrs = s.attributes
        if _newer_assessment(attrs, e):
            attrs[CSM_RATING] = Stamped(e.rating, t)
            attrs[CSM_AUTHOR] = Stamped(e.author, t)
            s.stored_attributes = None
    elif type(e) is ev.Churned:
        s.churned_at = _max(s.churned_at, t)
    elif type(e) is ev.Renewed:
        s.renewed_at = _max(s.renewed_at, t)


def note_mrr(days: list[float], t: float, mrr: float, window: float) -> None:
    """Add an MRR stated at event time `t` to `days` (`CustomerState.mrr_days`), in place: a
    day keeps its latest statement (a tie, the larger MRR); the days that cannot matter to a
    contraction judged over `window` behind the latest one are dropped: all but the last that
    ends before the window, which is in force as it starts. A function of the statements
    whatever their order, so the state stays order-free.

    >>> days: list[float] = []
    >>> for at, mrr in ((0.0, 500.0), (100 * _DAY, 300.0), (10.0, 400.0), (101 * _DAY, 300.0)):
    ...     note_mrr(days, at, mrr, 30 * _DAY)
    >>> days == [10.0, 400.0, 100 * _DAY, 300.0, 101 * _DAY, 300.0]
    True
    """
    day = t // _DAY
    n = len(days)
    i = n
    while i > 0 and days[i - 2] > t:
        i -= 2
    if i > 0 and days[i - 2] // _DAY == day:
        if days[i - 2] < t or (days[i - 2] == t and days[i - 1] < mrr):
            days[i - 2], days[i - 1] = t, mrr
    elif i < n and days[i] // _DAY == day:
        return  # a later statement of the same day stands
    else:
        days[i:i] = [t, mrr]
    start = (days[len(days) - 2] // _DAY) * _DAY - window  # the window behind the latest day
    k = 0
    while k + 2 < len(days) and days[k + 2] < start:
        k += 2
    if k:
        del days[:k]


_PRIORITY_RANK: Final = {p: i for i, p in enumerate(ev.PRIORITIES)}


def _ticket_change(k: Ticket, e: ev.Event) -> None:
    t = e.occurred_at
    if type(e) is ev.TicketOpened:
        opened = k.opened_at
        if (
            opened is None
            or t < opened
            or (
                t == opened
                and k.priority is not None
                and _PRIORITY_RANK[e.priority] > _PRIORITY_RANK[k.priority]
            )
        ):
            k.opened_at, k.priority = t, e.priority
    elif type(e) is ev.TicketReplied:
        if e.by == "agent":
            k.first_agent_reply_at = _min(k.first_agent_reply_at, t)
    elif type(e) is ev.TicketResolved:
        k.first_resolved_at = _min(k.first_resolved_at, t)
        k.last_resolved_at = _max(k.last_resolved_at, t)
    elif type(e) is ev.TicketReopened:
        k.last_reopened_at = _max(k.last_reopened_at, t)
        k.reopens += 1
    elif type(e) is ev.TicketEscalated:
        k.escalations += 1
