"""The managers' pages as HTML: what they say, escaped, with the trend described in words."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from stream.i18n import LOCALES, next_step, words
from stream.resources import load_policy
from stream.store import Record
from stream.web.pages import (
    Row,
    customer_page,
    history_json,
    portfolio_page,
    sparkline,
    worklist_order,
    worklist_page,
)

from .test_record import a_full_record

POLICY = load_policy()
EN = words("en")


class Text(HTMLParser):
    """The visible text and the elements of a page (a check that it parses as HTML)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.labels: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.labels += [v or "" for k, v in attrs if k == "aria-label"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> Text:
    t = Text()
    t.feed(html)
    return t


def a_customer(cid: str = "acme") -> Record:
    rec = a_full_record()
    rec.customer_id = cid
    day = 20_000 * 86_400.0
    for d, s in enumerate((80, 78, 74, 61, 55)):
        rec.note_trend(day + d * 86_400, s)
    return rec


def test_a_customer_page_shows_score_band_trend_drivers_and_the_open_alert() -> None:
    rec = a_customer()
    page = parsed(customer_page(rec, rec.health_record(POLICY, EN), EN))
    text = " ".join(page.text)
    assert f"{rec.score():.0f}" in text
    assert "At risk" in text
    assert rec.alerts.open is not None
    assert EN(rec.alerts.open.reasons[0]) in text
    assert "Why this score" in text
    assert any(label.startswith("score over 5 days, from 80 on ") for label in page.labels)
    assert {"table", "svg", "ul"} <= set(page.tags)


def test_text_from_events_is_escaped() -> None:
    rec = a_customer('<script>alert("x")</script>')
    html = customer_page(rec, rec.health_record(POLICY), EN)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    listing = portfolio_page([Row(rec, None)], owner="<b>", total=1, offset=0, limit=50, w=EN)
    assert "<script>" not in listing
    assert "<b>" not in listing
    assert "/customers/%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E" in listing


def test_the_portfolio_lists_in_the_order_given_and_pages_on() -> None:
    rows = [Row(a_customer(f"c{i}"), None) for i in range(3)]
    html = portfolio_page(rows, owner="ana", total=120, offset=50, limit=50, w=EN)
    text = " ".join(parsed(html).text)
    assert text.index("c0") < text.index("c1") < text.index("c2")
    assert "Customers of ana" in text
    assert "Showing 51-53 of 120" in text
    assert 'href="/portfolio?owner=ana&amp;lang=en&amp;offset=0"' in html
    assert 'href="/portfolio?owner=ana&amp;lang=en&amp;offset=100"' in html


def test_the_history_fills_gaps_with_null_and_the_sparkline_carries_the_last_point() -> None:
    rec = Record("acme")
    rec.note_trend(20_000 * 86_400.0, 70)
    rec.note_trend(20_003 * 86_400.0, 40)
    days = history_json(rec)["days"]
    assert [d["score"] for d in days] == [70, None, None, 40]
    assert days[0]["date"] == "2024-10-04"
    svg = sparkline(rec.history(), EN)
    assert "from 70 on Oct 4, 2024 to 40 on Oct 7, 2024" in svg
    assert sparkline([], EN) == '<span class="muted">no history yet</span>'


def test_the_worklist_puts_open_alerts_first_then_revenue_at_risk_with_the_next_step() -> None:
    from scoring.alerts import AlertState

    alerted, rich, poor, unknown = (a_customer(c) for c in ("a", "rich", "poor", "nomrr"))
    for quiet in (rich, poor, unknown):
        quiet.alerts = AlertState()
    assert alerted.alerts.open is not None
    money = {"a": 10.0, "rich": 900.0, "poor": 50.0, "nomrr": None}
    rows = [
        Row(r, {"revenue_at_risk": money[r.customer_id], "drivers": [], "score": 50})
        for r in (unknown, poor, rich, alerted)
    ]
    assert ["a", "rich", "poor", "nomrr"] == [r.record.customer_id for r in worklist_order(rows)]
    steps = POLICY.alerts.next_steps
    html = worklist_page(rows, owner="ana", scanned=4, book=4, next_steps=steps, w=EN)
    text = " ".join(" ".join(parsed(html).text).split())
    assert next_step(EN, alerted.alerts.open.rule, steps) in text
    assert next_step(EN, "review", steps) in text
    assert EN(alerted.alerts.open.reasons[0]) in text
    assert "no MRR" in text
    assert "900 (uncalibrated)" in text
    cut = worklist_page(rows, owner="ana", scanned=4, book=9000, next_steps=steps, w=EN, limit=2)
    assert "Only the 4 most at risk of 9,000 customers were read." in " ".join(parsed(cut).text)


def test_a_policys_own_next_step_replaces_the_catalogs_in_its_language() -> None:
    own = {"review": {"lv": "Piezvaniet.", "*": "Call them."}}
    assert "Piezvaniet." == next_step(words("lv"), "review", own)
    assert "Call them." == next_step(words("ru"), "review", own)
    assert next_step(EN, "inactivity", own) == EN.say("next-step", rule="inactivity")


@pytest.mark.parametrize("locale", [x for x in LOCALES if x != "en"])
def test_every_page_speaks_the_readers_language(locale: str) -> None:
    """The customer page, the portfolio and the worklist in another language: its labels,
    bands, reasons and next steps; none of the English labels; a link to each language."""
    w = words(locale)
    rec = a_customer()
    assert rec.alerts.open is not None
    row = Row(rec, rec.health_record(POLICY, w))
    pages = {
        "customer": customer_page(rec, rec.health_record(POLICY, w), w),
        "portfolio": portfolio_page([row], owner="ana", total=1, offset=0, limit=50, w=w),
        "worklist": worklist_page(
            [row], owner="ana", scanned=1, book=1, next_steps=POLICY.alerts.next_steps, w=w
        ),
    }
    for name, html in pages.items():
        text = " ".join(" ".join(parsed(html).text).split())
        assert f'<html lang="{ {"zh": "zh-Hans"}.get(locale, locale) }">' in html, name
        assert w.say("band", band=rec.band() or "") in text, name
        for english in ("Why this score", "Customers of", "Worklist of", "Score", "Owner"):
            assert english not in text, (name, english)
        for other in LOCALES:
            if other != locale:
                assert f'hreflang="{other}"' in html, (name, other)
    customer = " ".join(" ".join(parsed(pages["customer"]).text).split())
    assert w.say("page-why-this-score") in customer
    assert w(rec.alerts.open.reasons[0]) in customer
    worklist = " ".join(" ".join(parsed(pages["worklist"]).text).split())
    assert next_step(w, rec.alerts.open.rule, {}) in worklist
