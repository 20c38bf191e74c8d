"""The pages customer success managers read: a portfolio (customers sorted by risk) and one page
per customer (score, band, trend, drivers in words, the open alert). Server-rendered HTML with
inline CSS and SVG: no script, no build step, readable without colour (every band is also
written out) and by screen readers (tables with headers, the trend described in words).

Every word is the reader's language's (`stream.i18n.Words`: `?lang=`, `Accept-Language`, else
the deployment's), with a link to each of the others on every page.

Rendering is pure: the HTTP views in `stream.app` read Redis and pass the records in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from babel import Locale

from scoring.drivers import assessment_words
from scoring.state import CustomerState
from scoring.words import from_wire
from stream.i18n import LOCALES, Words, next_step
from stream.store.record import Record

BAND_COLOUR = {"critical": "#b3261e", "at_risk": "#8a5a00", "healthy": "#1e6b35"}

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",
"WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1b1b1b;
background:#fafafa}
header,main{max-width:1100px;margin:0 auto;padding:16px 24px}
header{border-bottom:1px solid #ddd;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}
a{color:#0b57d0}table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #e4e4e4;vertical-align:middle}
th{font-size:13px;color:#444;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.band{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:13px}
.muted{color:#555}.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px}
.alert{border-left:4px solid #b3261e}.score{font-size:40px;font-weight:700}
ul{margin:4px 0;padding-left:20px}nav a{margin-right:12px}
.langs{float:right;font-size:13px}.langs a,.langs strong{margin-left:10px}
form{margin:8px 0}input{font:inherit;padding:4px 6px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:12px 0 0}
dt{color:#555}dd{margin:0}
"""


@dataclass(frozen=True)
class Row:
    """A customer on the portfolio page."""

    record: Record
    health: dict[str, Any] | None


# the language tag of a page's <html lang>: Chinese is written in Simplified characters
HTML_LANG = {"zh": "zh-Hans"}


def page(title: str, body: str, w: Words) -> str:
    return (
        f'<!doctype html><html lang="{HTML_LANG.get(w.locale, w.locale)}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body></html>"
    )


def languages(w: Words, path: str, query: Mapping[str, str] | None = None) -> str:
    """Links to the same page in each language, each named in its own language."""
    links = []
    for locale in LOCALES:
        name = Locale.parse(locale).get_display_name(locale) or locale
        name = name[:1].upper() + name[1:]
        if locale == w.locale:
            links.append(f"<strong>{escape(name)}</strong>")
            continue
        href = f"{path}?{urlencode({**(query or {}), 'lang': locale})}"
        links.append(
            f'<a href="{escape(href)}" hreflang="{locale}" lang="{locale}">{escape(name)}</a>'
        )
    label = escape(w.say("page-language"))
    return f'<nav class="langs" aria-label="{label}">{"".join(links)}</nav>'


def band_badge(band: str | None, w: Words) -> str:
    if band is None:
        return f'<span class="muted">{escape(w.say("page-not-scored"))}</span>'
    return (
        f'<span class="band" style="background:{BAND_COLOUR.get(band, "#555")}">'
        f"{escape(w.say('band', band=band))}</span>"
    )


def day_text(day: int) -> str:
    """A day since the epoch as YYYY-MM-DD (the JSON's dates)."""
    return datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")


