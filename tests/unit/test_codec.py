"""The decoder turns valid bytes into typed events and names field, rule and value otherwise."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from scoring import events as ev
from stream.codec import DecodeError, decode_batch, decode_event
from stream.messages import DeadLetter, Incoming

BASE = {"event_id": "e-1", "customer_id": "acme", "occurred_at": "2026-03-01T12:00:00Z"}

VALID: dict[str, dict[str, Any]] = {
    "session": {"user_id": "u1"},
    "feature_used": {"feature": "reports", "count": 3},
    "seat_snapshot": {"active_users": 7, "licensed_seats": 10},
    "ticket_opened": {"ticket_id": "t1", "priority": "urgent"},
    "ticket_replied": {"ticket_id": "t1", "by": "agent"},
    "ticket_resolved": {"ticket_id": "t1"},
    "ticket_reopened": {"ticket_id": "t1"},
    "ticket_escalated": {"ticket_id": "t1"},
    "nps": {"score": 9, "comment": "great"},
    "csat": {"score": 4},
    "ces": {"score": 6},
    "account_updated": {
        "segment": "smb",
        "owner": "ana",
        "mrr": 120.5,
        "renewal_date": "2027-01-31",
    },
    "churned": {"reason": "budget"},
    "renewed": {},
    "csm_assessment": {"rating": 2, "author": "ana@csm.example", "note": "champion left"},
}


def message(type_: str, **changes: Any) -> bytes:
    doc = {**BASE, "type": type_, **VALID[type_], **changes}
    return orjson.dumps({k: v for k, v in doc.items() if v is not DROP})


DROP = object()


def error_of(raw: bytes, **kwargs: Any) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode_event(raw, **kwargs)
    return info.value


@pytest.mark.parametrize("type_", sorted(VALID))
def test_every_valid_message_type_decodes_to_its_event_class(type_: str) -> None:
    event = decode_event(message(type_))
    assert ev.EVENT_TYPE_BY_NAME[type_] is type(event)
    assert (event.event_id, event.customer_id) == ("e-1", "acme")


def test_occurred_at_becomes_posix_seconds() -> None:
    event = decode_event(message("renewed", occurred_at="2026-03-01T13:00:00+01:00"))
    assert event.occurred_at == 1772366400.0


def test_nanosecond_timestamps_are_accepted_to_the_microsecond() -> None:
    event = decode_event(message("renewed", occurred_at="2026-03-01T12:00:00.123456789Z"))
    assert event.occurred_at == pytest.approx(1772366400.123456)


def test_fields_are_typed_on_the_event() -> None:
    event = decode_event(message("account_updated", mrr=100))
    assert isinstance(event, ev.AccountUpdated)
    assert event.mrr == 100.0
    assert isinstance(event.mrr, float)


@pytest.mark.parametrize(
    ("raw", "field", "fragment"),
    [
        (b"{oops", "message", "valid UTF-8 JSON"),
        (b"[1, 2]", "message", "a JSON object"),
        (b"\xff\xfe", "message", "valid UTF-8 JSON"),
        (message("nps", score=11), "score", "an integer from 0 to 10"),
        (message("nps", score=-1), "score", "an integer from 0 to 10"),
        (message("nps", score=9.5), "score", "an integer"),
        (message("nps", score=True), "score", "an integer"),
        (message("nps", score="9"), "score", "an integer"),
        (message("csat", score=0), "score", "an integer from 1 to 5"),
        (message("ces", score=8), "score", "an integer from 1 to 7"),
        (message("nps", score=DROP), "score", "nothing (field missing)"),
        (message("nps", event_id=DROP), "event_id", "a string of 1-128"),
        (message("nps", event_id=""), "event_id", "a string of 1-128"),
        (message("nps", event_id="x" * 129), "event_id", "a string of 1-128"),
        (message("nps", customer_id=42), "customer_id", "a string"),
        (message("nps", occurred_at="2026-03-01"), "occurred_at", "RFC 3339"),
        (message("nps", occurred_at="2026-03-01T12:00:00"), "occurred_at", "UTC offset"),
        (message("nps", occurred_at="2026-13-01T12:00:00Z"), "occurred_at", "RFC 3339"),
        (message("nps", type="bogus"), "type", "one of"),
        (message("ticket_opened", priority="p1"), "priority", "one of low, normal, high, urgent"),
        (message("ticket_replied", by="bot"), "by", "one of agent, customer"),
        (message("feature_used", count=0), "count", "an integer from 1 to 1000000"),
        (message("account_updated", renewal_date="31/01/2027"), "renewal_date", "YYYY-MM-DD"),
        (message("account_updated", renewal_date="2027-02-30"), "renewal_date", "YYYY-MM-DD"),
        (message("account_updated", mrr=-5), "mrr", "a number from 0"),
        (message("nps", comment="x" * 2001), "comment", "0-2000 characters"),
    ],
)
def test_each_broken_rule_is_named_with_field_and_rule(
    raw: bytes, field: str, fragment: str
) -> None:
    err = error_of(raw)
    assert field == err.field
    assert fragment in str(err)


def test_a_type_from_another_topic_is_rejected_with_the_topics_types() -> None:
    err = error_of(message("session"), topic="survey-events")
    assert "type" == err.field
    assert "one of nps, csat, ces on topic survey-events" in str(err)


def test_the_key_must_equal_the_customer_id() -> None:
    err = error_of(message("renewed"), key=b"someone-else")
    assert "customer_id" == err.field


def test_a_matching_key_is_accepted() -> None:
    assert "acme" == decode_event(message("renewed"), key=b"acme").customer_id


def test_oversized_messages_are_rejected_before_parsing() -> None:
    err = error_of(message("nps", comment="x" * 500), max_bytes=300)
    assert "message" == err.field
    assert "at most 300 bytes" in str(err)


def test_an_optional_field_may_be_null() -> None:
    event = decode_event(message("nps", comment=None))
    assert isinstance(event, ev.NpsAnswered)
    assert event.comment is None


def test_unknown_extra_fields_are_ignored_for_forward_compatibility() -> None:
    assert "e-1" == decode_event(message("renewed", plan="gold")).event_id


def test_the_error_shows_a_shortened_value() -> None:
    err = error_of(message("nps", comment="y" * 5000))
    assert len(str(err)) < 200


def test_a_whole_number_written_as_a_float_is_an_integer_as_json_schema_says() -> None:
    event = decode_event(message("nps", score=9.0))
    assert isinstance(event, ev.NpsAnswered)
    assert (9, int) == (event.score, type(event.score))


def test_a_batch_decodes_each_message_to_its_event_or_its_dead_letter_in_order() -> None:
    """`decode_batch` (what the worker decodes each fetch with): every message kept with its
    result, a broken one as a dead letter naming its field and reason, the topic's contract
    applied (a support topic carries no usage event), a key other than the customer refused."""
    good = message("session")
    batch = [
        Incoming("usage-in", 0, 0, b"acme", good),
        Incoming("usage-in", 0, 1, b"acme", message("session", occurred_at="yesterday")),
        Incoming("support-in", 0, 2, b"acme", good),
        Incoming("usage-in", 0, 3, b"other", good),
        Incoming("unmapped", 0, 4, b"acme", good),
        Incoming("usage-in", 0, 5, b"acme", b"x" * 300),
    ]
    topics = {"usage-in": "usage-events", "support-in": "support-events"}
    out = decode_batch(batch, topics, max_bytes=200)
    assert [d.message for d in out] == batch
    assert isinstance(out[0].event, ev.Session)
    assert isinstance(out[4].event, ev.Session)
    letters = [d.event for d in out[1:4]] + [out[5].event]
    assert all(isinstance(x, DeadLetter) for x in letters)
    fields = [x.field for x in letters if isinstance(x, DeadLetter)]
    assert fields[0] == "occurred_at"
    assert fields[3] == "message"
    for d in out[1:4] + out[5:]:
        assert isinstance(d.event, DeadLetter)
        assert d.event.source is d.message
        assert d.event.error == str(error_of(d.message.value or b"", **_args(d.message, topics)))


def _args(msg: Incoming, topics: dict[str, str]) -> dict[str, Any]:
    return {"topic": topics.get(msg.topic), "key": msg.key, "max_bytes": 200}
