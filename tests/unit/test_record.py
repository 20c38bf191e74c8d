"""The stored form of a customer record: exact round trip, and the health record recomputed."""

from __future__ import annotations

import math
import zlib
from dataclasses import replace

import msgpack
import orjson
from hypothesis import given, settings

from scoring import events as ev
from scoring.alerts import evaluate
from scoring.health import score
from scoring.serialize import alert_record, health_record
from scoring.words import LANGUAGES
from stream.codec import encode
from stream.i18n import words
from stream.store import Evaluation, Published, Record, ViewsSeen, board_score, board_value
from stream.store.older import OLD_MAX_IDS, encode_v2
from stream.store.record import TREND_DAYS

from .scoring.builders import (
    CID,
    POLICY,
    account,
    build,
    csat,
    daily_sessions,
    day,
    escalated,
    feature,
    nps,
    opened,
    paging_every_rule,
    reopened,
    replied,
    resolved,
    seats,
)
from .scoring.test_properties import histories


def a_full_record() -> Record:
    state = build(
        [
            account(day(0), segment="smb", owner="ana@csm.example", mrr=850.0),
            *daily_sessions(0, 20),
            feature(day(3), "exports", 3),
            seats(day(4), 7, 10),
            opened(day(5), "t1"),
            replied(day(5.5), "t1"),
            resolved(day(6), "t1"),
            reopened(day(7), "t1"),
            escalated(day(7.5), "t1"),
            opened(day(8), "t2"),
            nps(day(9), 4),
            csat(day(10), 5),
        ]
    )
    now = state.clock or 0.0
    health = score(state, POLICY, now)
    assert health is not None
    alerts, _ = evaluate(Record(CID).alerts, state, health, paging_every_rule(POLICY), now)
    return Record(
        CID,
        version=3,
        state=state,
        alerts=alerts,
        offsets={"u0": 12, "s0": 4},
        partition=0,
        published=Published(health.score, health.band),
        evaluated=Evaluation(now, health.score, health.band, 61.5, health.revenue_at_risk),
        due=now + 3600.0,
    )


def test_a_record_survives_being_stored_and_read_back() -> None:
    rec = a_full_record()
    stored = b"%d|" % rec.version + rec.dump()
    back = Record.parse(CID, stored)
    assert back.state == rec.state
    assert back.alerts == rec.alerts
    assert rec.alerts.open is not None
    assert rec.alerts.open.revenue_at_risk is not None
    assert (back.version, back.offsets, back.partition) == (3, rec.offsets, 0)
    assert (back.published, back.evaluated, back.due) == (rec.published, rec.evaluated, rec.due)
    seen = (rec.segment(), rec.band(), rec.score(), rec.alerts.open, "ana@csm.example")
    assert back.loaded == ViewsSeen(*seen, rec.revenue())


def test_the_stored_form_is_positional_binary_without_names() -> None:
    stored = a_full_record().dump()
    assert stored[:1] == bytes([3])  # the format
    assert b"activity_short" not in stored
    assert b"customer_id" not in stored
    assert CID.encode() not in stored  # the id is the key
    assert _as_msgpack_writes_it(stored)


def _as_msgpack_writes_it(payload: bytes) -> bool:
    """Is the payload (written by msgspec) the bytes msgpack's own packer writes of the same
    array (smallest integers, 64-bit floats, binary strings)?"""
    fields = msgpack.unpackb(payload[1:], raw=False, strict_map_key=False)
    return bool(payload[1:] == msgpack.packb(fields, use_bin_type=True))


def test_a_record_takes_its_remembered_ids_and_a_few_hundred_bytes() -> None:
    rec = a_full_record()
    assert rec.state is not None
    # an alert open for the customer is kept with its reasons (ids and numbers) while it lasts
    episode = rec.alerts.open
    words = sum(len(str(r.flat()).encode()) for r in episode.reasons) if episode else 0
    assert len(rec.dump()) < len(rec.state.seen) + 600 + words + 80


def test_records_written_by_0_1_as_compressed_json_are_read_too() -> None:
    doc = {"s": {"c": 5.0, "al": [2.0, 5.0]}, "a": None, "o": {"u1": 3}, "p": [80.0, "healthy"]}
    back = Record.parse(CID, b"4|" + zlib.compress(orjson.dumps(doc)))
    assert back.state is not None
    assert (back.version, back.state.clock, back.state.activity_long.value) == (4, 5.0, 2.0)
    assert back.published == Published(80.0, "healthy")
    again = Record.parse(CID, b"5|" + back.dump())
    assert again.state == back.state