def sparkline(
    history: Sequence[tuple[int, int | None]], w: Words, width: int = 180, height: int = 36
) -> str:
    """The daily score as an inline SVG line (a day without a point carries the last one),
    with its description for screen readers."""
    points: list[tuple[int, int]] = []
    last: int | None = None
    for i, (_, value) in enumerate(history):
        last = value if value is not None else last
        if last is not None:
            points.append((i, last))
    if not points:
        return f'<span class="muted">{escape(w.say("page-no-history"))}</span>'
    first_day, last_day = history[0][0], history[-1][0]
    described = w.say(
        "page-trend-described",
        days=len(history),
        first=points[0][1],
        first_day=w.date(first_day * 86_400),
        last=points[-1][1],
        last_day=w.date(last_day * 86_400),
    )
    span = max(1, len(history) - 1)
    xy = " ".join(
        f"{2 + (width - 4) * i / span:.1f},{2 + (height - 4) * (100 - v) / 100:.1f}"
        for i, v in points
    )
    colour = "#b3261e" if points[-1][1] < 50 else "#1e6b35"
    mid = 2 + (height - 4) / 2  # the score 50
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(described)}"><title>{escape(described)}</title>'
        f'<line x1="0" x2="{width}" y1="{mid:.1f}" y2="{mid:.1f}" '
        'stroke="#ccc" stroke-dasharray="2 3"/>'
        f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{xy}"/></svg>'
    )


def customer_link(customer_id: str) -> str:
    return f"/customers/{quote(customer_id, safe='')}"


def _headings(*labels: str) -> str:
    return "".join(f'<th scope="col">{escape(label)}</th>' for label in labels)


def _rules(rules: Sequence[str], w: Words) -> str:
    return w.list([w.say("rule", rule=r) for r in rules])


def portfolio_page(
    rows: Sequence[Row],
    *,
    owner: str | None,
    total: int,
    offset: int,
    limit: int,
    w: Words,
) -> str:
    """A manager's customers (or everyone's), most at risk first."""
    who = w.say("page-customers-of", owner=owner) if owner else w.say("page-all-customers")
    lines = []
    for row in rows:
        r, h = row.record, row.health
        alert = r.alerts.open
        top = ""
        if h is not None:
            worst = [d for d in h.get("drivers", []) if d.get("impact", 0) < 0]
            top = escape(worst[0]["detail"]) if worst else ""
        lines.append(
            "<tr>"
            f'<td><a href="{customer_link(r.customer_id)}">{escape(r.customer_id)}</a></td>'
            f'<td class="num">{"" if r.score() is None else w.number(r.score() or 0.0)}</td>'
            f"<td>{band_badge(r.band(), w)}</td>"
            f"<td>{sparkline(r.history(), w, 120, 28)}</td>"
            f"<td>{top}</td>"
            f"<td>{escape(_rules(alert.rules, w)) if alert else ''}</td>"
            f"<td>{escape(r.state.owner or '') if r.state else ''}</td>"
            "</tr>"
        )
    if rows:
        intro = w.say(
            "page-portfolio-intro",
            first=offset + 1,
            last=offset + len(rows),
            total=total,
        )
    else:
        intro = w.say("page-portfolio-empty", total=total)
    nav = []
    query = {"owner": owner} if owner else {}
    lang = {"lang": w.locale}
    if offset > 0:
        back = urlencode({**query, **lang, "offset": max(0, offset - limit)})
        prev = escape(w.say("page-previous", count=limit))
        nav.append(f'<a href="/portfolio?{escape(back)}" rel="prev">{prev}</a>')
    if offset + len(rows) < total:
        more = urlencode({**query, **lang, "offset": offset + limit})
        nxt = escape(w.say("page-next", count=limit))
        nav.append(f'<a href="/portfolio?{escape(more)}" rel="next">{nxt}</a>')
    body = (
        f"<header>{languages(w, '/portfolio', {**query, 'offset': str(offset)})}"
        f"<h1>{escape(who)}</h1>"
        f'<p class="muted">{escape(intro)}</p>'
        f'<form method="get" action="/portfolio"><label>{escape(w.say("page-owner"))} '
        f'<input name="owner" value="{escape(owner or "")}" autocomplete="off"></label> '
        f'<input type="hidden" name="lang" value="{w.locale}">'
        f'<button type="submit">{escape(w.say("page-show"))}</button></form></header><main>'
        f'<table><caption class="muted" style="text-align:left">'
        f"{escape(w.say('page-by-risk'))}</caption><thead><tr>"
        + _headings(
            w.say("page-customer"),
            w.say("page-score"),
            w.say("page-band"),
            w.say("page-last-90-days"),
            w.say("page-biggest-drag"),
            w.say("page-open-alert"),
            w.say("page-owner"),
        )
        + f"</tr></thead><tbody>{''.join(lines)}</tbody></table>"
        f"<nav>{''.join(nav)}</nav></main>"
    )
    return page(who, body, w)


