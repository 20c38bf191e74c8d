"""The managers' pages served by a real worker and read in a real headless browser (Debian's
chromium): the portfolio sorted by risk, a manager's own customers, a customer's page with its
drivers and open alert, the history as JSON. With HEALTHSCORE_SCREENSHOTS set to a directory,
the test also saves the screenshots the docs show (`make screenshots`)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from .conftest import Stack, wait_for
from .harness import Run, Topics, produce
from .histories import Doc, declining, doc, every_day, healthy


def browser(*args: str, timeout: float = 90) -> str:
    """Run headless chromium; its standard output (the DOM with --dump-dom)."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is needed (apt-get install chromium); `make test` installs it")
    done = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def rows(dom: str) -> list[str]:
    """The customer ids of the portfolio table, top to bottom, as the browser has them."""
    return re.findall(r'<td><a href="/customers/[^"]+">([^<]+)</a></td>', dom)


def serve(run: Run, stack: Stack, topics: Topics, docs: list[Doc]) -> str:
    """Start the worker, feed it `docs` and wait until it settled; its base URL."""
    run.start()
    produce(stack, topics, docs)
    run.wait_drained()
    run.wait_quiet()
    return f"http://127.0.0.1:{run.procs[0][1]}"


def test_the_pages_in_a_browser(stack: Stack, tmp_path: Path) -> None:
    topics = Topics()
    run = Run(stack, topics, tmp_path)
    docs = [
        *every_day("pg-steady", 60),
        *healthy("pg-happy"),
        *declining("pg-slipping"),
        *declining("pg-lost", days=45),
        doc("account", "account_updated", "pg-lost", 1, owner="ana@example.com"),
        doc("account", "account_updated", "pg-happy", 1, owner="ana@example.com"),
    ]
    try:
        base = serve(run, stack, topics, docs)

        everyone = rows(browser("--dump-dom", f"{base}/portfolio"))
        assert {"pg-steady", "pg-happy", "pg-slipping", "pg-lost"} == set(everyone)
        bands = {cid: run.http_health(cid)[1] for cid in everyone}
        order = {"critical": 0, "at_risk": 1, "healthy": 2}
        ranks = [(order[bands[c]["band"]], bands[c]["score"]) for c in everyone]
        assert ranks == sorted(ranks)  # most at risk first, lowest score first within a band
        assert order[bands[everyone[0]]["band"]] < 2  # a declining customer on top

        anas = rows(browser("--dump-dom", f"{base}/portfolio?owner=ana%40example.com"))
        assert ["pg-lost", "pg-happy"] == anas

        page = browser("--dump-dom", f"{base}/customers/pg-lost")
        assert "Why this score" in page
        assert "Open alert" in page
        assert 'role="img"' in page
        assert "score over " in page
        url = f"{base}/customers/pg-lost/history"
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - http://127.0.0.1
            history = json.loads(r.read())
        assert history["days"]
        assert all(0 <= d["score"] <= 100 for d in history["days"] if d["score"] is not None)

        shots = Path(os.environ.get("HEALTHSCORE_SCREENSHOTS") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        for name, path in (("portfolio", "/portfolio"), ("customer", "/customers/pg-lost")):
            target = shots / f"{name}.png"
            browser(f"--screenshot={target}", "--window-size=1200,900", base + path)
            assert target.stat().st_size > 10_000  # a rendered page, not an empty one
        wait_for(lambda: run.readiness()[0] == 200, 30, "the worker ready")
    finally:
        run.stop_all()


def cells(dom: str) -> list[list[str]]:
    """The worklist table's rows as the browser has them: each row's cells, tags stripped."""
    body = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]

    def text(cell: str) -> str:
        return " ".join(re.sub(r"<[^>]+>", " ", cell).split())

    return [
        [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    ]


def test_a_managers_worklist_in_a_browser(stack: Stack, tmp_path: Path) -> None:
    """Open alerts first, then the highest revenue at risk; each row with its reasons and the
    policy's next step for the rule that leads its alert."""
    from stream.i18n import next_step, words
    from stream.resources import load_policy

    en = words("en")
    owner = "bo@example.com"
    topics = Topics()
    run = Run(stack, topics, tmp_path)
    docs = [
        *declining("wl-alerted", days=45),
        *every_day("wl-big", 45),
        *every_day("wl-small", 45),
        *declining("wl-someone-else", days=45),
        doc("account", "account_updated", "wl-big", 1, owner=owner, mrr=90_000.0),
        doc("account", "account_updated", "wl-small", 1, owner=owner, mrr=300.0),
        doc("account", "account_updated", "wl-alerted", 1, owner=owner),
    ]
    try:
        base = serve(run, stack, topics, docs)
        dom = browser("--dump-dom", f"{base}/worklist?owner=bo%40example.com")
        assert "Worklist of bo@example.com" in dom
        assert ["wl-alerted", "wl-big", "wl-small"] == rows(dom)  # the owner's only
        table = cells(dom)
        health = {cid: run.http_health(cid)[1] for cid in rows(dom)}
        alerted = run.records()["wl-alerted"].alerts.open
        assert alerted is not None, "the declining customer has an open alert"
        steps = load_policy().alerts.next_steps
        first, big, small = table
        assert en.list([en.say("rule", rule=r) for r in alerted.rules]) == first[4]
        assert next_step(en, alerted.rule, steps) == first[6]
        assert en(alerted.reasons[0]) in first[5]
        # no alert: ranked by revenue at risk, largest first, with the review step
        assert (big[4], small[4]) == ("none", "none")
        assert next_step(en, "review", steps) == big[6] == small[6]
        revenue = [health[c]["revenue_at_risk"] for c in ("wl-big", "wl-small")]
        assert revenue == sorted(revenue, reverse=True)
        assert f"{revenue[0]:,.0f}" in big[1]
        assert "uncalibrated" in big[1]  # the shipped policy carries no calibration
        asked = browser("--dump-dom", f"{base}/worklist")
        assert "Whose worklist?" in asked
        shots = Path(os.environ.get("HEALTHSCORE_SCREENSHOTS") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        target = shots / "worklist.png"
        browser(
            f"--screenshot={target}",
            "--window-size=1200,700",
            base + "/worklist?owner=bo%40example.com",
        )
        assert target.stat().st_size > 10_000
    finally:
        run.stop_all()


def covered() -> list[tuple[int, int]]:
    """The code points some installed font has a glyph for (fontconfig's charsets, which
    chromium's font fallback draws from on Linux)."""
    if shutil.which("fc-list") is None:
        pytest.fail("fontconfig is needed (apt-get install fontconfig); `make test` installs it")
    listed = subprocess.run(
        ["fc-list", "--format", "%{charset}\\n"], capture_output=True, text=True, check=True
    ).stdout
    spans = []
    for part in listed.split():
        low, _, high = part.partition("-")
        spans.append((int(low, 16), int(high or low, 16)))
    return spans


def missing_glyphs(text: str, spans: list[tuple[int, int]]) -> set[str]:
    """The characters of `text` no installed font can draw: the boxes a reader would see."""
    return {c for c in set(text) if not c.isspace() and not any(a <= ord(c) <= b for a, b in spans)}


def visible(dom: str) -> str:
    body = dom.split("<body>", 1)[1]
    body = re.sub(r"<style>.*?</style>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_the_pages_in_four_languages_in_a_browser(stack: Stack, tmp_path: Path) -> None:
    """The customer page and the worklist in English, Russian, Latvian and Chinese as chromium
    renders them: the reader's words (by ?lang= and by Accept-Language), every character
    drawable by an installed font (no missing-glyph boxes), and a screenshot of each."""
    from scoring.words import say
    from stream.i18n import LOCALES, next_step, words
    from stream.resources import load_policy

    owner = "ana@example.com"
    topics = Topics()
    run = Run(stack, topics, tmp_path)
    docs = [
        *declining("ln-slipping", days=45),
        *every_day("ln-steady", 45),
        doc("account", "account_updated", "ln-slipping", 1, owner=owner, mrr=4_200.0),
        doc("account", "account_updated", "ln-steady", 1, owner=owner, mrr=900.0),
    ]
    spans = covered()
    shots = Path(os.environ.get("HEALTHSCORE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    steps = load_policy().alerts.next_steps
    try:
        base = serve(run, stack, topics, docs)
        record = run.records()["ln-slipping"]
        alert, band = record.alerts.open, record.band()
        assert alert is not None, "the declining customer has an open alert"
        for locale in LOCALES:
            w = words(locale)
            pages = {
                "customer": f"/customers/ln-slipping?lang={locale}",
                "worklist": f"/worklist?owner=ana%40example.com&lang={locale}",
            }
            for name, path in pages.items():
                dom = browser("--dump-dom", base + path)
                text = visible(dom)
                tag = {"zh": "zh-Hans"}.get(locale, locale)
                assert f'<html lang="{tag}">' in dom, (locale, name)
                assert w(alert.reasons[0]) in text, (locale, name)
                assert missing_glyphs(text, spans) == set(), (locale, name)
                target = shots / f"{name}-{locale}.png"
                browser(f"--screenshot={target}", "--window-size=1200,900", base + path)
                assert target.stat().st_size > 10_000, target
            customer = visible(browser("--dump-dom", base + pages["customer"]))
            assert w.say("page-why-this-score") in customer
            assert w.say("band", band=band or "") in customer
            worklist = visible(browser("--dump-dom", base + pages["worklist"]))
            assert next_step(w, alert.rule, steps) in worklist
            assert w.say("page-worklist-of", owner=owner) in worklist
            if locale != "en":
                assert "Why this score" not in customer
                assert "Next step" not in worklist
        # no ?lang=: the browser's own language (Accept-Language) decides
        url = f"{base}/customers/ln-slipping"
        asked = visible(browser("--accept-lang=lv,en;q=0.5", "--dump-dom", url))
        assert words("lv").say("page-why-this-score") in asked
        assert words("lv")(say("page-no-open-alert")) not in asked  # it has one open
    finally:
        run.stop_all()


def test_a_managers_assessment_moves_the_score_and_shows_on_the_page(
    stack: Stack, tmp_path: Path
) -> None:
    """Two customers alike but for their manager's read: the one rated 1/5 scores below the
    one rated 5/5, and its page, read in chromium, shows the assessment (rating, author, how
    long ago) in the reader's words; a rating out of range is a dead letter with its reason."""
    from scoring.drivers import CSM
    from stream.i18n import words

    from .harness import read_dead_letters
    from .histories import DAY

    topics = Topics()
    run = Run(stack, topics, tmp_path)
    author = "ana@csm.example"
    docs = [
        *healthy("ca-low"),
        *healthy("ca-high"),
        doc("account", "csm_assessment", "ca-low", 20 * DAY, rating=1, author=author, note="x"),
        doc("account", "csm_assessment", "ca-high", 20 * DAY, rating=5, author=author),
        doc("account", "csm_assessment", "ca-high", 21 * DAY, rating=6, author=author),
    ]
    try:
        base = serve(run, stack, topics, docs)
        low, high = run.http_health("ca-low")[1], run.http_health("ca-high")[1]
        assert low["score"] < high["score"]
        assert low["components"]["sentiment"] < high["components"]["sentiment"]
        drivers = {d["signal"]: d for d in low["drivers"]}
        assert CSM in drivers
        days = drivers[CSM]["message"]["params"]["days"]
        assert days >= 9  # the assessment is from day 20 of a 30-day history
        record = run.records()["ca-low"]
        assert record.state is not None
        assert 1 == record.state.attributes["csm_rating"].value

        for locale in ("en", "ru"):
            w = words(locale)
            said = w.say("sentiment-csm", rating=1, author=author, days=days)
            page = visible(browser("--dump-dom", f"{base}/customers/ca-low?lang={locale}"))
            assert said in page, (locale, page[-800:])
            assert w.say("component", component="sentiment") in page
        assert "manager's assessment 5/5 (ana@csm.example)" in visible(
            browser("--dump-dom", f"{base}/customers/ca-high")
        )

        letters = read_dead_letters(stack, topics.dlq)
        assert 1 == len(letters)
        payload, headers = letters[0]
        assert '"rating":6' in payload.replace(" ", "")
        assert "rating" == headers["dlq.field"]
        assert "an integer from 1 to 5" in headers["dlq.error"]
    finally:
        run.stop_all()
