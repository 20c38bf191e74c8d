"""The cross-customer views: the score board, segment membership and per-segment daily counters.

They are indexes beside the records, updated after the records are stored and only with what
changed since a record was loaded; the business gauges read them at scrape time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from scoring import revenue
from scoring.policy import BANDS
from scoring.segments import REVENUE, Fact
from scoring.serialize import alert_record, rfc3339
from stream.i18n import Languages
from stream.metrics import BusinessSnapshot, SegmentSnapshot
from stream.store.client import Client
from stream.store.keys import Keys
from stream.store.record import Record

SCORE_EDGES = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0)

# The score board orders customers by band, most at risk first, then by score:
# value = rank of the band * BOARD_STRIDE + score, so one sorted set answers both.
BOARD_RANK: Final = {"critical": 0, "at_risk": 1, "healthy": 2}
BOARD_STRIDE: Final = 1000.0


def board_value(band: str, score: float) -> float:
    """A customer's place on the score board."""
    return BOARD_RANK[band] * BOARD_STRIDE + score


def board_score(value: float) -> float:
    """The score back from a place on the board (scores carry two decimals)."""
    return round(value % BOARD_STRIDE, 2)


def as_text(value: bytes | str) -> str:
    """Redis replies are bytes unless the client decodes them; give text either way."""
    return value.decode() if isinstance(value, bytes) else value


def fact_fields(fact: Fact) -> list[tuple[str, float]]:
    """Counter increments of one segment fact (see scoring.segments for the definitions)."""
    v = fact.value
    if fact.kind == "nps":
        return [("nps_p" if v >= 9 else "nps_pa" if v >= 7 else "nps_d", 1.0)]
    if fact.kind == "csat":
        return [("csat_n", 1.0), ("csat_sat", 1.0 if v >= 4 else 0.0)]
    if fact.kind == "ces":
        return [("ces_n", 1.0), ("ces_easy", 1.0 if v >= 5 else 0.0)]
    if fact.kind == "first_response":
        return [("frt_sum", v), ("frt_n", 1.0)]
    if fact.kind == "resolution":
        return [("res_sum", v), ("res_n", 1.0)]
    return [(fact.kind, 1.0)]  # ticket_opened, reopen, churned


def segment_measures(t: dict[str, float], customers: int) -> SegmentSnapshot:
    """A segment's measures from its summed counters."""

    def ratio(a: str, b: str, scale: float = 1.0) -> float | None:
        return scale * t.get(a, 0.0) / t[b] if t.get(b) else None

    answers = t.get("nps_p", 0.0) + t.get("nps_pa", 0.0) + t.get("nps_d", 0.0)
    return SegmentSnapshot(
        nps=100.0 * (t.get("nps_p", 0.0) - t.get("nps_d", 0.0)) / answers if answers else None,
        csat=ratio("csat_sat", "csat_n", 100.0),
        ces=ratio("ces_easy", "ces_n", 100.0),
        first_response_seconds=ratio("frt_sum", "frt_n"),
        resolution_seconds=ratio("res_sum", "res_n"),
        reopen_rate=ratio("reopen", "ticket_opened"),
        churn_rate=t.get("churned", 0.0) / customers if customers else None,
        customers=customers,
    )


Command = tuple[Any, ...]


