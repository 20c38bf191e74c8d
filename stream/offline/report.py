"""A backtest's results for people: console tables, and an HTML report with plots (matplotlib)
that a head of customer success can read without knowing what an AUC is."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from scoring.decay import DAY
from scoring.revenue import ALL, COHORT, Month, summary
from stream.offline.backtest import Measured, Report, RuleQuality
from stream.offline.business import BusinessReport, SupportRow
from stream.offline.calibrate import BudgetChoice, PagingChoice

RULE_COLUMNS = (
    "rule",
    "customers alerted",
    "precision",
    "lift",
    "recall",
    "per customer-month",
    "median lead (days)",
)


def rule_cells(q: RuleQuality) -> list[str]:
    """One row of the alert-rule table, console and HTML alike."""
    return [
        q.rule,
        f"{q.alerted:,}",
        _pct(q.precision),
        "-" if q.lift is None else f"{q.lift:.2f}x",
        _pct(q.recall),
        "-" if q.per_customer_month is None else f"{q.per_customer_month:.3f}",
        "-" if q.median_lead_days is None else f"{q.median_lead_days:.0f}",
    ]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _auc(m: Measured | None) -> str:
    if m is None or m.auc is None:
        return "-"
    if m.interval is None:
        return f"{m.auc:.3f}"
    return f"{m.auc:.3f} ({m.interval[0]:.3f}-{m.interval[1]:.3f})"


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def print_report(r: Report, console: Console) -> None:
    """The backtest as console tables."""
    console.print(
        f"[bold]{r.source}[/]: {r.events:,} events ({r.rejected:,} rejected), "
        f"{r.customers:,} customers; scored at {', '.join(_day(c) for c in r.cutoffs)}, "
        f"churn within {r.horizon / DAY:g} days: {r.churners:,} of {r.rows:,} "
        f"({_pct(r.churners / r.rows)}); model {r.policy_model}"
    )
    head = Table(
        "predictor", "churn AUC (95% interval)", title="Does the score rank churners first?"
    )
    head.add_row("[bold]health score[/]", _auc(r.score))
    for m in sorted(r.plain, key=lambda m: -(m.auc or 0.0)):
        head.add_row(f"plain: {m.name}", _auc(m))
    console.print(head)
    bands = Table("band", "customers", "churned", "churn rate", "lift", title="Churn per band")
    for b in r.bands:
        bands.add_row(
            b.band,
            f"{b.customers:,}",
            f"{b.churned:,}",
            _pct(b.rate),
            "-" if b.lift is None else f"{b.lift:.2f}x",
        )
    console.print(bands)
    bins = Table("score", "customers", "churn rate", title="Churn rate by score")
    for lo, n, rate in r.deciles:
        bins.add_row(f"{lo}-{lo + 9 if lo < 90 else 100}", f"{n:,}", _pct(rate))
    console.print(bins)
    if r.calibration:
        cal = Table(
            "predicted",
            "customers",
            "mean predicted",
            "observed",
            title="Calibration of the churn probability",
        )
        for c in r.calibration:
            cal.add_row(
                f"{c.low:.1f}-{c.high:.1f}", f"{c.customers:,}", _pct(c.predicted), _pct(c.observed)
            )
        console.print(cal)
    rules = Table(
        *RULE_COLUMNS,
        title="Alert rules (alerted in the 30 days before a cutoff, or open at it; "
        "'any' is the alerts raised, one per episode)",
    )
    for q in r.rules:
        rules.add_row(*rule_cells(q))
    console.print(rules)
    d = r.to_dict()["lead_time_days"]
    if d["median"] is not None:
        console.print(
            f"lead time: {d['churns_with_alert']:,} churns had an alert within the horizon "
            f"before them, median {d['median']:.0f} days ahead"
        )
    v = r.to_dict()["alert_volume"]
    if v is not None and v["alerts_per_customer_month"] is not None:
        console.print(
            f"alert volume: {v['alerts']:,} alerts ({v['alerts_per_customer_month']:.2f} per "
            f"customer per month, one per episode) from {v['rule_firings']:,} rule firings "
            f"({v['firings_per_customer_month']:.2f}: what one alert per rule would have sent)"
        )
    for e in r.errors[:5]:
        console.print(f"[yellow]rejected[/] {e}")


def _png(fig: object) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")  # type: ignore[attr-defined]
    return base64.b64encode(buf.getvalue()).decode()


def _roc(values: list[float], churned: list[bool]) -> tuple[list[float], list[float]]:
    """ROC points with low values predicting churn."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    pos = sum(churned) or 1
    neg = (len(churned) - sum(churned)) or 1
    tp = fp = 0
    xs, ys = [0.0], [0.0]
    for i in order:
        if churned[i]:
            tp += 1
        else:
            fp += 1
        xs.append(fp / neg)
        ys.append(tp / pos)
    return xs, ys