WORKLIST_ROWS = 25  # customers on a manager's worklist: what a week can hold


def worklist_order(rows: Sequence[Row]) -> list[Row]:
    """The customers to act on first: those with an open alert, then the rest, each by revenue
    at risk (largest first; unknown last), then by score (lowest first)."""

    def key(row: Row) -> tuple[int, float, float]:
        revenue = row.health.get("revenue_at_risk") if row.health else None
        score = row.record.score()
        return (
            0 if row.record.alerts.open is not None else 1,
            -(revenue if revenue is not None else -1.0),
            score if score is not None else 101.0,
        )

    return sorted(rows, key=key)


def _money(health: dict[str, Any] | None, w: Words) -> str:
    revenue = health.get("revenue_at_risk") if health else None
    if revenue is None:
        return f'<span class="muted">{escape(w.say("page-no-mrr"))}</span>'
    note = ""
    if not (health and health.get("revenue_at_risk_calibrated")):
        title = escape(w.say("page-uncalibrated-title"))
        note = f' <span class="muted" title="{title}">{escape(w.say("page-uncalibrated"))}</span>'
    return f"{escape(w.number(revenue))}{note}"


def _driver_words(d: dict[str, Any], w: Words) -> str:
    """A driver of a health record in the page's words (its message, when it has one)."""
    message = from_wire(d.get("message"))
    return w(message) if message is not None else str(d.get("detail", ""))


def worklist_page(
    rows: Sequence[Row],
    *,
    owner: str | None,
    scanned: int,
    book: int,
    next_steps: Mapping[str, Mapping[str, str]],
    w: Words,
    limit: int = WORKLIST_ROWS,
) -> str:
    """A manager's customers to act on this week: open alerts first, then the highest revenue
    at risk, each with its reasons and a suggested next step (the catalog's per rule, or the
    policy's own)."""
    query = {"owner": owner} if owner else {}
    form = (
        f'<form method="get" action="/worklist"><label>{escape(w.say("page-owner"))} '
        f'<input name="owner" value="{escape(owner or "")}" autocomplete="off" required></label> '
        f'<input type="hidden" name="lang" value="{w.locale}">'
        f'<button type="submit">{escape(w.say("page-show"))}</button></form>'
    )
    switch = languages(w, "/worklist", query)
    if owner is None:
        title = w.say("page-worklist")
        body = (
            f"<header>{switch}<h1>{escape(title)}</h1>"
            f"<p>{escape(w.say('page-worklist-whose'))}</p>{form}</header>"
        )
        return page(title, body, w)
    shown = worklist_order(rows)[:limit]
    lines = []
    for row in shown:
        r, h = row.record, row.health
        alert = r.alerts.open
        if alert is not None:
            reasons = [w(m) for m in alert.reasons]
            step = next_step(w, alert.rule, next_steps)
            what = escape(_rules(alert.rules, w))
        else:
            drivers = [d for d in (h or {}).get("drivers", []) if d.get("impact", 0) < 0]
            reasons = [_driver_words(d, w) for d in drivers[:3]]
            step = next_step(w, "review", next_steps)
            what = f'<span class="muted">{escape(w.say("page-none"))}</span>'
        items = "".join(f"<li>{escape(x)}</li>" for x in reasons) or "<li>-</li>"
        lines.append(
            "<tr>"
            f'<td><a href="{customer_link(r.customer_id)}">{escape(r.customer_id)}</a></td>'
            f'<td class="num">{_money(h, w)}</td>'
            f'<td class="num">{"" if r.score() is None else w.number(r.score() or 0.0)}</td>'
            f"<td>{band_badge(r.band(), w)}</td>"
            f"<td>{what}</td>"
            f"<td><ul>{items}</ul></td>"
            f"<td>{escape(step)}</td>"
            "</tr>"
        )
    alerts = sum(1 for row in rows if row.record.alerts.open is not None)
    intro = w.say("page-worklist-intro", alerts=alerts, shown=len(shown), book=book)
    if scanned < book:
        intro += " " + w.say("page-worklist-partial", scanned=scanned, book=book)
    title = w.say("page-worklist-of", owner=owner)
    portfolio = urlencode({"owner": owner, "lang": w.locale})
    body = (
        f'<header>{switch}<nav><a href="/portfolio?{escape(portfolio)}">'
        f"{escape(w.say('page-portfolio-of', owner=owner))}</a></nav><h1>{escape(title)}</h1>"
        f'<p class="muted">{escape(intro)}</p>{form}</header><main>'
        '<table><caption class="muted" style="text-align:left">'
        f"{escape(w.say('page-to-act-on'))}</caption><thead><tr>"
        + _headings(
            w.say("page-customer"),
            w.say("page-revenue-at-risk"),
            w.say("page-score"),
            w.say("page-band"),
            w.say("page-open-alert"),
            w.say("page-why"),
            w.say("page-next-step"),
        )
        + f"</tr></thead><tbody>{''.join(lines)}</tbody></table></main>"
    )
    return page(title, body, w)