class Tally:
    """A batch's index and view commands, merged as they are made, without a tuple per
    increment or member: a hash field's increments are summed (a sum of zero sends nothing), a
    sorted set's additions joined into one variadic ZADD (its additions that may only lower a
    member's score into one ZADD LT) and its removals into one ZREM, a set's additions into
    one SADD.

    The views' commands need no order among themselves: increments of one field commute, and a
    batch's records are distinct customers, so what a sorted set gains and loses in one batch
    are distinct members.

    `tests/unit/test_views.py` holds it to the effect of the same commands sent one by one.
    """

    def __init__(self) -> None:
        self.ints: dict[str, dict[str, int]] = {}
        self.floats: dict[str, dict[str, float]] = {}
        self.added: dict[str, list[Any]] = {}  # sorted set -> score, member, score, member, ...
        self.lowered: dict[str, list[Any]] = {}  # the same, added with LT
        self.removed: dict[str, list[str]] = {}
        self.members: dict[str, list[str]] = {}

    def incr(self, key: str, name: str, amount: int) -> None:
        fields = self.ints.get(key)
        if fields is None:
            fields = self.ints[key] = {}
        fields[name] = fields.get(name, 0) + amount

    def incr_float(self, key: str, name: str, amount: float) -> None:
        fields = self.floats.get(key)
        if fields is None:
            fields = self.floats[key] = {}
        fields[name] = fields.get(name, 0.0) + amount

    def zadd(self, key: str, score: float, member: str, lower_only: bool = False) -> None:
        """Add `member` at `score`; with `lower_only`, only lower a score it already has."""
        by = self.lowered if lower_only else self.added
        pairs = by.get(key)
        if pairs is None:
            pairs = by[key] = []
        pairs.append(score)
        pairs.append(member)

    def zrem(self, key: str, member: str) -> None:
        members = self.removed.get(key)
        if members is None:
            members = self.removed[key] = []
        members.append(member)

    def sadd(self, key: str, member: str) -> None:
        members = self.members.get(key)
        if members is None:
            members = self.members[key] = []
        members.append(member)

    def commands(self) -> list[Command]:
        out: list[Command] = []
        for key, ints in self.ints.items():
            for name, amount in ints.items():
                if amount:
                    out.append(("HINCRBY", key, name, amount))
        for key, floats in self.floats.items():
            for name, total in floats.items():
                if total:
                    out.append(("HINCRBYFLOAT", key, name, total))
        for key, pairs in self.added.items():
            out.append(("ZADD", key, *pairs))
        for key, pairs in self.lowered.items():
            out.append(("ZADD", key, "LT", *pairs))
        for key, members in self.removed.items():
            out.append(("ZREM", key, *members))
        for key, members in self.members.items():
            out.append(("SADD", key, *members))
        return out


def board_into(tally: Tally, keys: Keys, r: Record) -> None:
    """Move a customer on the score board, and on its owner's, when its score, band or owner
    changed since loaded."""
    score, band = r.score(), r.band()
    if score is None or band is None:
        return
    owner, was = (r.state.owner if r.state else None), r.loaded.owner
    if score == r.loaded.score and band == r.loaded.band and owner == was:
        return
    value = board_value(band, score)
    tally.zadd(keys.board(), value, r.customer_id)
    if owner is not None:
        tally.zadd(keys.owner_board(owner), value, r.customer_id)
    if was is not None and was != owner:
        tally.zrem(keys.owner_board(was), r.customer_id)


def segments_into(tally: Tally, keys: Keys, records: Iterable[Record]) -> None:
    """Segment membership changes (customers per segment: a count, not a set of ids, which
    would cost every customer ~60 bytes more of Redis), the day counters of the records' new
    facts and their revenue at risk; marks the records as seen by the views."""
    counts = keys.segment_counts()
    by_segment, by_owner = keys.revenue_by_segment(), keys.revenue_by_owner()
    for r in records:
        segment = r.segment()
        old = r.loaded.segment
        if segment != old:
            if old is not None:
                tally.incr(counts, old, -1)
            tally.incr(counts, segment, 1)
        for fact in r.facts:
            if fact.kind.startswith(REVENUE):
                revenue_movement_into(tally, keys, r, fact, segment)
                continue
            key = keys.segment_day(segment, math.floor(fact.at / 86_400))
            for name, amount in fact_fields(fact):
                tally.incr_float(key, name, amount)
        r.facts = []
        r.loaded.segment = segment
        revenue_into(tally, by_segment, by_owner, r)


def revenue_movement_into(tally: Tally, keys: Keys, r: Record, fact: Fact, segment: str) -> None:
    """Count one revenue movement in its month, per segment, cohort and for all."""
    kind = fact.kind[len(REVENUE) :]
    month = revenue.month_of(fact.at)
    first = r.state.first_seen if r.state is not None else None
    cohort = revenue.month_of(first) if first is not None else None
    key = keys.revenue_month(month)
    tally.sadd(keys.revenue_months(), month)
    for group in revenue.groups(kind, fact.segment or segment, cohort):
        tally.incr(key, f"{group}|{kind}", int(fact.value))
        tally.incr(key, f"{group}|{kind}|n", 1)


