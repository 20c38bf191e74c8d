"""The pages customer success managers read: a portfolio (customers sorted by risk) and one page
per customer (score, band, trend, drivers in words, the open alert). Server-rendered HTML with
inline CSS and SVG: no script, no build step, readable without colour (every band is also
written out) and by screen readers (tables with headers, the trend described in words).

Rendering is pure: the HTTP views in `stream.app` read Redis and pass the records in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from stream.store.record import Record

BAND_LABEL = {"critical": "Critical", "at_risk": "At risk", "healthy": "Healthy"}
BAND_COLOUR = {"critical": "#b3261e", "at_risk": "#8a5a00", "healthy": "#1e6b35"}

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;
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
form{margin:8px 0}input{font:inherit;padding:4px 6px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:12px 0 0}
dt{color:#555}dd{margin:0}
"""


@dataclass(frozen=True)
class Row:
    """A customer on the portfolio page."""

    record: Record
    health: dict[str, Any] | None


def page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body></html>"
    )


def band_badge(band: str | None) -> str:
    if band is None:
        return '<span class="muted">not scored yet</span>'
    return (
        f'<span class="band" style="background:{BAND_COLOUR.get(band, "#555")}">'
        f"{escape(BAND_LABEL.get(band, band))}</span>"
    )


def day_text(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")


def sparkline(history: Sequence[tuple[int, int | None]], width: int = 180, height: int = 36) -> str:
    """The daily score as an inline SVG line (a day without a point carries the last one),
    with its description for screen readers."""
    points: list[tuple[int, int]] = []
    last: int | None = None
    for i, (_, value) in enumerate(history):
        last = value if value is not None else last
        if last is not None:
            points.append((i, last))
    if not points:
        return '<span class="muted">no history yet</span>'
    first_day, last_day = history[0][0], history[-1][0]
    described = (
        f"score over {len(history)} days, from {points[0][1]} on {day_text(first_day)} "
        f"to {points[-1][1]} on {day_text(last_day)}"
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


def portfolio_page(
    rows: Sequence[Row],
    *,
    owner: str | None,
    total: int,
    offset: int,
    limit: int,
) -> str:
    """A manager's customers (or everyone's), most at risk first."""
    who = f"{owner}'s customers" if owner else "All customers"
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
            f'<td class="num">{"" if r.score() is None else f"{r.score():.0f}"}</td>'
            f"<td>{band_badge(r.band())}</td>"
            f"<td>{sparkline(r.history(), 120, 28)}</td>"
            f"<td>{top}</td>"
            f"<td>{escape(', '.join(alert.rules)) if alert else ''}</td>"
            f"<td>{escape(r.state.owner or '') if r.state else ''}</td>"
            "</tr>"
        )
    shown = f"{offset + 1}-{offset + len(rows)} of {total:,}" if rows else f"none of {total:,}"
    nav = []
    query = {"owner": owner} if owner else {}
    if offset > 0:
        back = urlencode({**query, "offset": max(0, offset - limit)})
        nav.append(f'<a href="/portfolio?{escape(back)}" rel="prev">Previous {limit}</a>')
    if offset + len(rows) < total:
        more = urlencode({**query, "offset": offset + limit})
        nav.append(f'<a href="/portfolio?{escape(more)}" rel="next">Next {limit}</a>')
    body = (
        f"<header><h1>{escape(who)}</h1>"
        f'<p class="muted">Most at risk first: critical, then at risk, then healthy; lowest '
        f"score first within a band. Showing {shown}.</p>"
        '<form method="get" action="/portfolio"><label>Owner <input name="owner" '
        f'value="{escape(owner or "")}" autocomplete="off"></label> '
        '<button type="submit">Show</button></form></header><main>'
        '<table><caption class="muted" style="text-align:left">Customers by risk</caption>'
        '<thead><tr><th scope="col">Customer</th><th scope="col">Score</th>'
        '<th scope="col">Band</th><th scope="col">Last 90 days</th>'
        '<th scope="col">Biggest drag</th><th scope="col">Open alert</th>'
        '<th scope="col">Owner</th></tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table>"
        f"<nav>{''.join(nav)}</nav></main>"
    )
    return page(who, body)


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


def _money(health: dict[str, Any] | None) -> str:
    revenue = health.get("revenue_at_risk") if health else None
    if revenue is None:
        return '<span class="muted">no MRR</span>'
    note = "" if health and health.get("revenue_at_risk_calibrated") else (
        ' <span class="muted" title="MRR x relative risk: the policy has no calibration">'
        "(uncalibrated)</span>"
    )  # fmt: skip
    return f"{revenue:,.0f}{note}"


def worklist_page(
    rows: Sequence[Row],
    *,
    owner: str | None,
    scanned: int,
    book: int,
    next_steps: Mapping[str, str],
    limit: int = WORKLIST_ROWS,
) -> str:
    """A manager's customers to act on this week: open alerts first, then the highest revenue
    at risk, each with its reasons and a suggested next step (the policy's, per rule)."""
    form = (
        '<form method="get" action="/worklist"><label>Owner <input name="owner" '
        f'value="{escape(owner or "")}" autocomplete="off" required></label> '
        '<button type="submit">Show</button></form>'
    )
    if owner is None:
        body = (
            "<header><h1>Worklist</h1><p>Whose worklist? A manager's customers to act on this "
            f"week.</p>{form}</header>"
        )
        return page("Worklist", body)
    shown = worklist_order(rows)[:limit]
    lines = []
    for row in shown:
        r, h = row.record, row.health
        alert = r.alerts.open
        if alert is not None:
            reasons = list(alert.reasons)
            step = next_steps.get(alert.rule, next_steps["review"])
            what = f"{escape(', '.join(alert.rules))}"
        else:
            drivers = [d for d in (h or {}).get("drivers", []) if d.get("impact", 0) < 0]
            reasons = [d["detail"] for d in drivers[:3]]
            step = next_steps["review"]
            what = '<span class="muted">none</span>'
        items = "".join(f"<li>{escape(x)}</li>" for x in reasons) or "<li>-</li>"
        lines.append(
            "<tr>"
            f'<td><a href="{customer_link(r.customer_id)}">{escape(r.customer_id)}</a></td>'
            f'<td class="num">{_money(h)}</td>'
            f'<td class="num">{"" if r.score() is None else f"{r.score():.0f}"}</td>'
            f"<td>{band_badge(r.band())}</td>"
            f"<td>{what}</td>"
            f"<td><ul>{items}</ul></td>"
            f"<td>{escape(step)}</td>"
            "</tr>"
        )
    alerts = sum(1 for row in rows if row.record.alerts.open is not None)
    partial = (
        f" Only the {scanned:,} most at risk of {book:,} customers were read."
        if scanned < book
        else ""
    )
    body = (
        f'<header><nav><a href="/portfolio?{escape(urlencode({"owner": owner}))}">'
        f"{escape(owner)}'s portfolio</a></nav><h1>{escape(owner)}'s worklist</h1>"
        f'<p class="muted">This week\'s customers to act on: the {alerts} with an open alert '
        "first, then the highest revenue at risk (MRR x churn probability; x relative risk where "
        "uncalibrated), largest first. "
        f"Showing {len(shown)} of {book:,} customers.{partial}</p>{form}</header><main>"
        '<table><caption class="muted" style="text-align:left">Customers to act on</caption>'
        '<thead><tr><th scope="col">Customer</th><th scope="col">Revenue at risk</th>'
        '<th scope="col">Score</th><th scope="col">Band</th><th scope="col">Open alert</th>'
        '<th scope="col">Why</th><th scope="col">Next step</th></tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table></main>"
    )
    return page(f"{owner}'s worklist", body)


def customer_page(record: Record, health: dict[str, Any] | None) -> str:
    """One customer: score, band, trend, drivers in words, the open alert."""
    cid = record.customer_id
    state = record.state
    facts = []
    if state is not None:
        facts = [
            ("Owner", state.owner or "unassigned"),
            ("Segment", state.segment or "unknown"),
        ]
    if health is not None:
        facts += [
            ("Confidence", f"{health['confidence']:.0%}"),
            ("As of", health["as_of"]),
            ("Model", health["model"]),
        ]
    score = "" if record.score() is None else f"{record.score():.0f}"
    drivers = ""
    if health is not None:
        items = "".join(
            f'<li>{escape(d["detail"])} <span class="muted">({d["impact"]:+.1f} points)</span></li>'
            for d in health.get("drivers", [])
        )
        drivers = f"<h2>Why this score</h2><ul>{items}</ul>"
        components = "".join(
            f'<tr><th scope="row">{escape(name.capitalize())}</th>'
            f'<td class="num">{"-" if v is None else f"{v:.0f}"}</td></tr>'
            for name, v in health.get("components", {}).items()
        )
        drivers += (
            '<h2>Components</h2><table style="width:auto"><thead><tr><th scope="col">Component'
            f'</th><th scope="col">Score</th></tr></thead><tbody>{components}</tbody></table>'
        )
    alert = record.alerts.open
    alert_html = '<p class="muted">No open alert.</p>'
    if alert is not None:
        reasons = "".join(f"<li>{escape(x)}</li>" for x in alert.reasons)
        raised = datetime.fromtimestamp(alert.raised_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        alert_html = (
            f'<div class="card alert"><strong>{escape(alert.severity.capitalize())}</strong>: '
            f"{escape(', '.join(alert.rules))}, open since {raised}<ul>{reasons}</ul></div>"
        )
    history = record.history()
    listed = "".join(
        f'<tr><td>{day_text(day)}</td><td class="num">{"" if v is None else v}</td></tr>'
        for day, v in history[-14:]
    )
    body = (
        '<header><nav><a href="/portfolio">Portfolio</a>'
        + (
            f'<a href="/portfolio?{escape(urlencode({"owner": state.owner}))}">'
            f"{escape(state.owner)}'s customers</a>"
            if state is not None and state.owner
            else ""
        )
        + f"</nav><h1>{escape(cid)}</h1></header><main>"
        f'<div class="card"><span class="score">{score}</span> {band_badge(record.band())} '
        f"{sparkline(history, 360, 60)}<dl>"
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
        + "</dl></div><h2>Open alert</h2>"
        + alert_html
        + drivers
        + '<h2>Last 14 days</h2><table style="width:auto"><thead><tr><th scope="col">Day</th>'
        f'<th scope="col">Score</th></tr></thead><tbody>{listed}</tbody></table>'
        f'<p class="muted"><a href="{customer_link(cid)}/health">JSON</a> · '
        f'<a href="{customer_link(cid)}/history">history as JSON</a></p></main>'
    )
    return page(f"{cid}: customer health", body)


def login_page(failed: bool) -> str:
    """The form that takes the worker's token for a browser (HEALTHSCORE_WEB_TOKEN)."""
    note = '<p role="alert">That is not the token.</p>' if failed else ""
    body = (
        "<header><h1>Sign in</h1></header><main>"
        f'{note}<form method="post" action="/login"><label>The worker\'s token '
        '<input name="token" type="password" autocomplete="current-password" required>'
        '</label> <button type="submit">Sign in</button></form></main>'
    )
    return page("Sign in: customer health", body)


def history_json(record: Record) -> dict[str, Any]:
    """`GET /customers/{id}/history`: the daily score, oldest first (null: no evaluation)."""
    return {
        "customer_id": record.customer_id,
        "days": [{"date": day_text(d), "score": v} for d, v in record.history()],
    }
