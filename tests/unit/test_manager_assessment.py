"""The manager's own read (`csm_assessment`) at the edges: decoded or refused with its reason,
stored and read back, shown on the customer page in every language, weighed by `calibrate`."""

from __future__ import annotations

import math
import random
from typing import Any

import msgpack
import orjson
import pytest
import yaml

from scoring import events as ev
from scoring.components import signals
from scoring.fit import CSM, FEATURES
from scoring.health import score
from scoring.policy import SURVEY_MEASURES, parse_policy
from scoring.serialize import health_record
from scoring.state import CSM_AUTHOR, CSM_RATING
from scoring.words import Message
from stream.codec import DecodeError, decode_event
from stream.i18n import LOCALES, words
from stream.offline.backtest import AtCutoff, Row
from stream.offline.calibrate import calibrate, features
from stream.resources import load_policy, resource
from stream.store import Record
from stream.web.pages import customer_page

from .scoring.builders import CID, POLICY, account, build, daily_sessions, day
from .test_pages import parsed
from .test_record import a_full_record

BASE = {"event_id": "e-1", "customer_id": "acme", "occurred_at": "2026-03-01T12:00:00Z"}


def message(**fields: Any) -> bytes:
    return orjson.dumps({**BASE, "type": "csm_assessment", **fields})


def assessed(at: float, rating: int, author: str = "ana@csm.example") -> ev.CsmAssessment:
    return ev.CsmAssessment(f"a{at}-{rating}", CID, at, rating, author, "champion left")


# --- the contract ----------------------------------------------------------------------------


def test_an_assessment_decodes_on_the_account_topic_with_its_note() -> None:
    event = decode_event(
        message(rating=2, author="ana@csm.example", note="champion left"), topic="account-events"
    )
    assert (
        ev.CsmAssessment("e-1", "acme", event.occurred_at, 2, "ana@csm.example", "champion left")
        == event
    )
    assert decode_event(message(rating=5, author="bo")) == ev.CsmAssessment(
        "e-1", "acme", event.occurred_at, 5, "bo"
    )


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"rating": 0, "author": "ana"}, "rating", "an integer from 1 to 5"),
        ({"rating": 6, "author": "ana"}, "rating", "an integer from 1 to 5"),
        ({"rating": 3.5, "author": "ana"}, "rating", "an integer from 1 to 5"),
        ({"rating": "4", "author": "ana"}, "rating", "an integer from 1 to 5"),
        ({"author": "ana"}, "rating", "an integer from 1 to 5"),
        ({"rating": 3}, "author", "a string of 1-128 characters"),
        ({"rating": 3, "author": ""}, "author", "a string of 1-128 characters"),
        ({"rating": 3, "author": "ana", "note": "x" * 2001}, "note", "0-2000 characters"),
    ],
)
def test_a_broken_assessment_is_refused_naming_field_and_rule(
    fields: dict[str, Any], field: str, rule: str
) -> None:
    """What the dead-letter topic says of it."""
    with pytest.raises(DecodeError) as info:
        decode_event(message(**fields))
    assert field == info.value.field
    assert rule in str(info.value)


def test_an_assessment_is_refused_on_another_topic() -> None:
    with pytest.raises(DecodeError, match="one of nps, csat, ces on topic survey-events"):
        decode_event(message(rating=3, author="ana"), topic="survey-events")


# --- the stored record -----------------------------------------------------------------------


def test_a_record_keeps_the_assessment_with_short_codes_and_reads_it_back() -> None:
    rec = a_full_record()
    assert rec.state is not None
    rec.state = build([assessed(day(11), 2)], start=rec.state)
    stored = rec.dump()
    back = Record.parse(CID, b"%d|" % rec.version + stored)
    assert back.state == rec.state
    assert back.state is not None
    assert (2, day(11)) == (
        back.state.attributes[CSM_RATING].value,
        back.state.attributes[CSM_RATING].at,
    )
    assert "ana@csm.example" == back.state.attributes[CSM_AUTHOR].value
    fields = msgpack.unpackb(stored[1:], raw=False)
    attributes = fields[12]
    assert "cr" in attributes
    assert "ca" in attributes
    assert "csm_rating" not in attributes
    assert b"champion left" not in stored  # the note stays in the event stream


def test_a_record_written_before_the_assessment_reads_without_one() -> None:
    rec = a_full_record()
    back = Record.parse(CID, b"%d|" % rec.version + rec.dump())
    assert back.state is not None
    assert CSM_RATING not in back.state.attributes


# --- the customer page -----------------------------------------------------------------------


def a_customer_with(*events: ev.Event) -> Record:
    rec = a_full_record()
    assert rec.state is not None
    rec.state = build(list(events), start=rec.state)
    return rec


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "manager's assessment 2/5 (ana@csm.example), 12 days ago"),
        ("ru", "оценка CSM 2/5 (ana@csm.example), 12 дней назад"),
        ("lv", "CSM vērtējums 2/5 (ana@csm.example), pirms 12 dienām"),
        ("zh", "客户成功经理评估2/5（ana@csm.example，12天前）"),  # noqa: RUF001 - zh punctuation
    ],
)
def test_the_customer_page_shows_the_assessment_in_the_readers_words(
    locale: str, expected: str
) -> None:
    rec = a_customer_with(assessed(day(0), 2))
    assert rec.state is not None
    now = day(12)
    h = score(rec.state, POLICY, now)
    assert h is not None
    w = words(locale)
    page = customer_page(rec, health_record(h, None), w)
    text = " ".join(parsed(page).text)
    assert expected in text
    assert w.say("component", component="sentiment") in text