def revenue_totals(hashes: dict[str, dict[Any, Any]]) -> revenue.Ledger:
    """The ledger back from the monthly hashes (month -> the hash's fields and values)."""
    ledger = revenue.Ledger()
    for month, fields in hashes.items():
        per: dict[str, revenue.Totals] = {}
        for name, value in fields.items():
            text = as_text(name)
            count = text.endswith("|n")
            group, _, kind = (text[:-2] if count else text).rpartition("|")
            if kind not in revenue.KINDS or not group:
                continue
            t = per.setdefault(group, revenue.Totals.empty())
            (t.logos if count else t.cents)[kind] += int(value)
        for group, t in per.items():
            ledger.add_totals(group, month, t)
    return ledger


def revenue_into(tally: Tally, by_segment: str, by_owner: str, r: Record) -> None:
    """Move a customer's revenue at risk in the sums per segment (the hash `by_segment`) and
    per owner (`by_owner`) when it, its segment or its owner changed since loaded (whole cents,
    so the sums stay exact)."""
    now, was = r.revenue(), r.loaded.revenue
    if now == was:
        return
    if was is not None and was.cents:
        tally.incr(by_segment, was.segment, -was.cents)
        if was.owner is not None:
            tally.incr(by_owner, was.owner, -was.cents)
    if now is not None and now.cents:
        tally.incr(by_segment, now.segment, now.cents)
        if now.owner is not None:
            tally.incr(by_owner, now.owner, now.cents)
    r.loaded.revenue = now


MAX_RESOLVED: Final = 1000  # resolved alerts kept per partition for the forwarder (oldest dropped)


@dataclass
class AlertChanges:
    """What a write changed in the open-alert views: for the Alertmanager forwarder."""

    opened: list[dict[str, Any]] = field(default_factory=list)  # opened or grown, as they stand
    resolved: list[tuple[int, bytes]] = field(default_factory=list)  # (partition, stored JSON)

    def __bool__(self) -> bool:
        return bool(self.opened or self.resolved)


def alert_commands(
    keys: Keys, records: Iterable[Record], languages: Languages | None = None
) -> tuple[list[Command], AlertChanges]:
    """Keep the open-alert views in step with the records: an alert opened or grown is set, one
    that resolved is removed and queued as resolved (with the event time it resolved at). Each
    is worded in the language its readers read (`stream.i18n.Languages`)."""
    languages = languages if languages is not None else Languages()
    out: list[Command] = []
    changes = AlertChanges()
    for r in records:
        now, was = r.alerts.open, r.loaded.alert
        if now == was or r.partition is None:
            continue
        words = languages.for_state(r.state)
        locale = words.locale
        if now is not None:
            doc = alert_record(now, words, locale)
            out.append(("HSET", keys.open_alerts(r.partition), r.customer_id, orjson.dumps(doc)))
            changes.opened.append(doc)
        else:
            assert was is not None
            at = r.evaluated.at if r.evaluated else was.raised_at
            raw = orjson.dumps({**alert_record(was, words, locale), "resolved_at": rfc3339(at)})
            out.append(("HDEL", keys.open_alerts(r.partition), r.customer_id))
            key = keys.resolved_alerts(r.partition)
            out.append(("ZADD", key, at, raw))
            out.append(("ZREMRANGEBYRANK", key, 0, -MAX_RESOLVED - 1))
            changes.resolved.append((r.partition, raw))
    return out, changes


def alerts_seen(records: Iterable[Record]) -> None:
    """Mark the records' open alerts as written to the views (after the write succeeded: the
    alert commands are idempotent, so a write that failed sends them again)."""
    for r in records:
        if r.loaded.alert != r.alerts.open:
            r.loaded.alert = r.alerts.open


REVENUE_MONTHS: Final = 13  # months of revenue figures exported: the clock's and the 12 before