def _moment_of(rfc3339: str, w: Words) -> str:
    try:
        return w.moment(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return rfc3339


def _as_of(health: dict[str, Any] | None, state: CustomerState) -> float | None:
    """The event time the page's score is as of (the state's clock without a score)."""
    if health is not None:
        try:
            return datetime.fromisoformat(str(health["as_of"]).replace("Z", "+00:00")).timestamp()
        except (KeyError, ValueError):
            pass
    return state.clock


def _sentiment_section(state: CustomerState, health: dict[str, Any] | None, w: Words) -> str:
    """The sentiment section: the manager's latest assessment, its rating, who gave it and how
    long before the score's time (the note stays in the event stream)."""
    now = _as_of(health, state)
    said = None if now is None else assessment_words(state, now)
    text = (
        f'<p class="muted">{escape(w.say("page-no-assessment"))}</p>'
        if said is None
        else f'<p id="csm-assessment">{escape(w(said))}</p>'
    )
    return f"<h2>{escape(w.say('component', component='sentiment'))}</h2>{text}"


def customer_page(record: Record, health: dict[str, Any] | None, w: Words) -> str:
    """One customer: score, band, trend, drivers in words, the open alert."""
    cid = record.customer_id
    state = record.state
    facts = []
    if state is not None:
        facts = [
            (w.say("page-owner"), state.owner or w.say("page-unassigned")),
            (w.say("page-segment"), state.segment or w.say("page-unknown")),
        ]
    if health is not None:
        facts += [
            (w.say("page-confidence"), w.percent(health["confidence"])),
            (w.say("page-as-of"), _moment_of(health["as_of"], w)),
            (w.say("page-model"), health["model"]),
        ]
    score = "" if record.score() is None else w.number(record.score() or 0.0)
    drivers = ""
    if health is not None:
        items = "".join(
            f'<li>{escape(_driver_words(d, w))} <span class="muted">'
            f"({escape(w.say('page-points', points=round(d['impact'], 1)))})</span></li>"
            for d in health.get("drivers", [])
        )
        drivers = f"<h2>{escape(w.say('page-why-this-score'))}</h2><ul>{items}</ul>"
        components = "".join(
            f'<tr><th scope="row">{escape(w.say("component", component=name))}</th>'
            f'<td class="num">{"-" if v is None else w.number(v)}</td></tr>'
            for name, v in health.get("components", {}).items()
        )
        drivers += (
            f"<h2>{escape(w.say('page-components'))}</h2>"
            '<table style="width:auto"><thead><tr>'
            f'<th scope="col">{escape(w.say("page-component"))}</th>'
            f'<th scope="col">{escape(w.say("page-score"))}</th></tr></thead>'
            f"<tbody>{components}</tbody></table>"
        )
    if state is not None:
        drivers += _sentiment_section(state, health, w)
    alert = record.alerts.open
    alert_html = f'<p class="muted">{escape(w.say("page-no-open-alert"))}</p>'
    if alert is not None:
        reasons = "".join(f"<li>{escape(w(m))}</li>" for m in alert.reasons)
        since = w.say(
            "page-alert-open-since",
            severity=alert.severity,
            rules=_rules(alert.rules, w),
            since=w.moment(alert.raised_at),
        )
        alert_html = f'<div class="card alert">{escape(since)}<ul>{reasons}</ul></div>'
    history = record.history()
    listed = "".join(
        f"<tr><td>{escape(w.date(day * 86_400))}</td>"
        f'<td class="num">{"" if v is None else v}</td></tr>'
        for day, v in history[-14:]
    )
    lang = {"lang": w.locale}
    owner_link = ""
    if state is not None and state.owner:
        href = "/portfolio?" + urlencode({"owner": state.owner, **lang})
        owner_link = (
            f'<a href="{escape(href)}">{escape(w.say("page-customers-of", owner=state.owner))}</a>'
        )
    body = (
        f"<header>{languages(w, customer_link(cid))}"
        f'<nav><a href="/portfolio?{escape(urlencode(lang))}">{escape(w.say("page-portfolio"))}</a>'
        + owner_link
        + f"</nav><h1>{escape(cid)}</h1></header><main>"
        f'<div class="card"><span class="score">{score}</span> {band_badge(record.band(), w)} '
        f"{sparkline(history, w, 360, 60)}<dl>"
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
        + f"</dl></div><h2>{escape(w.say('page-open-alert'))}</h2>"
        + alert_html
        + drivers
        + f"<h2>{escape(w.say('page-last-14-days'))}</h2>"
        '<table style="width:auto"><thead><tr>'
        f'<th scope="col">{escape(w.say("page-day"))}</th>'
        f'<th scope="col">{escape(w.say("page-score"))}</th></tr></thead>'
        f"<tbody>{listed}</tbody></table>"
        f'<p class="muted"><a href="{customer_link(cid)}/health?{escape(urlencode(lang))}">'
        f"{escape(w.say('page-json'))}</a> · "
        f'<a href="{customer_link(cid)}/history">{escape(w.say("page-history-json"))}</a>'
        "</p></main>"
    )
    return page(w.say("page-customer-title", customer=cid), body, w)


def login_page(failed: bool, w: Words) -> str:
    """The form that takes the worker's token for a browser (HEALTHSCORE_WEB_TOKEN)."""
    note = f'<p role="alert">{escape(w.say("page-wrong-token"))}</p>' if failed else ""
    body = (
        f"<header>{languages(w, '/login')}<h1>{escape(w.say('page-sign-in'))}</h1></header><main>"
        f'{note}<form method="post" action="/login?lang={w.locale}">'
        f"<label>{escape(w.say('page-token'))} "
        '<input name="token" type="password" autocomplete="current-password" required>'
        f'</label> <button type="submit">{escape(w.say("page-sign-in"))}</button></form></main>'
    )
    return page(w.say("page-sign-in-title"), body, w)


def history_json(record: Record) -> dict[str, Any]:
    """`GET /customers/{id}/history`: the daily score, oldest first (null: no evaluation)."""
    return {
        "customer_id": record.customer_id,
        "days": [{"date": day_text(d), "score": v} for d, v in record.history()],
    }