def test_the_customer_page_says_when_there_is_no_assessment() -> None:
    rec = a_full_record()
    html = customer_page(rec, rec.health_record(POLICY), words("en"))
    assert "No manager's assessment yet." in " ".join(parsed(html).text)


def test_the_author_is_escaped_on_the_page() -> None:
    rec = a_customer_with(assessed(day(11), 4, "<b>x</b>"))
    html = customer_page(rec, rec.health_record(POLICY), words("en"))
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("days", [0, 1, 2, 5, 11, 21, 22, 101])
def test_the_assessment_is_worded_at_every_plural_form(locale: str, days: int) -> None:
    said = words(locale)(
        Message("sentiment-csm", ("rating", 4, "author", "ana@csm.example", "days", days))
    )
    assert "4/5" in said
    assert "ana@csm.example" in said
    if days:
        assert str(days) in said


def test_russian_and_latvian_days_agree_with_their_number() -> None:
    ru, lv = words("ru"), words("lv")

    def say(w: Any, days: int) -> str:
        return str(w(Message("sentiment-csm", ("rating", 3, "author", "a", "days", days))))

    assert say(ru, 1).endswith("1 день назад")
    assert say(ru, 3).endswith("3 дня назад")
    assert say(ru, 5).endswith("5 дней назад")
    assert say(ru, 21).endswith("21 день назад")
    assert say(ru, 0).endswith("сегодня")
    assert say(lv, 1).endswith("pirms 1 dienas")
    assert say(lv, 21).endswith("pirms 21 dienas")
    assert say(lv, 2).endswith("pirms 2 dienām")
    assert say(lv, 10).endswith("pirms 10 dienām")
    assert words("en")(Message("sentiment-csm", ("rating", 3, "author", "a", "days", 1))).endswith(
        "1 day ago"
    )


# --- calibrate -------------------------------------------------------------------------------


def _rows(n: int, seed: int, *, csm_informative: bool, with_assessments: bool = True) -> list[Row]:
    """Customers whose churn follows recency and, weakly, the surveys' sentiment; and the
    manager's read when `csm_informative`."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        signals = dict.fromkeys(FEATURES, 50.0)
        signals["usage.recency"] = rng.uniform(0, 100)
        signals["usage.frequency"] = rng.uniform(5, 95)
        signals["sentiment"] = rng.uniform(0, 100)
        signals[CSM] = rng.choice((0.0, 25.0, 50.0, 75.0, 100.0)) if with_assessments else 50.0
        z = 2.0 - 3.0 * signals["usage.recency"] / 100 - 1.0 * signals["sentiment"] / 100
        if csm_informative:
            z += 2.0 - 4.0 * signals[CSM] / 100
        churned = rng.random() < 1 / (1 + math.exp(-z))
        reading = AtCutoff(day(100), 50.0, "at_risk", None, signals, {})
        out.append(Row(f"c{i}", None, reading, churned))
    return out


def _calibrated(table: list[Row]) -> dict[str, Any]:
    base = yaml.safe_load(resource("scoring.yaml").read_text(encoding="utf-8"))
    result = calibrate(
        table,
        load_policy(),
        base,
        train_cutoff=day(100),
        validate_cutoff=day(100),
        horizon=90 * 86_400.0,
        sources=["test"],
        draws=0,
    )
    assert result.document is not None
    return result.document


def test_calibrate_weighs_the_assessment_like_any_signal() -> None:
    informative = _calibrated(_rows(4_000, 1, csm_informative=True))
    noise = _calibrated(_rows(4_000, 2, csm_informative=False))
    w, w_noise = informative["sentiment"]["weights"], noise["sentiment"]["weights"]
    assert w["csm"] > 0.5  # it predicts churn better than the surveys' sentiment
    assert w_noise["csm"] < w["csm"]
    # the surveys keep their own proportions; the weights make a valid policy
    assert pytest.approx(0.5 / 0.3, rel=1e-2) == w["nps"] / w["csat"]
    for doc in (informative, noise):
        parse_policy(doc)
    # the component takes both sentiment signals' weight
    assert (
        informative["segments"]["default"]["sentiment"] > noise["segments"]["default"]["sentiment"]
    )


def test_a_history_without_assessments_leaves_their_weight_as_it_was() -> None:
    table = _rows(2_000, 3, csm_informative=False, with_assessments=False)
    assert CSM not in features(table)
    doc = _calibrated(table)
    shipped = yaml.safe_load(resource("scoring.yaml").read_text(encoding="utf-8"))
    assert shipped["sentiment"]["weights"] == doc["sentiment"]["weights"]
    assert set(SURVEY_MEASURES) < set(doc["sentiment"]["weights"])


def test_a_customer_with_an_assessment_puts_it_among_the_fitted_signals() -> None:
    state = build([account(day(0)), *daily_sessions(0, 10), assessed(day(10), 1)])
    read = signals(state, POLICY, day(10))
    assert 0.0 == read[CSM]
    assert CSM in features(
        [Row("x", None, AtCutoff(day(10), 50.0, "at_risk", None, read, {}), True)]
    )
