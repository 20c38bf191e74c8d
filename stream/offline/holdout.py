"""Does acting on alerts save customers? The holdout's estimate, from a replayed history.

With `alerts.holdout` in the policy, the alerts of a stable share of customers are recorded but
delivered to nobody (`scoring.holdout`, docs/alerts.md). Who is held out depends on the customer
id and the experiment's name only, so it is as good as a coin toss for everything that
happens after: the held-out customers are what the delivered ones would have been without a
manager's outreach. This module replays a history through the scoring core
(`stream.offline.backtest.replay_history`), takes each customer's **first page** (the first
alert raised, at time t; every raised alert pages), keeps the customers whose horizon after t
lies within the history, and compares churn within the horizon after t between the delivered
and the held-out customers, for every page and per paging rule of that first alert.

Why the first page only: the first page comes before any outreach, so which customers get one
does not depend on who was held out. A later alert does: a customer that outreach brought back
raises no later alert, one left alone may, so comparing later alerts would compare unlike
groups.

The difference (delivered minus held-out churn rate: below 0, fewer churned where managers
were told) carries Newcombe's hybrid score interval for a difference of two independent
proportions (Newcombe 1998, method 10: each rate's Wilson score interval, combined): it needs
no resampling (the same figures every run, at no cost), holds its coverage with small groups
and with rates near 0 or 1, where the plain Wald interval is too narrow, and is what
Newcombe's comparison of eleven methods recommends. A bootstrap would give about the same
width, at random and a thousand times the work.

The simulator (`stream.offline.datasets.simulate_churn` with `outreach_effect` and a
holdout) knows both outcomes of every paged customer, so `check_on_simulator` tells whether
the interval covers the true effect (docs/validation.md).
"""

from __future__ import annotations

import csv
import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from scoring.alerts import RULES
from scoring.decay import DAY
from scoring.holdout import Holdout
from scoring.policy import Policy
from scoring.serialize import read_time
from stream.offline.backtest import (
    DEFAULT_REFRESH,
    BacktestError,
    History,
    Replayed,
    read_files,
    replay_history,
)

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile: a two-sided 95% interval
ANY = "any"  # the row of every first page, whatever its rules


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion k / n (n > 0).

    >>> [round(x, 4) for x in wilson(0, 10)]
    [0.0, 0.2775]
    >>> [round(x, 4) for x in wilson(81, 263)]
    [0.2553, 0.3662]
    """
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2 (k1 / n1 minus k2 / n2; both n > 0).

    Newcombe (1998), Statistics in Medicine 17:873-890, example (h) of table II: 56/70 against
    48/80 gives 0.0524 to 0.3339.

    >>> [round(x, 4) for x in newcombe(56, 70, 48, 80)]
    [0.0524, 0.3339]
    """
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


@dataclass(frozen=True)
class HoldoutEffect:
    """Churn within the horizon after a first page, delivered against held out, for every page
    (`rule` "any") or the pages a paging rule was part of."""

    rule: str
    delivered: int  # customers paged and told about
    delivered_churned: int  # of them, churned within the horizon after the page
    held_out: int
    held_out_churned: int
    horizon_days: float
    experiment: str
    share: float
    too_recent: int = 0  # paged, but the horizon after the page passes the history's end

    @property
    def delivered_rate(self) -> float | None:
        return self.delivered_churned / self.delivered if self.delivered else None

    @property
    def held_out_rate(self) -> float | None:
        return self.held_out_churned / self.held_out if self.held_out else None

    @property
    def difference(self) -> float | None:
        """Delivered minus held-out churn rate: below 0, fewer churned where a manager knew."""
        a, b = self.delivered_rate, self.held_out_rate
        return None if a is None or b is None else a - b

    @property
    def interval(self) -> tuple[float, float] | None:
        """The difference's 95% interval (Newcombe's hybrid score)."""
        if not self.delivered or not self.held_out:
            return None
        return newcombe(
            self.delivered_churned, self.delivered, self.held_out_churned, self.held_out
        )

    @property
    def reading(self) -> str:
        """What the interval says, in words."""
        i = self.interval
        if i is None:
            return "too few to tell"
        if i[1] < 0:
            return "fewer churn when told"
        if i[0] > 0:
            return "more churn when told"
        return "no difference shown"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "experiment": self.experiment,
            "share": self.share,
            "horizon_days": self.horizon_days,
            "delivered": self.delivered,
            "delivered_churned": self.delivered_churned,
            "delivered_churn_rate": self.delivered_rate,
            "held_out": self.held_out,
            "held_out_churned": self.held_out_churned,
            "held_out_churn_rate": self.held_out_rate,
            "difference": self.difference,
            "interval": None if self.interval is None else list(self.interval),
            "interval_method": "Newcombe hybrid score, 95%",
            "reading": self.reading,
            "too_recent": self.too_recent,
        }