def test_plain_json_records_are_read_too() -> None:
    back = Record.parse(
        CID, b'7|{"s":{"c":5.0},"a":null,"o":{"u1":3},"e":[5.0,80.0,"healthy",null]}'
    )
    assert back.version == 7
    assert back.state is not None
    assert back.state.clock == 5.0
    assert back.offsets == {"u1": 3}
    assert back.band() == "healthy"


def test_the_health_record_is_the_one_the_evaluation_published() -> None:
    rec = a_full_record()
    assert rec.state is not None
    assert rec.evaluated is not None
    health = score(rec.state, POLICY, rec.evaluated.at)
    assert health is not None
    english = words("en")
    assert rec.health_record(POLICY) == health_record(health, 61.5, None, english, "en")
    latvian = words("lv")
    assert rec.health_record(POLICY, latvian) == health_record(health, 61.5, None, latvian, "lv")
    assert Record(CID).health_record(POLICY) is None


def test_a_published_score_and_alert_say_what_a_read_one_says_in_every_language() -> None:
    """The memo of worded messages keeps their words and JSON only: the record encoded for
    Kafka (`encoding`, read from the memo) and the record read as a dict (the published form
    made again) must say the same, the first time a message is worded and from the memo."""
    rec = a_full_record()
    assert rec.state is not None
    now = rec.state.clock or 0.0
    health = score(rec.state, POLICY, now)
    assert health is not None
    assert health.drivers
    _, raised = evaluate(Record(CID).alerts, rec.state, health, paging_every_rule(POLICY), now)
    assert raised
    assert raised[0].reasons
    for language in (None, *(words(code) for code in LANGUAGES)):
        locale = language.locale if language is not None else None
        for _ in range(2):  # worded, then from the memo
            read = health_record(health, 61.5, None, language, locale)
            sent = health_record(health, 61.5, None, language, locale, encoding=True)
            assert orjson.loads(encode(sent)) == orjson.loads(encode(read))
            assert [d["message"] for d in read["drivers"]] == [
                d.detail.wire() for d in health.drivers
            ]
            alert = alert_record(raised[0], language, locale)
            assert alert["reason_messages"] == [m.wire() for m in raised[0].reasons]
            if language is not None:
                assert alert["reasons"] == [language(m) for m in raised[0].reasons]


def test_the_board_orders_by_band_then_score_and_gives_the_score_back() -> None:
    places = [
        board_value(b, s) for b, s in [("healthy", 10.0), ("critical", 99.5), ("at_risk", 0.0)]
    ]
    assert places[1] < places[2] < places[0]
    assert [board_score(p) for p in places] == [10.0, 99.5, 0.0]
    assert board_score(board_value("at_risk", 44.62)) == 44.62


def test_whole_and_fractional_times_both_come_back_exactly_as_floats() -> None:
    rec = a_full_record()
    assert rec.state is not None
    odd = replace(rec.state, clock=1_767_225_600.123456, first_seen=1_767_225_600.0)
    rec.state, rec.due = odd, 1_767_230_000.5
    back = Record.parse(CID, b"1|" + rec.dump())
    assert back.state == odd
    assert back.due == 1_767_230_000.5
    assert back.state is not None
    assert isinstance(back.state.first_seen, float)
    assert isinstance(back.state.activity_long.ref, float)


def test_the_daily_history_keeps_the_days_last_score_marks_gaps_and_keeps_90_days() -> None:
    rec = Record(CID)
    day = 20_000 * 86_400.0
    rec.note_trend(day + 10, 80.4)
    rec.note_trend(day + 3600, 70.6)  # the same day: the latest wins
    rec.note_trend(day + 3 * 86_400, 50.0)  # two days without an evaluation
    rec.note_trend(day + 86_400, 99.0)  # behind the last day: ignored
    assert [(20_000, 71), (20_001, None), (20_002, None), (20_003, 50)] == rec.history()
    for d in range(4, 200):
        rec.note_trend(day + d * 86_400, d % 101)
    history = rec.history()
    assert len(history) == TREND_DAYS
    assert history[-1] == (20_199, 199 % 101)
    assert history[0][0] == 20_199 - TREND_DAYS + 1
    stored = b"1|" + rec.dump()
    assert Record.parse(CID, stored).history() == history
    assert len(rec.dump()) < 200  # a state-less record is mostly its 90 bytes of history