def write_html(r: Report, path: Path) -> None:
    """The backtest as one self-contained HTML page with its plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    churned = [row.churned for row in r.table]
    figures: list[tuple[str, str]] = []

    fig, ax = plt.subplots(figsize=(5, 4))
    xs, ys = _roc([row.reading.score for row in r.table], churned)
    ax.plot(xs, ys, label=f"health score (AUC {_auc(r.score)})")
    best = r.best_plain
    if best is not None:
        bx, by = _roc([row.reading.plain[best.name] for row in r.table], churned)
        ax.plot(bx, by, "--", label=f"{best.name} (AUC {best.auc:.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    ax.set_xlabel("share of customers who stayed, flagged")
    ax.set_ylabel("share of churners flagged")
    ax.legend(fontsize=7)
    figures.append(
        ("Flagging the lowest scores first: churners caught against false alarms", _png(fig))
    )
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    colours = {"healthy": "#2e7d32", "at_risk": "#f9a825", "critical": "#c62828"}
    ax.bar(
        [b.band for b in r.bands],
        [b.rate * 100 for b in r.bands],
        color=[colours.get(b.band, "grey") for b in r.bands],
    )
    ax.axhline(r.churners / r.rows * 100, color="grey", linestyle=":", label="all customers")
    ax.set_ylabel(f"% churned within {r.horizon / DAY:g} days")
    ax.legend(fontsize=7)
    figures.append(("Churn rate per band", _png(fig)))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar([lo + 5 for lo, _, _ in r.deciles], [rate * 100 for _, _, rate in r.deciles], width=9)
    ax.set_xlabel("health score")
    ax.set_ylabel("% churned")
    figures.append(("Churn rate by score: lower scores should churn more", _png(fig)))
    plt.close(fig)

    if r.calibration:
        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.plot([c.predicted for c in r.calibration], [c.observed for c in r.calibration], "o-")
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set_xlabel("predicted churn probability")
        ax.set_ylabel("observed churn rate")
        figures.append(("Calibration: predicted against observed", _png(fig)))
        plt.close(fig)

    def rows(headers: list[str], body: list[list[str]]) -> str:
        th = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        tr = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body
        )
        return f"<table><tr>{th}</tr>{tr}</table>"

    lead = r.to_dict()["lead_time_days"]
    parts = [
        f"<h1>Health score backtest: {html.escape(r.source)}</h1>",
        f"<p>{r.events:,} events, {r.customers:,} customers, scored at "
        f"{', '.join(_day(c) for c in r.cutoffs)}; {r.churners:,} of {r.rows:,} churned within "
        f"{r.horizon / DAY:g} days ({_pct(r.churners / r.rows)}). Model "
        f"<code>{html.escape(r.policy_model)}</code>.</p>",
        "<h2>Does the score rank churners first?</h2>",
        "<p>The AUC is the chance that a customer who churned scored lower than one who stayed: "
        "0.5 is a coin toss, 1.0 perfect.</p>",
        rows(
            ["predictor", "churn AUC (95% interval)"],
            [["health score", _auc(r.score)]] + [[f"plain: {m.name}", _auc(m)] for m in r.plain],
        ),
        "<h2>Churn per band</h2>",
        rows(
            ["band", "customers", "churned", "churn rate", "lift"],
            [
                [
                    b.band,
                    f"{b.customers:,}",
                    f"{b.churned:,}",
                    _pct(b.rate),
                    "-" if b.lift is None else f"{b.lift:.2f}x",
                ]
                for b in r.bands
            ],
        ),
        "<h2>Alert rules</h2>",
        "<p>Customers alerted in the 30 days before a cutoff: how many churned (precision), and "
        "how many churners were alerted (recall). Lead time: "
        + (
            f"{lead['churns_with_alert']:,} churns had an alert before them, median "
            f"{lead['median']:.0f} days ahead."
            if lead["median"] is not None
            else "no churn event had an alert before it."
        )
        + "</p>",
        rows(list(RULE_COLUMNS), [rule_cells(q) for q in r.rules]),
    ]
    for title, png in figures:
        parts.append(f"<h2>{html.escape(title)}</h2><img src='data:image/png;base64,{png}'>")
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
    )
    path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Backtest: "
        f"{html.escape(r.source)}</title><style>{style}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n",
        encoding="utf-8",
    )


def print_budget(
    choice: BudgetChoice,
    quality: Sequence[RuleQuality],
    console: Console,
    paging: PagingChoice | None = None,
) -> None:
    """What `calibrate` chose for the paging rules and the alert budget, and the alerts they
    gave on validation."""
    if paging is not None and paging.target is not None:
        stopped = ", ".join(f"{r} ({p:.1%})" for r, p in paging.dropped) or "none"
        console.print(
            f"paging rules: {', '.join(paging.kept)}; a rule pages when its precision on the "
            f"training window holds {paging.target:.1%} on new customers (95%); stopped "
            f"paging: {stopped}"
        )
    reached = "-" if choice.per_customer_month is None else f"{choice.per_customer_month:.3f}"
    verdict = "met" if choice.met else "[red]not met even at the strictest setting[/]"
    if choice.strictness > 0:
        way = f"tightened {choice.strictness:.3f}"
    elif choice.strictness < 0:
        way = f"loosened {-choice.strictness:.3f} to spend it"
    else:
        way = "the policy's own thresholds"
    held = ""
    if choice.precision is not None:
        held = f'; "any" alert\'s precision there {choice.precision:.1%}'
        if choice.assured is not None and choice.assured != choice.precision:
            held += f", at least {choice.assured:.1%} on new customers (95%)"
    if choice.held is False:
        kept = ", the surest setting within budget kept" if choice.strictness <= 0 else ""
        held += f"; [yellow]the paging target is not held with that assurance{kept}[/]"
    console.print(
        f"alert budget {choice.budget:g} per customer-month: {reached} on the training window "
        f"at strictness {choice.strictness:.3f}, {way} ({verdict}){held}"
    )
    table = Table(*RULE_COLUMNS, title="Alerts on the validation window, calibrated policy")
    for q in quality:
        table.add_row(*rule_cells(q))
    console.print(table)


# --- the business view (`healthscore report`) ------------------------------------------------


def _money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


MONTH_COLUMNS = (
    "month",
    "start MRR",
    "new",
    "expansion",
    "contraction",
    "churned",
    "reactivation",
    "end MRR",
    "logos",
    "logo churn",
    "GRR",
    "NRR",
    "ARPA",
    "LTV",
)
SUMMARY_COLUMNS = (
    "group",
    "months",
    "end MRR",
    "logos",
    "monthly logo churn",
    "GRR, 12 months",
    "NRR, 12 months",
    "ARPA",
    "LTV",
)
SUPPORT_COLUMNS = (
    "segment",
    "contacted support",
    "churned (95% CI)",
    "did not",
    "churned (95% CI)",
    "difference (95% CI)",
    "first response, h",
    "resolution, h",
    "reopens / ticket",
)


def month_cells(m: Month) -> list[str]:
    return [
        m.month,
        _money(m.start_mrr),
        _money(m.mrr["new"]),
        _money(m.mrr["expansion"]),
        _money(m.mrr["contraction"]),
        _money(m.mrr["churn"]),
        _money(m.mrr["reactivation"]),
        _money(m.end_mrr),
        f"{m.end_logos:,}",
        _pct(m.logo_churn_rate),
        _pct(m.grr),
        _pct(m.nrr),
        _money(m.arpa),
        _money(m.ltv),
    ]


def summary_cells(group: str, months: Sequence[Month]) -> list[str]:
    s = summary(months)
    last = months[-1] if months else None
    return [
        group,
        f"{s['months']:.0f}" if s["months"] else "0",
        _money(last.end_mrr if last else None),
        f"{last.end_logos:,}" if last else "-",
        _pct(s["logo_churn_rate"]),
        _pct(s["grr"]),
        _pct(s["nrr"]),
        _money(last.arpa if last else None),
        _money(s["ltv"]),
    ]


def _span(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f" ({interval[0] * 100:.1f}-{interval[1] * 100:.1f})"


def support_cells(row: SupportRow) -> list[str]:
    diff = row.difference
    return [
        row.segment,
        f"{row.contacted.customers:,}",
        _pct(row.contacted.rate) + _span(row.contacted.interval),
        f"{row.not_contacted.customers:,}",
        _pct(row.not_contacted.rate) + _span(row.not_contacted.interval),
        ("-" if diff is None else f"{diff * 100:+.1f} pts")
        + (
            ""
            if row.difference_interval is None
            else f" ({row.difference_interval[0] * 100:+.1f} to "
            f"{row.difference_interval[1] * 100:+.1f})"
        ),
        "-" if row.first_response_hours is None else f"{row.first_response_hours:.1f}",
        "-" if row.resolution_hours is None else f"{row.resolution_hours:.1f}",
        "-" if row.reopen_rate is None else f"{row.reopen_rate:.2f}",
    ]


def _recent(months: Sequence[Month], count: int) -> Sequence[Month]:
    return months[-count:] if count > 0 else months


def _table(headers: Sequence[str], title: str) -> Table:
    """A console table whose first column (month, segment, cohort) is never cut: on a narrow
    terminal the figures wrap instead."""
    table = Table(*headers, title=title)
    table.columns[0].no_wrap = True
    table.columns[0].min_width = 7
    return table


def print_business(r: BusinessReport, console: Console, months: int = 12) -> None:
    """`healthscore report` on the console: every customer's months, each segment and cohort
    over the period, support against retention, and the holdout when there is one."""
    console.print(
        f"[bold]{r.source}[/]: {r.events:,} events, {r.customers:,} customers, "
        f"{_day(r.first or 0)} to {_day(r.last or 0)}; gross margin {r.margin:.0%} "
        "(docs/revenue.md has the definitions)"
    )
    every = r.months.get(ALL, [])
    if not every:
        console.print("no MRR in the history: account_updated events with `mrr` give revenue")
    else:
        table = _table(MONTH_COLUMNS, "Revenue, every customer, by month")
        for m in _recent(every, months):
            table.add_row(*month_cells(m))
        console.print(table)
        table = _table(SUMMARY_COLUMNS, "Per segment, the latest 12 months")
        for g in r.segments():
            table.add_row(*summary_cells(g, r.months[g]))
        console.print(table)
        table = _table(SUMMARY_COLUMNS, "Per cohort (the month first seen), its latest 12 months")
        for g in r.cohorts():
            table.add_row(*summary_cells(g[len(COHORT) :], r.months[g]))
        console.print(table)
    table = _table(
        SUPPORT_COLUMNS,
        f"Support and retention: churn within {r.horizon / DAY:g} days of "
        f"{_day(r.cutoff)}, customers who opened a ticket in the 90 days before it or not",
    )
    for row in r.support:
        table.add_row(*support_cells(row))
    console.print(table)
    if r.holdout:
        from stream.offline.holdout import print_holdout

        print_holdout(r.holdout, console)


def _table_html(headers: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    tr = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body
    )
    return f"<table><tr>{th}</tr>{tr}</table>"


def write_business_html(r: BusinessReport, path: Path) -> None:
    """The business view as one self-contained HTML page with its plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures: list[tuple[str, str]] = []
    every = r.months.get(ALL, [])
    if every:
        fig, ax = plt.subplots(figsize=(8, 3.8))
        xs = list(range(len(every)))
        ups = (("new", "#1565c0"), ("expansion", "#2e7d32"), ("reactivation", "#00838f"))
        bottom = [0.0] * len(every)
        for kind, colour in ups:
            vals = [m.mrr[kind] for m in every]
            ax.bar(xs, vals, bottom=bottom, color=colour, label=kind)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        bottom = [0.0] * len(every)
        for kind, colour in (("contraction", "#f9a825"), ("churn", "#c62828")):
            vals = [-m.mrr[kind] for m in every]
            ax.bar(xs, vals, bottom=bottom, color=colour, label=kind)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(xs, [m.month for m in every], rotation=60, fontsize=7)
        ax.set_ylabel("MRR moved in the month")
        ax.legend(fontsize=7, ncol=5)
        figures.append(("MRR movements, every customer", _png(fig)))
        plt.close(fig)

        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
        for g in r.segments():
            ms = [m for m in r.months[g] if m.start_mrr > 0]
            for ax, measure in zip(axes, ("grr", "nrr"), strict=True):
                ax.plot(
                    [m.month for m in ms],
                    [getattr(m, measure) * 100 for m in ms],
                    marker=".",
                    label=g,
                )
        for ax, name in zip(
            axes, ("gross revenue retention", "net revenue retention"), strict=True
        ):
            ax.set_title(name, fontsize=9)
            ax.tick_params(axis="x", rotation=60, labelsize=6)
            ax.axhline(100, color="grey", linestyle=":")
        axes[0].set_ylabel("% of the month's starting MRR")
        axes[1].legend(fontsize=7)
        figures.append(("Monthly retention per segment", _png(fig)))
        plt.close(fig)

        cohorts = r.cohorts()
        if cohorts:
            width = max(len(r.months[c]) for c in cohorts)
            grid = np.full((len(cohorts), width), np.nan)
            for i, c in enumerate(cohorts):
                ms = r.months[c]
                base = ms[0].end_mrr
                for j, m in enumerate(ms):
                    if base > 0:
                        grid[i, j] = m.end_mrr / base * 100
            fig, ax = plt.subplots(figsize=(8, 0.25 * len(cohorts) + 1.5))
            im = ax.imshow(grid, aspect="auto", cmap="RdYlGn", vmin=0, vmax=150)
            ax.set_yticks(range(len(cohorts)), [c[len(COHORT) :] for c in cohorts], fontsize=6)
            ax.set_xlabel("months since the cohort was first seen")
            fig.colorbar(im, ax=ax, label="% of the first month's MRR")
            figures.append(("Cohorts: MRR kept, against their first month", _png(fig)))
            plt.close(fig)

    rows = [row for row in r.support if row.contacted.customers and row.not_contacted.customers]
    if rows:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        at = np.arange(len(rows))
        for offset, label, rates in (
            (-0.2, "contacted support", [row.contacted for row in rows]),
            (0.2, "did not", [row.not_contacted for row in rows]),
        ):
            mid = [(x.rate or 0.0) * 100 for x in rates]
            spans = [x.interval or (0.0, 0.0) for x in rates]
            err = [
                [m - lo * 100 for m, (lo, _) in zip(mid, spans, strict=True)],
                [hi * 100 - m for m, (_, hi) in zip(mid, spans, strict=True)],
            ]
            ax.bar(at + offset, mid, 0.4, yerr=err, capsize=3, label=label)
        ax.set_xticks(at, [row.segment for row in rows])
        ax.set_ylabel(f"% churned within {r.horizon / DAY:g} days")
        ax.legend(fontsize=7)
        figures.append(("Support and retention (95% bootstrap intervals)", _png(fig)))
        plt.close(fig)

    parts = [
        f"<h1>The business view: {html.escape(r.source)}</h1>",
        f"<p>{r.events:,} events, {r.customers:,} customers, {_day(r.first or 0)} to "
        f"{_day(r.last or 0)}. Gross margin {r.margin:.0%} (the policy's "
        "<code>revenue.gross_margin</code>). Lifetime value = ARPA x gross margin / monthly "
        "logo churn.</p>",
    ]
    if not every:
        parts.append(
            "<p>No MRR in this history: revenue comes from <code>account_updated</code> events "
            "with <code>mrr</code>.</p>"
        )
    else:
        parts += [
            "<h2>Revenue, every customer, by month</h2>",
            _table_html(MONTH_COLUMNS, [month_cells(m) for m in every]),
            "<h2>Per segment, the latest 12 months</h2>",
            _table_html(SUMMARY_COLUMNS, [summary_cells(g, r.months[g]) for g in r.segments()]),
            "<h2>Per cohort (the month first seen), its latest 12 months</h2>",
            _table_html(
                SUMMARY_COLUMNS,
                [summary_cells(g[len(COHORT) :], r.months[g]) for g in r.cohorts()],
            ),
        ]
        for g in r.segments():
            if g != ALL:
                parts += [
                    f"<h3>Segment {html.escape(g)}, by month</h3>",
                    _table_html(MONTH_COLUMNS, [month_cells(m) for m in r.months[g]]),
                ]
    parts += [
        "<h2>Support and retention</h2>",
        f"<p>Customers live on {_day(r.cutoff)} who opened a ticket in the 90 days before, "
        f"against those who did not: churn within {r.horizon / DAY:g} days. If those who "
        "contacted support churn less, support is creating a good experience; if more, the "
        "tickets are a warning the team can act on.</p>",
        _table_html(SUPPORT_COLUMNS, [support_cells(row) for row in r.support]),
    ]
    if r.holdout:
        from stream.offline.holdout import MANY_ROWS, holdout_html

        parts += [
            "<h2>Does acting on alerts save customers?</h2>",
            holdout_html(r.holdout),
            "<p>Difference: delivered minus held-out churn rate within the horizon after each "
            "customer's first page, in percentage points (below 0: fewer churned where a "
            f"manager was told), with Newcombe's 95% interval. {html.escape(MANY_ROWS)}</p>",
        ]
    for title, png in figures:
        parts.append(f"<h2>{html.escape(title)}</h2><img src='data:image/png;base64,{png}'>")
    style = (
        "body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "table{border-collapse:collapse;font-size:.85em}"
        "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}"
    )
    path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Business view: "
        f"{html.escape(r.source)}</title><style>{style}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n",
        encoding="utf-8",
    )