def first_pages(replayed: Sequence[Replayed]) -> dict[str, tuple[float, tuple[str, ...]]]:
    """Each paged customer's first page: when, and the rules of the alert then raised (the
    leading one first). Every alert raised pages: an episode opens only on a paging rule."""
    out: dict[str, tuple[float, tuple[str, ...]]] = {}
    for r in replayed:
        if r.episodes:
            out[r.customer_id] = (r.episodes[0], r.episode_rules[0] if r.episode_rules else ())
    return out


def _holdout_of(policy: Policy, holdout: Holdout | None) -> Holdout:
    chosen = holdout if holdout is not None else policy.alerts.holdout
    if chosen is None:
        raise BacktestError(
            "the policy has no alerts.holdout: name the experiment and its share to compare "
            "delivered and held-out customers (docs/alerts.md)"
        )
    return chosen


def effects_from_replay(
    replayed: Sequence[Replayed],
    policy: Policy,
    horizon: float,
    end: float,
    holdout: Holdout | None = None,
) -> list[HoldoutEffect]:
    """The holdout's estimate from a replay whose history ends at `end` (seconds): "any" first,
    then every paging rule of the policy (in `scoring.alerts.RULES` order). `holdout`: the
    policy's own (`alerts.holdout`) unless given."""
    chosen = _holdout_of(policy, holdout)
    rules = [ANY, *(r for r in RULES if policy.alerts.pages(r))]
    counts = {rule: [0, 0, 0, 0, 0] for rule in rules}  # delivered, churned, held, churned, late
    churns = {r.customer_id: r.churns for r in replayed}
    for cid, (t, named) in first_pages(replayed).items():
        which = [ANY, *(r for r in named if r in counts and r != ANY)]
        if t + horizon > end:
            for rule in which:
                counts[rule][4] += 1
            continue
        churned = any(t < c <= t + horizon for c in churns[cid])
        arm = 2 if chosen.holds(cid) else 0
        for rule in which:
            counts[rule][arm] += 1
            counts[rule][arm + 1] += int(churned)
    days = horizon / DAY
    return [
        HoldoutEffect(rule, c[0], c[1], c[2], c[3], days, chosen.experiment, chosen.share, c[4])
        for rule, c in counts.items()
    ]


