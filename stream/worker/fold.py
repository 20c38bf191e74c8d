"""The engine's fold: customer records and a batch of decoded messages in, outputs out. Pure.

No I/O, no clock: `stream.worker.engine` (the runner) loads the records, calls `fold` or `fold_due`,
publishes the outputs, then saves the records. The fold mutates the records it is given (they
were just loaded for this attempt) and returns what to publish; a lost compare-and-set makes the
runner load and fold those customers again.

Per customer and batch, in the batch's order: a message at or below the offset the record has
applied from its topic-partition is a redelivery and is skipped; an event the state can no
longer tell from a duplicate (`scoring.state.too_late`) is a dead letter with its reason; due
moments that an event's time passes are evaluated first, as the timer would have; the event is
applied. Then the customer is evaluated once, at its latest event time
(`scoring.timeline.evaluate_at`): the score, the alert rules, the next due time; and also
before an event more than a day
(`scoring.schedule.LOOKAHEAD`) of event time after the customer's last one, so a backfill's
gaps get their due moments (inactivity, SLAs) at their time. With `every_event` it is
evaluated after each event instead, which is what a replay of the history
(`scoring.timeline.replay`) does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from scoring import alerts
from scoring.alerts import Alert
from scoring.events import USAGE_TYPES, TopicKind
from scoring.health import HealthScore, score
from scoring.policy import Policy
from scoring.schedule import LOOKAHEAD
from scoring.segments import new_facts, snapshot
from scoring.serialize import alert_record, health_record
from scoring.state import APPLIED, TOO_LATE, CustomerState, apply_into, too_late
from scoring.timeline import Standing, catch_up_into, evaluate_into
from stream.codec import encode
from stream.contract import INPUT_TOPICS
from stream.i18n import Languages, Words
from stream.messages import DeadLetter, Decoded
from stream.store.record import Evaluation, Published, Record

# Applied offsets are stored per customer under "<code><partition>", by the topic's contract.
_CODES: Final[dict[TopicKind, str]] = {"usage": "u", "support": "s", "survey": "v", "account": "a"}
TOPIC_CODES: Final = {INPUT_TOPICS[kind]: code for kind, code in _CODES.items()}


class Keyed(NamedTuple):
    """One output message: its key (the customer id) and its encoded value."""

    key: str
    value: bytes


def _keyed(key: str, value: bytes) -> Keyed:
    """`Keyed(key, value)` without the named tuple's Python-level `__new__` (a score
    published is one)."""
    return tuple.__new__(Keyed, (key, value))


@dataclass(frozen=True, slots=True)
class FoldOptions:
    """The settings the fold reads (`stream.settings.Settings` gives them)."""

    refresh: float  # HEALTHSCORE_REEVALUATE_EVERY_SECONDS
    publish_min_step: float = 1.0  # HEALTHSCORE_PUBLISH_MIN_STEP
    # consumed topic name -> the contract's topic name
    topics: Mapping[str, str] = field(default_factory=dict)
    every_event: bool = False  # HEALTHSCORE_EVALUATE_EVERY_EVENT
    shadow: Policy | None = None  # a candidate policy scored beside the live one
    # (consumed topic, partition) -> the key of its applied offset in a record (filled as met)
    codes: dict[tuple[str, int], str] = field(default_factory=dict)
    # who reads which language: the words of published scores and alerts
    languages: Languages = field(default_factory=Languages)


@dataclass
class Outputs:
    """What one fold sends: score updates, alerts and dead letters, and what it counted."""

    scores: list[Keyed] = field(default_factory=list)
    alerts: list[Keyed] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    shadow_scores: list[Keyed] = field(default_factory=list)
    shadow_alerts: list[Keyed] = field(default_factory=list)
    raised: list[Alert] = field(default_factory=list)
    # the alerts raised whose customer the policy's holdout keeps out of delivery: recorded
    # (in `raised` and the record) but not in `alerts`
    held_out: list[Alert] = field(default_factory=list)
    changed: list[Record] = field(default_factory=list)  # the records to save
    applied: int = 0
    duplicates: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.scores or self.alerts or self.dead or self.shadow_scores or self.shadow_alerts
        )


def by_customer(batch: Sequence[Decoded]) -> tuple[dict[str, list[Decoded]], list[DeadLetter]]:
    """A batch's events grouped by customer, in order, and its dead letters."""
    groups: dict[str, list[Decoded]] = {}
    dead: list[DeadLetter] = []
    for item in batch:
        event = item.event
        if isinstance(event, DeadLetter):
            dead.append(event)
        else:
            groups.setdefault(event.customer_id, []).append(item)
    return groups, dead


def advance_watermarks(batch: Sequence[Decoded], marks: dict[int, float]) -> None:
    """Move each partition's watermark (the latest event time it delivered) to its batch's."""
    for msg, event in batch:
        if not isinstance(event, DeadLetter):
            mark = marks.get(msg.partition)
            if mark is None or event.occurred_at > mark:
                marks[msg.partition] = event.occurred_at