def test_revenue_at_risk_moves_in_the_sums_per_segment_and_owner_only_when_it_changed() -> None:
    from stream.store import Keys
    from stream.store.record import Evaluation
    from stream.store.views import Command, Tally, revenue_into

    def revenue_commands(keys: Keys, rec: Record) -> list[Command]:
        tally = Tally()
        revenue_into(tally, keys.revenue_by_segment(), keys.revenue_by_owner(), rec)
        return tally.commands()

    keys = Keys("t")
    rec = a_full_record()
    assert rec.evaluated is not None
    assert rec.evaluated.revenue is not None
    cents = round(rec.evaluated.revenue * 100)
    rec.loaded.revenue = None
    assert [
        ("HINCRBY", keys.revenue_by_segment(), "smb", cents),
        ("HINCRBY", keys.revenue_by_owner(), "ana@csm.example", cents),
    ] == revenue_commands(keys, rec)
    assert [] == revenue_commands(keys, rec)  # counted once
    e = rec.evaluated
    rec.evaluated = Evaluation(e.at, e.score, e.band, e.previous, revenue=12.34)
    assert [
        ("HINCRBY", keys.revenue_by_segment(), "smb", 1234 - cents),
        ("HINCRBY", keys.revenue_by_owner(), "ana@csm.example", 1234 - cents),
    ] == revenue_commands(keys, rec)
    back = Record.parse(CID, b"%d|" % rec.version + rec.dump())
    assert back.evaluated == rec.evaluated
    assert back.loaded.revenue == rec.revenue()


def _without_forgotten(rec: Record) -> bytes:
    """The stored form as records before `forgotten` wrote it: format 2 (`stream.store.older`),
    the state without its last field."""
    stored = encode_v2(rec)
    fields = msgpack.unpackb(stored[1:], raw=False, strict_map_key=False)
    fields[0] = fields[0][:10]
    return stored[:1] + msgpack.packb(fields, use_bin_type=True)


def test_what_the_id_bound_forgot_is_stored_and_taken_conservatively_from_older_records() -> None:
    n = OLD_MAX_IDS + 3
    state = build([ev.Session(f"s-{i}", CID, day(1) + i * 60.0, "u1") for i in range(n)])
    assert state.forgotten == math.floor(day(1) + 2 * 60.0)  # s-2, the newest dropped
    rec = Record(CID, state=state)
    assert Record.parse(CID, b"1|" + rec.dump()).state == state
    old = Record.parse(CID, b"1|" + _without_forgotten(rec)).state
    assert old is not None
    assert old.forgotten == math.floor(day(1) + 3 * 60.0)  # up to its oldest id, to be safe
    few = Record(CID, state=build([ev.Session("one", CID, day(1), "u1")]))
    old_few = Record.parse(CID, b"1|" + _without_forgotten(few)).state
    assert old_few is not None
    assert old_few.forgotten == -1  # below the bound then: nothing forgotten by it


def test_records_written_in_format_2_are_read_and_written_back_in_format_3() -> None:
    rec = a_full_record()
    older = Record.parse(CID, b"3|" + encode_v2(rec))
    assert (older.state, older.alerts) == (rec.state, rec.alerts)
    assert (older.offsets, older.published, older.evaluated, older.due) == (
        rec.offsets,
        rec.published,
        rec.evaluated,
        rec.due,
    )
    assert older.dump()[:1] == bytes([3])
    assert Record.parse(CID, b"4|" + older.dump()).state == rec.state


@settings(max_examples=200, deadline=None)
@given(histories(span_days=60))
def test_any_state_survives_being_stored_and_read_back(events: list[ev.Event]) -> None:
    """Whatever a customer's events (tickets alone, an MRR stated many times, surveys before
    the first session), the state read back is the state stored, its compact parts included:
    the MRR days and `usage_since` are stored only where the rest does not already say them."""
    state = build(events)
    payload = Record(CID, state=state).dump()
    assert _as_msgpack_writes_it(payload)
    back = Record.parse(CID, b"1|" + payload).state
    assert back is not None
    assert (back.mrr_days, back.usage_since, back.first_seen) == (
        state.mrr_days,
        state.usage_since,
        state.first_seen,
    )
    assert back == state