def holdout_effects(
    history: History,
    policy: Policy,
    horizon_days: float = 90.0,
    *,
    holdout: Holdout | None = None,
    refresh: float = DEFAULT_REFRESH,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[HoldoutEffect]:
    """Replay the history under the policy and estimate, per paging rule and for "any", how
    churn after a first page differs between delivered and held-out customers. `holdout`: the
    policy's (`alerts.holdout`) unless given; `workers`, `on_progress`: as `replay_history`."""
    chosen = _holdout_of(policy, holdout)
    if history.last is None:
        raise BacktestError("the history has no valid event")
    replayed = replay_history(
        history, policy, [], refresh=refresh, workers=workers, on_progress=on_progress
    )
    return effects_from_replay(replayed, policy, horizon_days * DAY, history.last, chosen)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _points(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:+.1f}"


HOLDOUT_COLUMNS = (
    "first page by",
    "delivered",
    "churned",
    "held out",
    "churned",
    "difference (points)",
    "95% interval",
    "reading",
)


def holdout_cells(e: HoldoutEffect) -> list[str]:
    """One row of the holdout table, console and HTML alike."""
    i = e.interval
    return [
        e.rule,
        f"{e.delivered:,}",
        _pct(e.delivered_rate),
        f"{e.held_out:,}",
        _pct(e.held_out_rate),
        _points(e.difference),
        "-" if i is None else f"{i[0] * 100:+.1f} to {i[1] * 100:+.1f}",
        e.reading,
    ]


def _title(rows: Sequence[HoldoutEffect]) -> str:
    if not rows:
        return "Does acting on alerts save customers?"
    e = rows[0]
    return (
        f"Does acting on alerts save customers? Holdout {e.experiment!r} ({e.share:.0%} held "
        f"out), churn within {e.horizon_days:g} days of the first page"
    )


def print_holdout(rows: Sequence[HoldoutEffect], console: Console) -> None:
    """The estimate as a console table: per paging rule and for every page."""
    table = Table(*HOLDOUT_COLUMNS, title=_title(rows))
    for e in rows:
        table.add_row(*holdout_cells(e))
    console.print(table)
    late = rows[0].too_recent if rows else 0
    console.print(
        "Difference: delivered minus held-out churn rate, in percentage points (below 0: fewer "
        "churned where a manager was told), with Newcombe's 95% interval."
        + (f" {late:,} customers paged too recently to know are left out." if late else "")
        + f" {MANY_ROWS}"
    )


# Several rules are several comparisons: one interval in twenty excludes 0 by chance alone
MANY_ROWS = (
    "Read `any` first: with one row per rule, about one interval in twenty excludes 0 by "
    "chance alone, so a single rule's verdict needs a second experiment to be believed."
)


def holdout_html(rows: Sequence[HoldoutEffect]) -> str:
    """The estimate as an HTML `<table>` (with a caption), to put in a report."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HOLDOUT_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in holdout_cells(e)) + "</tr>"
        for e in rows
    )
    caption = html.escape(_title(rows))
    return (
        f"<table class='holdout'><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


# --- checking it against the simulator's truth ------------------------------------------------


@dataclass(frozen=True)
class PagedTruth:
    """A paged customer of the simulator with both its outcomes (`holdout.csv`)."""

    customer_id: str
    paged_at: float
    rules: tuple[str, ...]
    held_out: bool
    at_risk: bool
    recovers_with_outreach: bool
    churns_without: float | None  # its churn without outreach (None: it does not churn)
    churns_with: float | None  # and with outreach


def read_truth(directory: Path) -> list[PagedTruth]:
    """The simulator's record of the paged customers (`holdout.csv` in its data set)."""
    path = directory / "holdout.csv"
    if not path.is_file():
        raise BacktestError(f"{path}: no such file (simulate with an outreach effect or holdout)")

    def when(text: str) -> float | None:
        return read_time(text) if text else None

    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            paged = read_time(row["paged_at"])
            assert paged is not None
            out.append(
                PagedTruth(
                    row["customer_id"],
                    paged,
                    tuple(row["rules"].split()),
                    row["held_out"] == "1",
                    row["at_risk"] == "1",
                    row["recovers_with_outreach"] == "1",
                    when(row["churns_at_without_outreach"]),
                    when(row["churns_at_with_outreach"]),
                )
            )
    return out


def true_effect(
    truth: Sequence[PagedTruth], horizon: float, end: float, rule: str = ANY
) -> tuple[float, int] | None:
    """The outreach's true effect on churn within the horizon after the first page: the mean,
    over the paged customers whose horizon lies within the history (and whose first page
    `rule` was part of), of churn with outreach minus churn without; with how many."""

    def churns(at: float | None, t: float) -> int:
        return int(at is not None and t < at <= t + horizon)

    diffs = [
        churns(p.churns_with, p.paged_at) - churns(p.churns_without, p.paged_at)
        for p in truth
        if p.paged_at + horizon <= end and (rule == ANY or rule in p.rules)
    ]
    return (sum(diffs) / len(diffs), len(diffs)) if diffs else None


def redrawn_coverage(
    truth: Sequence[PagedTruth], horizon: float, end: float, share: float, draws: int = 200
) -> float | None:
    """The share of `draws` holdouts (experiments "redraw-0", "redraw-1", ...) whose estimate's
    95% interval covers the true effect, on one simulated base: each paged customer's outcome
    is its churn with outreach when delivered, without when held out (`holdout.csv` has both),
    so every draw is a holdout that could have been run on the same customers. A 95% interval
    should cover in about 95% of draws. None when no paged customer's horizon is known."""
    known = true_effect(truth, horizon, end)
    if known is None:
        return None
    effect = known[0]
    paged = [p for p in truth if p.paged_at + horizon <= end]

    def churns(at: float | None, t: float) -> int:
        return int(at is not None and t < at <= t + horizon)

    covered = tried = 0
    for k in range(draws):
        holdout = Holdout(f"redraw-{k}", share)
        counts = [0, 0, 0, 0]
        for p in paged:
            if holdout.holds(p.customer_id):
                counts[2] += 1
                counts[3] += churns(p.churns_without, p.paged_at)
            else:
                counts[0] += 1
                counts[1] += churns(p.churns_with, p.paged_at)
        if not counts[0] or not counts[2]:
            continue
        low, high = newcombe(counts[1], counts[0], counts[3], counts[2])
        tried += 1
        covered += int(low <= effect <= high)
    return covered / tried if tried else None


def _covers(e: HoldoutEffect, truth: float | None) -> bool | None:
    i = e.interval
    if i is None or truth is None:
        return None
    return i[0] <= truth <= i[1]


@dataclass(frozen=True)
class SimulatorCheck:
    """One simulated base with a known outreach effect: the holdout's estimate and the truth,
    for every first page ("any", the first row) and per paging rule."""

    seed: int
    customers: int
    outreach_effect: float
    effects: tuple[HoldoutEffect, ...]  # as `holdout_effects` gives them
    truths: tuple[float | None, ...]  # the true effect on the same customers, row by row
    redrawn: float | None = None  # `redrawn_coverage` on the same base

    @property
    def estimate(self) -> HoldoutEffect:
        return self.effects[0]

    @property
    def truth(self) -> float | None:
        return self.truths[0]

    @property
    def covers(self) -> bool | None:
        return _covers(self.estimate, self.truth)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "customers": self.customers,
            "outreach_effect": self.outreach_effect,
            "true_effect": self.truth,
            "covers": self.covers,
            "redrawn_coverage": self.redrawn,
            "estimate": self.estimate.to_dict(),
            "rules": [
                {**e.to_dict(), "true_effect": t, "covers": _covers(e, t)}
                for e, t in zip(self.effects[1:], self.truths[1:], strict=True)
            ],
        }