def advance_positions(batch: Sequence[Decoded], positions: dict[tuple[str, int], int]) -> None:
    """Move each topic-partition's position to its last offset in the batch (processed)."""
    for msg, _ in batch:
        positions[(msg.topic, msg.partition)] = msg.offset


class Tally(NamedTuple):
    """What a batch's stored records did, for the metrics."""

    counts: dict[tuple[str, str, str], int]  # events by (topic, type, outcome)
    latencies: list[float]  # applied events: seconds from produce time to now
    ages: list[float]  # applied events: seconds from event time to now
    too_late: list[str]  # the topic of each event dead-lettered as too late


def tally(records: Sequence[Record], now: float) -> Tally:
    """The outcomes of the records' events this attempt, counted (`now`: the clock's time)."""
    out = Tally({}, [], [], [])
    counts, latencies, ages = out.counts, out.latencies, out.ages
    for rec in records:
        for topic, kind, outcome, produced, occurred in rec.outcomes:
            key = (topic, kind, outcome)
            counts[key] = counts.get(key, 0) + 1
            if outcome == "dead_lettered":
                out.too_late.append(topic)
            elif outcome == "applied":
                if produced is not None:
                    latencies.append(max(0.0, now - produced))
                ages.append(max(0.0, now - occurred))
    return out


def fold(
    records: Mapping[str, Record],
    messages: Mapping[str, Sequence[Decoded]],
    policy: Policy,
    options: FoldOptions,
) -> Outputs:
    """Apply each customer's messages to its record; return what to publish and save."""
    out = Outputs()
    for cid, items in messages.items():
        rec = records[cid]
        rec.outcomes.clear()  # of an earlier batch, when the record was kept in memory
        rec.facts.clear()
        if _fold_customer(rec, items, policy, options, out):
            out.changed.append(rec)
    return out


def fold_due(
    records: Mapping[str, Record], until: float, policy: Policy, options: FoldOptions
) -> tuple[Outputs, dict[str, float | None]]:
    """Evaluate each record's due moments up to event time `until` (the timer); return the
    outputs and the due-index entries to correct (None: remove) for records with nothing due."""
    out = Outputs()
    fixes: dict[str, float | None] = {}
    for cid, rec in records.items():
        if rec.state is None or rec.due is None:
            fixes[cid] = None
        elif rec.due > until:
            fixes[cid] = rec.due  # the index ran early; the record holds the truth
        else:
            rec.outcomes.clear()
            rec.facts.clear()
            standing = rec.standing()
            raised: list[Alert] = []
            times: list[float] | None = [] if options.shadow is not None else None
            health = catch_up_into(standing, until, policy, options.refresh, raised, times)
            _shadow(standing.state, rec, times, options, out)
            rec.settle(standing)
            _take(rec, raised, policy, options, out)
            if health is not None:
                _publish_health(rec, health, options, out)
            out.changed.append(rec)
    return out, fixes


def _partition_code(opts: FoldOptions, topic: str, partition: int) -> str:
    """The key of a topic-partition's applied offset in a record: "<code><partition>"."""
    key = (topic, partition)
    code = opts.codes.get(key)
    if code is None:
        code = opts.codes[key] = f"{TOPIC_CODES.get(topic, topic + ':')}{partition}"
    return code


def _fold_customer(
    rec: Record, items: Sequence[Decoded], policy: Policy, opts: FoldOptions, out: Outputs
) -> bool:
    """Fold one customer's events of this batch, in order, into its record (in place)."""
    refresh = opts.refresh
    gap = min(LOOKAHEAD, refresh)
    standing = rec.standing()
    state = standing.state
    changed = False
    health: HealthScore | None = None
    raised: list[Alert] = []
    times: list[float] | None = [] if opts.shadow is not None else None
    unevaluated = False  # an event applied since the last evaluation
    for msg, event in items:
        assert not isinstance(event, DeadLetter)
        topic = opts.topics.get(msg.topic, msg.topic)
        tp = _partition_code(opts, topic, msg.partition)
        t = event.occurred_at
        if msg.offset <= rec.offsets.get(tp, -1):
            out.duplicates += 1  # redelivered after a crash: already in this record
            rec.outcomes.append((topic, event.TYPE, "redelivered", msg.timestamp, t))
            continue
        rec.offsets[tp] = msg.offset
        rec.partition = msg.partition
        changed = True
        clock = state.clock
        if unevaluated and clock is not None and t > clock + gap:
            # a jump in event time inside one batch (a backfill): evaluate where the customer
            # stood first, so what became due in the gap (inactivity, SLAs, a decaying score)
            # is evaluated at its moment, as living through it would
            health = evaluate_into(standing, clock, policy, refresh, False, raised) or health
            _evaluated(standing, state, rec, times, opts, out)
            unevaluated = False
        # Stream time passed due moments before this event: evaluate them first, as the timer
        # would have when living through the stream
        if standing.due is not None and standing.due <= t:
            health = catch_up_into(standing, t, policy, refresh, raised, times) or health
            _shadow(state, rec, times, opts, out)
        before = None if type(event) in USAGE_TYPES else snapshot(state, event)
        code = apply_into(state, event, policy)
        if code != APPLIED:
            if code == TOO_LATE:  # it cannot be told from a duplicate: refused, not lost
                late = too_late(state, event, policy) or "too late"
                out.dead.append(DeadLetter(msg, late, "occurred_at"))
                rec.outcomes.append((topic, event.TYPE, "dead_lettered", msg.timestamp, t))
                continue
            out.duplicates += 1  # the same event again, or one for a forgotten ticket
            rec.outcomes.append((topic, event.TYPE, "duplicate", msg.timestamp, t))
            continue
        out.applied += 1
        rec.outcomes.append((topic, event.TYPE, "applied", msg.timestamp, t))
        if type(event) not in USAGE_TYPES:  # usage adds no segment facts
            rec.facts.extend(new_facts(before, state, event))
        if opts.every_event:
            health = evaluate_into(standing, t, policy, refresh, False, raised) or health
            _evaluated(standing, state, rec, times, opts, out)
        else:
            unevaluated = True
    if unevaluated and state.clock is not None:
        health = evaluate_into(standing, state.clock, policy, refresh, False, raised) or health
        _evaluated(standing, state, rec, times, opts, out)
    rec.settle(standing)
    _take(rec, raised, policy, opts, out)
    if health is not None:
        _publish_health(rec, health, opts, out)
    return changed