async def business_snapshot(
    client: Client, keys: Keys, window_days: int = 30, margin: float = 0.8
) -> BusinessSnapshot:
    """Read customers per band, the score distribution, segment measures and the revenue
    figures of the latest months."""
    snap = BusinessSnapshot()
    board = keys.board()
    async with client.pipeline(transaction=False) as pipe:
        for band in BANDS:
            low = board_value(band, 0.0)
            pipe.zcount(board, low, low + 100.0)
            for le in SCORE_EDGES:
                pipe.zcount(board, low, low + le)
        pipe.hgetall(keys.revenue_by_segment())
        pipe.hgetall(keys.revenue_by_owner())
        pipe.hgetall(keys.segment_counts())
        pipe.get(keys.clock())
        replies = await pipe.execute()
    per = 1 + len(SCORE_EDGES)
    blocks = [replies[i * per : (i + 1) * per] for i in range(len(BANDS))]
    snap.bands = {band: int(block[0]) for band, block in zip(BANDS, blocks, strict=True)}
    snap.score_buckets = [
        (le, sum(int(block[1 + j]) for block in blocks)) for j, le in enumerate(SCORE_EDGES)
    ]
    snap.revenue_by_segment, snap.revenue_by_owner = (
        {as_text(k): int(v) / 100.0 for k, v in reply.items() if int(v)} for reply in replies[-4:-2]
    )
    customers = {as_text(k): int(v) for k, v in replies[-2].items()}
    segments = sorted(customers)
    clock = replies[-1]
    await _revenue(client, keys, snap, margin, clock)
    if clock is None or not segments:
        return snap
    today = math.floor(float(clock) / 86_400)
    days = range(today - window_days + 1, today + 1)
    async with client.pipeline(transaction=False) as pipe:
        for seg in segments:
            for day in days:
                pipe.hgetall(keys.segment_day(seg, day))
        replies = await pipe.execute()
    per = len(days)
    for i, seg in enumerate(segments):
        totals: dict[str, float] = {}
        for h in replies[i * per : (i + 1) * per]:
            for k, v in h.items():
                totals[as_text(k)] = totals.get(as_text(k), 0.0) + float(v)
        snap.segments[seg] = segment_measures(totals, customers[seg])
    return snap


async def revenue_ledger(client: Client, keys: Keys) -> revenue.Ledger:
    """Every month's revenue movements, as stored."""
    months = sorted(as_text(m) for m in await client.smembers(keys.revenue_months()))
    if not months:
        return revenue.Ledger()
    async with client.pipeline(transaction=False) as pipe:
        for month in months:
            pipe.hgetall(keys.revenue_month(month))
        replies = await pipe.execute()
    return revenue_totals(dict(zip(months, replies, strict=True)))


async def _revenue(
    client: Client, keys: Keys, snap: BusinessSnapshot, margin: float, clock: Any
) -> None:
    """The revenue figures of the months up to the stream's `clock` (event time, as read):
    segments, cohorts, all (`scoring.revenue`), the latest `REVENUE_MONTHS` of them."""
    ledger = await revenue_ledger(client, keys)
    if not ledger.groups:
        return
    latest = max(m for t in ledger.groups.values() for m in t)
    last = revenue.month_of(float(clock)) if clock is not None else latest
    last = max(last, latest)
    for group, months in ledger.months(margin, last).items():
        snap.revenue[group] = months[-REVENUE_MONTHS:]


async def migrate_segment_sets(client: Client, keys: Keys) -> int:
    """Count the customers of each segment set of the earlier layout (a set of ids per
    segment) into the segment counts, then delete the sets; the number of segments migrated.
    Safe to run by several workers at once: a count is only set where none exists (`HSETNX`),
    and the sets are no longer written, so every worker counts the same."""
    names = sorted(as_text(x) for x in await client.smembers(keys.segments()))
    for name in names:
        members = await client.scard(keys.segment_customers(name))
        await client.hsetnx(keys.segment_counts(), name, members)
    for name in names:
        await client.delete(keys.segment_customers(name))
    if names:
        await client.delete(keys.segments())
    return len(names)