def check_on_simulator(
    directory: Path,
    seeds: Sequence[int],
    *,
    outreach_effect: float,
    customers: int = 2000,
    days: int = 540,
    share: float = 0.5,
    experiment: str = "outreach",
    horizon_days: float = 90.0,
    policy: Policy | None = None,
    workers: int | None = None,
    redraws: int = 200,
) -> list[SimulatorCheck]:
    """Per seed: simulate a base where outreach makes `outreach_effect` of the paged at-risk
    customers recover and the holdout keeps `share` of them from it
    (`stream.offline.datasets.simulate_churn`), estimate the effect from the written events
    alone, as `healthscore report` would (`holdout_effects`), and set it beside the truth;
    and the coverage of `redraws` other holdouts on the same base (`redrawn_coverage`)."""
    from stream.offline.datasets import simulate_churn
    from stream.resources import load_policy

    holdout = Holdout(experiment, share)
    base = policy if policy is not None else load_policy()
    live = replace(base, alerts=replace(base.alerts, holdout=holdout))
    horizon = horizon_days * DAY
    out = []
    for seed in seeds:
        where = directory / f"seed-{seed}-effect-{outreach_effect:g}"
        simulate_churn(
            where,
            customers,
            days=days,
            seed=seed,
            outreach_effect=outreach_effect,
            holdout=holdout,
            policy=live,
            workers=workers,
        )
        history = read_files([where / "events.jsonl.gz"])
        assert history.last is not None
        effects = holdout_effects(history, live, horizon_days, workers=workers)
        truth = read_truth(where)
        truths = []
        for e in effects:
            known = true_effect(truth, horizon, history.last, e.rule)
            truths.append(None if known is None else known[0])
        redrawn = redrawn_coverage(truth, horizon, history.last, share, redraws)
        out.append(
            SimulatorCheck(seed, customers, outreach_effect, tuple(effects), tuple(truths), redrawn)
        )
    return out


CHECK_COLUMNS = (
    "seed",
    "outreach effect",
    "paged (delivered / held out)",
    "churn delivered",
    "churn held out",
    "estimate (points)",
    "95% interval",
    "true effect",
    "covered",
    "redrawn holdouts covering",
)


def check_cells(c: SimulatorCheck) -> list[str]:
    e = c.estimate
    i = e.interval
    return [
        str(c.seed),
        f"{c.outreach_effect:g}",
        f"{e.delivered:,} / {e.held_out:,}",
        _pct(e.delivered_rate),
        _pct(e.held_out_rate),
        _points(e.difference),
        "-" if i is None else f"{i[0] * 100:+.1f} to {i[1] * 100:+.1f}",
        _points(c.truth),
        "-" if c.covers is None else ("yes" if c.covers else "NO"),
        _pct(c.redrawn),
    ]


def print_checks(checks: Sequence[SimulatorCheck], console: Console) -> None:
    table = Table(*CHECK_COLUMNS, title="The holdout's estimate against the simulator's truth")
    for c in checks:
        table.add_row(*check_cells(c))
    console.print(table)


def checks_json(checks: Sequence[SimulatorCheck]) -> str:
    return json.dumps([c.to_dict() for c in checks], indent=2) + "\n"