def _evaluated(
    standing: Standing,
    state: CustomerState,
    rec: Record,
    times: list[float] | None,
    opts: FoldOptions,
    out: Outputs,
) -> None:
    """After an evaluation: the shadow policy scores the same moment."""
    if times is not None and standing.evaluated_at is not None:
        times.append(standing.evaluated_at)
        _shadow(state, rec, times, opts, out)


def _shadow(
    state: CustomerState, rec: Record, times: list[float] | None, opts: FoldOptions, out: Outputs
) -> None:
    """Score the shadow policy at the live policy's evaluations just made (`times`, then
    cleared), from the state they were made from: before it changes again."""
    if times is None or opts.shadow is None:
        return
    for at in times:
        _shadow_at(rec, state, opts.shadow, at, opts, out)
    times.clear()


def _words(state: CustomerState | None, opts: FoldOptions) -> Words:
    """The words a customer's outputs are published in (its owner's language, else its own,
    else the deployment's)."""
    languages = opts.languages
    if state is None or (not languages.owners and "locale" not in state.attributes):
        return languages.default_words  # the common case, asked for every score published
    return languages.for_state(state)


def _take(
    rec: Record, raised: list[Alert], policy: Policy, opts: FoldOptions, out: Outputs
) -> None:
    """Publish the alerts raised, but those of a customer the holdout keeps out of delivery
    (`AlertPolicy.held_out`): recorded, counted, never published."""
    if not raised:
        return
    if policy.alerts.holdout is not None and policy.alerts.held_out(rec.customer_id):
        out.raised.extend(raised)
        out.held_out.extend(raised)
        return
    words = _words(rec.state, opts)
    for alert in raised:
        record = alert_record(alert, words, words.locale)
        out.alerts.append(_keyed(alert.customer_id, encode(record)))
        out.raised.append(alert)


def _moved(published: Published | None, health: HealthScore, step: float) -> bool:
    """Is the score worth publishing against the last one published?"""
    return (
        published is None
        or abs(health.score - published.score) >= step
        or health.band != published.band
    )


def _publish_health(rec: Record, health: HealthScore, opts: FoldOptions, out: Outputs) -> None:
    published = rec.published
    previous = published.score if published is not None else None
    revenue = health.revenue_at_risk
    rec.evaluated = Evaluation(health.as_of, health.score, health.band, previous, revenue)
    rec.note_trend(health.as_of, health.score)
    if _moved(published, health, opts.publish_min_step):
        rec.published = Published(health.score, health.band)
        words = _words(rec.state, opts)
        record = health_record(health, previous, revenue, words, words.locale, encoding=True)
        out.scores.append(_keyed(rec.customer_id, encode(record)))


def _shadow_at(
    rec: Record,
    state: CustomerState,
    shadow: Policy,
    at: float,
    opts: FoldOptions,
    out: Outputs,
) -> None:
    """Score the candidate policy at one of the live policy's evaluations, from the same state,
    with its own alert memory; publish to the shadow topics only."""
    memory = rec.shadow_memory
    health = score(state, shadow, at, memory.band, explain=False)
    if health is None:
        return
    previous = memory.score
    alert = alerts.evaluate_into(memory, state, health, shadow, at)
    if alert is not None:
        words = _words(state, opts)
        record = alert_record(alert, words, words.locale)
        out.shadow_alerts.append(_keyed(alert.customer_id, encode(record)))
    if _moved(rec.shadow_published, health, opts.publish_min_step):
        rec.shadow_published = Published(health.score, health.band)
        words = _words(state, opts)
        record = health_record(health, previous, None, words, words.locale, encoding=True)
        out.shadow_scores.append(_keyed(rec.customer_id, encode(record)))
