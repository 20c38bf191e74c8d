"""Public churn data sets and a simulator with known churn mechanics, as contract events.

Each data set becomes a directory holding `events.jsonl.gz` (contract messages, one a line),
`labels.csv` when outcomes are not `churned` events, and `about.json` (where the data came from,
what was synthesised, the cutoff and horizon to backtest at). The raw files are downloaded from
PyPI, where they ship inside packages, checked against the registry's SHA-256 and cached
(`.cache/datasets/`, git-ignored); nothing of them is committed.

- `cdnow`: 23,570 real customers of the CDNOW music store and their 69,659 purchases,
  1997-01 to 1998-06, with their real dates (the `lifetimes` package's copy). Each purchase is
  a `feature_used` event (feature `purchase`, count = CDs bought). Churned = no purchase in the
  39 weeks after 1997-09-30 (the data set's usual split); labels in `labels.csv`.
- `saas`: 2,000 customers of a SaaS product with per-customer aggregates and a churn flag (the
  `pysurvival` package's `churn.csv`). Events are synthesised from the aggregates: products in
  use become features used weekly (trials monthly), help articles viewed become sessions, the
  satisfaction score (0-10) one NPS answer, support minutes tickets (one per started 10 minutes),
  company size the segment. Only the aggregates are real; their timing is made up.
- `simulated`: `simulate_churn`, a customer base whose churn follows known mechanics.

Two more public sets are not on PyPI: `healthscore dataset NAME --from FILE` converts the file
you downloaded (`LOCAL`). Both are a year of per-customer aggregates with a churn flag; events
are synthesised from them over the 12 months before one cutoff, as for `saas`:
- `bank-churners`: 10,127 credit-card customers (Kaggle "Credit Card customers",
  `BankChurners.csv`): transactions become `feature_used` events over the 12 months, fewer or
  more from the first quarter to the last as the data's Q4/Q1 change says, none in as many
  months (at random) as the customer was inactive; contacts become tickets; products held
  become the features used; card category the segment.
- `iranian-churn`: 3,150 customers of an Iranian telecom (UCI "Iranian Churn Dataset",
  `Customer Churn.csv`): calls and text messages become `feature_used` events over the months
  subscribed (at most 12), stopping 30-90 days before the cutoff for a customer whose status
  is non-active; call failures become tickets, a complaint an escalated one; tariff plan the
  segment, customer value the MRR.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import os
import random
import tarfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from scoring.alerts import Alert
from scoring.decay import DAY
from scoring.events import event_order
from scoring.holdout import Holdout
from scoring.policy import Policy
from scoring.serialize import read_time, rfc3339
from scoring.state import APPLIED, CustomerState, apply_into
from scoring.timeline import Standing, catch_up_into, evaluate_into
from stream.codec import decode_event
from stream.offline.backtest import DEFAULT_REFRESH

CACHE = Path(".cache") / "datasets"


class DatasetError(RuntimeError):
    """A data set could not be fetched or converted; the message says what to do."""


@dataclass(frozen=True)
class Source:
    """A file inside a package on PyPI."""

    package: str
    version: str
    filename: str  # the distribution file on PyPI
    member: str  # the file inside it


SOURCES = {
    "cdnow": Source(
        "lifetimes",
        "0.11.3",
        "Lifetimes-0.11.3-py3-none-any.whl",
        "lifetimes/datasets/CDNOW_master.txt",
    ),
    "saas": Source(
        "pysurvival",
        "0.1.2",
        "pysurvival-0.1.2.tar.gz",
        "pysurvival-0.1.2/pysurvival/datasets/churn.csv",
    ),
}


def _download(source: Source, cache: Path) -> bytes:
    """The distribution file, from the cache or PyPI (checked against PyPI's SHA-256)."""
    cached = cache / source.filename
    if cached.is_file():
        return cached.read_bytes()
    # the project's JSON (the per-version form is not served by every PyPI mirror)
    api = f"https://pypi.org/pypi/{source.package}/json"
    try:
        with urllib.request.urlopen(api, timeout=60) as resp:
            meta = json.load(resp)
        files = [*meta.get("releases", {}).get(source.version, []), *meta.get("urls", [])]
        url = next(u for u in files if u["filename"] == source.filename)
        with urllib.request.urlopen(url["url"], timeout=300) as resp:  # noqa: S310
            data: bytes = resp.read()
    except (OSError, StopIteration, KeyError, ValueError) as exc:
        raise DatasetError(
            f"could not download {source.filename} from PyPI ({exc}); put the file in {cache}"
        ) from None
    if hashlib.sha256(data).hexdigest() != url["digests"]["sha256"]:
        raise DatasetError(f"{source.filename}: SHA-256 differs from PyPI's; not used")
    cache.mkdir(parents=True, exist_ok=True)
    # written aside, then renamed: another process reading the cache (a second command, a
    # parallel test run) sees the whole checked file or none
    partial = cached.with_name(f".{cached.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, cached)
    return data


def _member(source: Source, data: bytes) -> bytes:
    if source.filename.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read(source.member)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        f = t.extractfile(source.member)
        if f is None:
            raise DatasetError(f"{source.filename}: {source.member} missing")
        return f.read()


def raw_file(name: str, cache: Path = CACHE) -> bytes:
    source = SOURCES[name]
    return _member(source, _download(source, cache))


def _doc(event_id: str, customer: str, type_: str, at: float, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "customer_id": customer,
        "type": type_,
        "occurred_at": rfc3339(at),
        **fields,
    }


class _Emitter:
    """Documents of one customer, with ids numbered in the order they are made."""

    def __init__(self, customer: str) -> None:
        self.customer, self.seq = customer, 0

    def __call__(self, type_: str, at: float, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        return _doc(f"{self.customer}-{self.seq}", self.customer, type_, at, **fields)


def _tickets(ev: _Emitter, times: list[float], tag: str) -> Iterator[dict[str, Any]]:
    """A ticket opened at each time, answered an hour later and resolved after six."""
    for k, at in enumerate(times):
        tid = f"{ev.customer}-{tag}{k}"
        yield ev("ticket_opened", at, ticket_id=tid, priority="normal")
        yield ev("ticket_replied", at + 3600, ticket_id=tid, by="agent")
        yield ev("ticket_resolved", at + 6 * 3600, ticket_id=tid)


def _write(
    out: Path,
    docs: Iterator[dict[str, Any]],
    about: dict[str, Any],
    labels: dict[str, bool] | None = None,
) -> int:
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with gzip.open(out / "events.jsonl.gz", "wt", encoding="utf-8", compresslevel=3) as fh:
        for doc in docs:
            fh.write(json.dumps(doc, separators=(",", ":")) + "\n")
            count += 1
    if labels is not None:
        with (out / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["customer_id", "churned"])
            for cid, flag in sorted(labels.items()):
                w.writerow([cid, 1 if flag else 0])
    about = {**about, "events": count}
    (out / "about.json").write_text(json.dumps(about, indent=2) + "\n", encoding="utf-8")
    return count


def _ts(text: str) -> float:
    return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC).timestamp()


def cdnow(out: Path, cache: Path = CACHE) -> int:
    """CDNOW purchases as events, churn labels for the 1997-09-30 split."""
    text = raw_file("cdnow", cache).decode()
    cutoff, end = _ts("19970930"), _ts("19980630")
    purchases: dict[str, list[tuple[float, int]]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4 or not parts[1].isdigit():
            continue  # the header
        purchases.setdefault(f"cdnow-{parts[0]}", []).append(
            (_ts(parts[1]) + 12 * 3600, int(parts[2]))
        )
    labels = {
        cid: not any(cutoff < t <= end for t, _ in rows)
        for cid, rows in purchases.items()
        if min(t for t, _ in rows) <= cutoff
    }

    def docs() -> Iterator[dict[str, Any]]:
        for cid, rows in purchases.items():
            first = min(t for t, _ in rows)
            yield _doc(f"{cid}-a", cid, "account_updated", first - 1, segment="default")
            for i, (t, cds) in enumerate(sorted(rows)):
                yield _doc(
                    f"{cid}-p{i}",
                    cid,
                    "feature_used",
                    t,
                    feature="purchase",
                    count=max(1, min(cds, 20)),
                )

    about = {
        "name": "cdnow",
        "source": "PyPI lifetimes 0.11.3, lifetimes/datasets/CDNOW_master.txt",
        "real": "customers, purchase dates and CDs bought",
        "synthesised": "nothing but the mapping: a purchase is feature_used 'purchase'",
        "cutoff": "1997-09-30",
        "horizon_days": (end - cutoff) / DAY,
        "outcome": "churned = no purchase in the 273 days after the cutoff (labels.csv)",
    }
    return _write(out, docs(), about, labels)


_SIZES = {
    "self-employed": "smb",
    "1-10": "smb",
    "10-50": "mid_market",
    "50-100": "mid_market",
    "100-250": "enterprise",
}


def saas(out: Path, cache: Path = CACHE, seed: int = 7) -> int:
    """The SaaS aggregates as synthesised events, all customers observed up to one end date."""
    text = raw_file("saas", cache).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    end = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    rng = random.Random(seed)
    labels: dict[str, bool] = {}

    def docs() -> Iterator[dict[str, Any]]:
        for i, r in enumerate(rows):
            cid = f"saas-{i:05d}"
            labels[cid] = float(r["churned"]) >= 1
            start = end - float(r["months_active"]) * 30 * DAY
            ev = _Emitter(cid)

            yield ev("account_updated", start, segment=_SIZES.get(r["company_size"], "default"))
            for product in ("travel_expense", "payroll", "accounting"):
                status = r[f"product_{product}"]
                if status == "No":
                    continue
                gap = 7 * DAY if status == "Active" else 30 * DAY
                t = start + rng.uniform(0, gap)
                while t < end:
                    yield ev("feature_used", t, feature=product, count=1)
                    t += gap * rng.uniform(0.7, 1.3)
            views = int(r["articles_viewed"])
            for _ in range(views):
                yield ev("session", rng.uniform(max(start, end - 30 * DAY), end), user_id="u1")
            yield ev(
                "nps", rng.uniform(max(start, end - 60 * DAY), end), score=int(r["csat_score"])
            )
            tickets = math.ceil(float(r["minutes_customer_support"]) / 10)
            opened = [rng.uniform(max(start, end - 60 * DAY), end - DAY) for _ in range(tickets)]
            yield from _tickets(ev, opened, "t")

    about = {
        "name": "saas",
        "source": "PyPI pysurvival 0.1.2, pysurvival/datasets/churn.csv",
        "real": "per-customer aggregates: products and their status, satisfaction score, help "
        "articles viewed, support minutes, company size, months active, churned",
        "synthesised": "every event time: products in use are features used weekly (trials "
        "monthly) over the months active, articles are sessions in the last 30 days, the "
        "satisfaction score one NPS answer and support minutes tickets in the last 60 days",
        "cutoff": "2020-01-01",
        "horizon_days": 90,
        "outcome": "the data set's churn flag (labels.csv)",
    }
    return _write(out, docs(), about, labels)  # labels are filled as events are written


# --- the simulator ---------------------------------------------------------------------------

RECOVERY_DAYS = 30  # days over which outreach brings a customer's engagement back
PAGE_CHUNK = 128  # customers generated before their pages are found (in parallel)
HOLDOUT_TRUTH = "holdout.csv"


@dataclass
class _Traits:
    """One simulated customer: who it is and its churn mechanics (drawn in this order)."""

    cid: str
    joined: float
    segment: str
    seats: int
    level: float  # activity units a day when engaged
    features: list[str]
    decline_at: float  # inf: never declines
    recovers: bool  # recovers from the decline by itself
    churn_at: float | None


def _traits(rng: random.Random, i: int, start: float, days: int) -> _Traits:
    cid = f"sim-{i:06d}"
    joined = start + rng.uniform(0, days * 0.6) * DAY
    segment = rng.choices(("smb", "mid_market", "enterprise"), (0.6, 0.3, 0.1))[0]
    seats = {"smb": 5, "mid_market": 40, "enterprise": 300}[segment]
    seats = max(1, int(seats * rng.uniform(0.5, 2.0)))
    level = math.exp(rng.gauss(0.5, 0.8))
    features = rng.sample(("a", "b", "c", "d", "e", "f", "g"), rng.randint(2, 7))
    # the churn mechanics
    decline_at = joined + rng.expovariate(1 / (300 * DAY)) + 30 * DAY
    recovers = rng.random() < 0.2
    random_churn = joined + rng.expovariate(1 / (2000 * DAY))
    churn_at = None
    if not recovers:
        churn_at = decline_at + rng.uniform(30, 120) * DAY
    if random_churn < (churn_at or float("inf")):
        churn_at, decline_at = random_churn, float("inf")
    return _Traits(cid, joined, segment, seats, level, features, decline_at, recovers, churn_at)


def _engaged(c: _Traits, day: float) -> float:
    """How engaged the customer is on a day (1: as usual), by its churn mechanics."""
    into = max(0.0, (day - c.decline_at) / DAY)
    engaged = math.exp(-into / 25) if not c.recovers else max(0.3, math.exp(-into / 40))
    if c.recovers and into > 90:
        engaged = 1.0
    return engaged


def _activity(
    rng: random.Random,
    c: _Traits,
    ev: _Emitter,
    day: float,
    stop: float,
    engagement: Callable[[float], float],
    ticket: int = 0,
) -> Iterator[tuple[float, dict[str, Any]]]:
    """The customer's usage, tickets and survey answers, day by day from `day` until `stop`,
    each with the day that made it."""
    cid, seats, features = c.cid, c.seats, c.features
    while day < stop:
        engaged = engagement(day)
        weekly = 0.4 if datetime.fromtimestamp(day, UTC).weekday() >= 5 else 1.0
        n = _poisson(rng, c.level * engaged * weekly)
        for _ in range(n):
            at = day + rng.uniform(0, DAY)
            if rng.random() < 0.5:
                yield day, ev("session", at, user_id=f"u{rng.randint(1, seats)}")
            else:
                used = features if engaged > 0.5 else features[: max(1, len(features) // 3)]
                yield (
                    day,
                    ev("feature_used", at, feature=rng.choice(used), count=rng.randint(1, 3)),
                )
        if rng.random() < 1 / 30:
            share = rng.uniform(0.5, 0.9) * (0.3 + 0.7 * engaged)
            yield (
                day,
                ev(
                    "seat_snapshot",
                    day + 3600,
                    active_users=round(seats * share),
                    licensed_seats=seats,
                ),
            )
        trouble = 1.0 - engaged
        if rng.random() < 0.02 + 0.08 * trouble:
            ticket += 1
            tid = f"{cid}-t{ticket}"
            prio = rng.choices(
                ("low", "normal", "high", "urgent"),
                (0.3, 0.5 - 0.3 * trouble, 0.15 + 0.2 * trouble, 0.05 + 0.1 * trouble),
            )[0]
            at = day + rng.uniform(0, DAY)
            yield day, ev("ticket_opened", at, ticket_id=tid, priority=prio)
            reply = at + rng.uniform(0.5, 30 + 60 * trouble) * 3600
            if reply < stop:
                yield day, ev("ticket_replied", reply, ticket_id=tid, by="agent")
            if rng.random() < 0.3 * trouble:
                yield day, ev("ticket_escalated", reply + 3600, ticket_id=tid)
            done = reply + rng.uniform(2, 120 + 200 * trouble) * 3600
            if done < stop:
                yield day, ev("ticket_resolved", done, ticket_id=tid)
        if rng.random() < 1 / 45:
            mood = engaged if rng.random() < 0.8 else rng.random()
            kind = rng.choice(("nps", "csat", "ces"))
            if kind == "nps":
                s = max(0, min(10, round(rng.gauss(4 + 5.5 * mood, 1.5))))
            elif kind == "csat":
                s = max(1, min(5, round(rng.gauss(2 + 2.8 * mood, 0.8))))
            else:
                s = max(1, min(7, round(rng.gauss(2.5 + 4 * mood, 1.0))))
            yield day, ev(kind, day + rng.uniform(0, DAY), score=s)
        day += DAY


MRR_BASE = {"smb": 300.0, "mid_market": 2_500.0, "enterprise": 20_000.0}  # a month, by segment


def _mrr(seed: int, c: _Traits) -> float:
    """What the customer pays a month when it joins (its own random stream)."""
    return round(MRR_BASE[c.segment] * _draw(seed, c.cid, "mrr").uniform(0.5, 2.0), 2)


def _business(
    seed: int, c: _Traits, ev: _Emitter, stop: float, end: float, owner: str
) -> list[tuple[float, dict[str, Any]]]:
    """The customer's revenue changes and its manager's assessments, each with its day, from
    streams of their own (so every other event is what it would be without them).

    Revenue: an engaged customer grows now and then (an upsell: +10-50%), one disengaging
    shrinks once with even odds (a downgrade: -20-50%), and one in twenty that churned comes
    back 30-120 days later (a `renewed`). Assessments: every 60-120 days from 20-90 days
    after joining, a rating around 3.8 of 5 while engaged and around 2 once declining: noisy,
    but informative, as a manager's read is."""
    out: list[tuple[float, dict[str, Any]]] = []
    money = _draw(seed, c.cid, "revenue")
    mrr = _mrr(seed, c)
    t = c.joined + money.uniform(90, 180) * DAY
    shrunk = False
    while t < stop:
        if t >= c.decline_at:
            if not shrunk and money.random() < 0.5:
                mrr = round(mrr * money.uniform(0.5, 0.8), 2)
                out.append((t, ev("account_updated", t, mrr=mrr)))
            shrunk = True
        elif money.random() < 0.4:
            mrr = round(mrr * money.uniform(1.1, 1.5), 2)
            out.append((t, ev("account_updated", t, mrr=mrr)))
        t += money.uniform(90, 180) * DAY
    if c.churn_at is not None and money.random() < 0.05:
        back = c.churn_at + money.uniform(30, 120) * DAY
        if back <= end:
            out.append((back, ev("renewed", back)))
    read = _draw(seed, c.cid, "csm")
    t = c.joined + read.uniform(20, 90) * DAY
    while t < stop:
        mean = 2.0 if t >= c.decline_at else 3.8
        rating = min(5, max(1, round(read.gauss(mean, 0.9))))
        out.append((t, ev("csm_assessment", t, rating=rating, author=owner)))
        t += read.uniform(60, 120) * DAY
    return out


def _written(doc: dict[str, Any]) -> float:
    """An event's time as written (to the millisecond), as a replay, and so a page, reads it."""
    at = read_time(doc["occurred_at"])
    assert at is not None
    return at


def _first_alert(
    docs: list[dict[str, Any]], policy: Policy, end: float, refresh: float
) -> tuple[float, tuple[str, ...]] | None:
    """The first alert the scoring core raises over a customer's events, living through them
    as a backtest replays them (`stream.offline.backtest.replay_customer`): when, and its rules
    (the leading one first); None if none is raised."""
    events = sorted(
        (decode_event(json.dumps(doc, separators=(",", ":")).encode()) for doc in docs),
        key=event_order,
    )
    standing = Standing(CustomerState(events[0].customer_id))
    state = standing.state
    raised: list[Alert] = []
    for event in events:
        t = event.occurred_at
        catch_up_into(standing, t, policy, refresh, raised)
        if not raised and apply_into(state, event, policy) == APPLIED:
            evaluate_into(standing, t, policy, refresh, False, raised)
        if raised:
            break
    else:
        catch_up_into(standing, end, policy, refresh, raised)
    if not raised:
        return None
    alert = raised[0]
    return alert.raised_at, alert.rules or (alert.rule,)


_PAGES: tuple[Policy, float] | None = None  # a worker process's policy and end of the span


def _init_pages(policy: Policy, end: float) -> None:
    global _PAGES  # one policy per worker process, set once
    _PAGES = (policy, end)


def _first_alerts(
    customers: list[list[dict[str, Any]]],
) -> list[tuple[float, tuple[str, ...]] | None]:
    assert _PAGES is not None
    policy, end = _PAGES
    return [_first_alert(docs, policy, end, DEFAULT_REFRESH) for docs in customers]


def _draw(seed: int, cid: str, purpose: str) -> random.Random:
    """A customer's own random stream for one purpose: the same whatever else is drawn."""
    return random.Random(f"{seed}/{cid}/{purpose}")


def simulate_churn(
    out: Path,
    customers: int = 3000,
    *,
    days: int = 540,
    seed: int = 11,
    on_customer: Callable[[int], None] | None = None,
    outreach_effect: float = 0.0,
    holdout: Holdout | None = None,
    policy: Policy | None = None,
    workers: int | None = None,
) -> int:
    """A customer base whose churn follows known mechanics, with `churned` events.

    Each customer has its own usage level (log-normal across customers), segment and seats.
    At a random time some customers start to disengage: usage falls off over weeks, support
    tickets and escalations grow, survey answers sour; most of them churn some weeks later,
    a few recover. A small share of engaged customers churns anyway (budget, acquisition), so
    no model can be perfect. Usage has weekly rhythm and day-to-day noise.

    With `outreach_effect` or a `holdout`, acting on alerts has a known effect. Each customer's
    events are lived through by the scoring core under `policy` (the shipped one by default)
    to find its first alert (a page). A paged customer that is declining towards churn
    ("at risk") recovers with outreach with probability `outreach_effect` (its own draw,
    made whether or not it is held out); it gets outreach unless `holdout` holds it out. One
    that gets outreach and recovers keeps its events up to the page, then its engagement
    comes back over `RECOVERY_DAYS` days and it does not churn. `holdout.csv` records, for
    every paged customer, both outcomes: its churn without outreach and with it, so the
    true effect of the outreach on the paged customers is known exactly
    (`stream.offline.holdout.true_effect`). Without either, the output is what it always was.
    The pages are found in `workers` processes (default: one per core).
    """
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    span_end = start + days * DAY
    truth: list[tuple[str, float | None, bool, float | None]] = []
    paged: list[list[str]] = []
    experiment = outreach_effect > 0 or holdout is not None
    if experiment and policy is None:
        from stream.resources import load_policy

        policy = load_policy()

    pending: list[tuple[_Traits, list[tuple[float, dict[str, Any]]], int]] = []

    def docs() -> Iterator[dict[str, Any]]:
        for i in range(customers):
            c = _traits(rng, i, start, days)
            cid = c.cid
            ev = _Emitter(cid)
            decline = None if c.decline_at == float("inf") else c.decline_at
            truth.append((cid, decline, c.recovers, c.churn_at))
            stop = min(span_end, c.churn_at or float("inf"))
            owner = f"csm{i % 7}@example.com"
            first = ev(
                "account_updated", c.joined, segment=c.segment, owner=owner, mrr=_mrr(seed, c)
            )
            made = [(_written(first), first)]
            if not experiment:
                yield first
            for day, doc in _activity(rng, c, ev, c.joined, stop, partial(_engaged, c)):
                if experiment:
                    made.append((day, doc))
                else:
                    yield doc
            if c.churn_at is not None and c.churn_at <= span_end:
                doc = ev("churned", c.churn_at, reason="simulated")
                made.append((float("inf"), doc))
                if not experiment:
                    yield doc
            for _, doc in _business(seed, c, ev, stop, span_end, owner):
                if experiment:
                    made.append((float("inf") if doc["type"] == "renewed" else _written(doc), doc))
                else:
                    yield doc
            if experiment:
                pending.append((c, made, i))
                if len(pending) >= PAGE_CHUNK or i == customers - 1:
                    yield from _with_outreach()
            elif on_customer is not None:
                on_customer(i)

    def _with_outreach() -> Iterator[dict[str, Any]]:
        """The pending customers' events, each with the outreach it got."""
        assert policy is not None
        batch = [[doc for _, doc in made] for _, made, _ in pending]
        if pool is None:
            pages = [_first_alert(docs, policy, span_end, DEFAULT_REFRESH) for docs in batch]
        else:
            size = max(1, -(-len(batch) // (2 * workers_used)))
            parts = [batch[k : k + size] for k in range(0, len(batch), size)]
            pages = [page for part in pool.map(_first_alerts, parts) for page in part]
        for (c, made, i), page in zip(pending, pages, strict=True):
            yield from _outreach(c, made, i, page)
            if on_customer is not None:
                on_customer(i)
        pending.clear()

    def _outreach(
        c: _Traits,
        made: list[tuple[float, dict[str, Any]]],
        at: int,
        page: tuple[float, tuple[str, ...]] | None,
    ) -> list[dict[str, Any]]:
        """The customer's events with the outreach it got, and its row of holdout.csv."""
        assert policy is not None
        every = [doc for _, doc in made]
        if page is None:
            return every
        t, named = page
        held = holdout is not None and holdout.holds(c.cid)
        at_risk = c.decline_at <= t and not c.recovers and c.churn_at is not None and t < c.churn_at
        recovers = at_risk and _draw(seed, c.cid, "outreach").random() < outreach_effect
        rules = [r for r in named if policy.alerts.pages(r)]
        without = c.churn_at
        with_outreach = None if recovers else without
        paged.append(
            [
                c.cid,
                rfc3339(t),
                " ".join(rules),
                str(int(held)),
                str(int(at_risk)),
                str(int(recovers)),
                "" if without is None else rfc3339(without),
                "" if with_outreach is None else rfc3339(with_outreach),
            ]
        )
        if held or not recovers:
            return every
        # outreach reached it and it recovers: as it was up to the page, then coming back
        kept = [doc for day, doc in made if day <= t]
        ev = _Emitter(c.cid)
        ev.seq = len(made)  # every id made so far is taken, kept or not
        tickets = sum(1 for doc in kept if doc["type"] == "ticket_opened")
        day = c.joined
        while day <= t:
            day += DAY
        was = _engaged(c, t)

        def back(d: float) -> float:
            return was + (1.0 - was) * min(1.0, (d - t) / (RECOVERY_DAYS * DAY))

        rest = _activity(_draw(seed, c.cid, "recovery"), c, ev, day, span_end, back, tickets)
        truth[at] = (c.cid, truth[at][1], True, None)
        return kept + [doc for _, doc in rest]

    about: dict[str, Any] = {
        "name": "simulated",
        "source": "stream.offline.datasets.simulate_churn",
        "real": "nothing: every event is simulated with known churn mechanics",
        "synthesised": "everything (see the function's documentation)",
        "customers": customers,
        "seed": seed,
        "cutoffs": [rfc3339(start + d * DAY)[:10] for d in (270, 360, 450)],
        "horizon_days": 90,
        "outcome": "churned events",
        "truth": "truth.csv: when each customer started to disengage (empty: never), whether "
        "it recovers, when it churns (empty: not within the span or never)",
    }
    if experiment:
        assert policy is not None
        about["holdout"] = {
            "experiment": holdout.experiment if holdout is not None else None,
            "share": holdout.share if holdout is not None else 0.0,
            "outreach_effect": outreach_effect,
            "recovery_days": RECOVERY_DAYS,
            "policy_model": policy.model,
            "truth": f"{HOLDOUT_TRUTH}: every customer an alert paged (its first alert under "
            "the policy), when, by which paging rules, whether the holdout held it out, whether "
            "it was declining towards churn (at risk), whether outreach makes it recover (its "
            "own draw, held out or not), when it churns without outreach and with it (empty: "
            "not at all)",
            "policy": "set alerts.holdout to this experiment and share to estimate the effect "
            "(`stream.offline.holdout.holdout_effects`)",
        }
    workers_used = workers or os.cpu_count() or 1
    pool = None
    if policy is not None and experiment and workers_used > 1 and customers >= PAGE_CHUNK:
        pool = ProcessPoolExecutor(
            workers_used, initializer=_init_pages, initargs=(policy, span_end)
        )
    try:
        count = _write(out, docs(), about)
    finally:
        if pool is not None:
            pool.shutdown()
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "declines_at", "recovers", "churns_at"])
        for cid, decline, recovers, churn in truth:
            w.writerow(
                [
                    cid,
                    "" if decline is None else rfc3339(decline),
                    int(recovers),
                    "" if churn is None else rfc3339(churn),
                ]
            )
    if experiment:
        with (out / HOLDOUT_TRUTH).open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "customer_id",
                    "paged_at",
                    "rules",
                    "held_out",
                    "at_risk",
                    "recovers_with_outreach",
                    "churns_at_without_outreach",
                    "churns_at_with_outreach",
                ]
            )
            w.writerows(paged)
    return count


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# --- sets not on PyPI: converted from a file the user downloaded --------------------------------

LOCAL_CUTOFF = datetime(2021, 1, 1, tzinfo=UTC).timestamp()
MONTH = 30 * DAY


def _rows(source: Path, needed: tuple[str, ...]) -> list[dict[str, str]]:
    """The CSV's rows (column names with their spaces collapsed), or a DatasetError naming what
    is missing."""
    if not source.is_file():
        raise DatasetError(f"{source}: no such file")
    with source.open(newline="", encoding="utf-8-sig") as fh:
        rows = [{" ".join(k.split()): v for k, v in r.items() if k} for r in csv.DictReader(fh)]
    missing = [c for c in needed if not rows or c not in rows[0]]
    if missing:
        raise DatasetError(f"{source}: no column {', '.join(missing)} (is it the right file?)")
    return rows


def _converted(
    out: Path,
    docs: Iterator[dict[str, Any]],
    about: dict[str, Any],
    labels: dict[str, bool],
    source: Path,
) -> int:
    """`_write`, with a value the file cannot hold (a word where a count belongs) said as a
    DatasetError naming the file."""
    try:
        return _write(out, docs, about, labels)
    except (ValueError, KeyError) as exc:
        raise DatasetError(
            f"{source}: a value is not what the data set holds there ({exc})"
        ) from None


def _spread(rng: random.Random, n: int, start: float, end: float) -> list[float]:
    return sorted(rng.uniform(start, end) for _ in range(n))


_CARDS = {"Blue": "smb", "Silver": "mid_market", "Gold": "enterprise", "Platinum": "enterprise"}
_BANK = ("CLIENTNUM", "Attrition_Flag", "Card_Category", "Total_Relationship_Count",
         "Months_Inactive_12_mon", "Contacts_Count_12_mon", "Total_Revolving_Bal",
         "Total_Trans_Amt", "Total_Trans_Ct", "Total_Ct_Chng_Q4_Q1")  # fmt: skip


def bank_churners(out: Path, source: Path, seed: int = 7) -> int:
    """Kaggle's "Credit Card customers" (`BankChurners.csv`) as a year of synthesised events."""
    rows = [r for r in _rows(source, _BANK) if r["CLIENTNUM"].strip().isdigit()]
    rng = random.Random(seed)
    start = LOCAL_CUTOFF - 12 * MONTH
    labels: dict[str, bool] = {}

    def docs() -> Iterator[dict[str, Any]]:
        for r in rows:
            cid = f"bank-{r['CLIENTNUM'].strip()}"
            labels[cid] = r["Attrition_Flag"].strip() == "Attrited Customer"
            ev = _Emitter(cid)
            # a card's revenue, roughly: interest on the revolving balance, interchange on spend
            mrr = float(r["Total_Revolving_Bal"]) * 0.18 / 12 + float(r["Total_Trans_Amt"]) / 600
            yield ev(
                "account_updated",
                start,
                segment=_CARDS.get(r["Card_Category"].strip(), "default"),
                mrr=round(mrr, 2),
            )
            change = float(r["Total_Ct_Chng_Q4_Q1"])  # last quarter's count over the first's
            weights = [1.0 + (change - 1.0) * m / 11 for m in range(12)]
            for m in rng.sample(range(12), min(11, int(r["Months_Inactive_12_mon"]))):
                weights[m] = 0.0
            total = sum(weights)
            count = int(r["Total_Trans_Ct"])
            features = [f"product-{j}" for j in range(max(1, int(r["Total_Relationship_Count"])))]
            for m in range(12):
                n = round(count * weights[m] / total) if total > 0 else 0
                for t in _spread(rng, n, start + m * MONTH, start + (m + 1) * MONTH):
                    yield ev("feature_used", t, feature=rng.choice(features), count=1)
            contacts = int(r["Contacts_Count_12_mon"])
            yield from _tickets(ev, _spread(rng, contacts, start, LOCAL_CUTOFF - DAY), "t")

    about = {
        "name": "bank-churners",
        "source": f"{source.name}: Kaggle 'Credit Card customers' (not on PyPI)",
        "real": "per-customer aggregates over 12 months: transactions, their Q4/Q1 change, "
        "months inactive, contacts, products held, card category, balances; attrition flag",
        "synthesised": "every event time: transactions spread over the 12 months before the "
        "cutoff (none in the inactive months, chosen at random), contacts as tickets, the MRR",
        "cutoff": "2021-01-01",
        "horizon_days": 90,
        "outcome": "the data set's attrition flag (labels.csv)",
    }
    return _converted(out, docs(), about, labels, source)


_IRAN = ("Subscription Length", "Frequency of use", "Frequency of SMS", "Call Failure",
         "Complains", "Status", "Tariff Plan", "Customer Value", "Churn")  # fmt: skip


def iranian_churn(out: Path, source: Path, seed: int = 7) -> int:
    """UCI's "Iranian Churn Dataset" (`Customer Churn.csv`) as synthesised events."""
    rows = _rows(source, _IRAN)
    rng = random.Random(seed)
    labels: dict[str, bool] = {}

    def docs() -> Iterator[dict[str, Any]]:
        for i, r in enumerate(rows):
            cid = f"iran-{i:05d}"
            labels[cid] = r["Churn"].strip() == "1"
            ev = _Emitter(cid)
            start = LOCAL_CUTOFF - min(12.0, float(r["Subscription Length"])) * MONTH
            segment = "smb" if r["Tariff Plan"].strip() == "1" else "mid_market"
            mrr = round(float(r["Customer Value"]) / 12, 2)
            yield ev("account_updated", start, segment=segment, mrr=mrr)
            end = LOCAL_CUTOFF
            if r["Status"].strip() == "2":  # non-active
                end -= rng.uniform(30, 90) * DAY
            for feature, column in (("calls", "Frequency of use"), ("sms", "Frequency of SMS")):
                for t in _spread(rng, int(r[column]), start, max(start, end)):
                    yield ev("feature_used", t, feature=feature, count=1)
            failures = int(r["Call Failure"])
            yield from _tickets(ev, _spread(rng, failures, start, LOCAL_CUTOFF - DAY), "f")
            if r["Complains"].strip() == "1":
                at = rng.uniform(max(start, LOCAL_CUTOFF - 90 * DAY), LOCAL_CUTOFF - DAY)
                yield ev("ticket_opened", at, ticket_id=f"{cid}-c", priority="high")
                yield ev("ticket_escalated", at + 3600, ticket_id=f"{cid}-c")
                yield ev("ticket_replied", at + 2 * 3600, ticket_id=f"{cid}-c", by="agent")

    about = {
        "name": "iranian-churn",
        "source": f"{source.name}: UCI 'Iranian Churn Dataset' (not on PyPI)",
        "real": "per-customer aggregates: calls, text messages, call failures, complaint, "
        "months subscribed, status, tariff plan, customer value; churn flag",
        "synthesised": "every event time: calls and messages spread over the months subscribed "
        "(at most 12, stopping 30-90 days early for a non-active status), failures as tickets, "
        "a complaint as an escalated ticket in the last 90 days",
        "cutoff": "2021-01-01",
        "horizon_days": 90,
        "outcome": "the data set's churn flag (labels.csv)",
    }
    return _converted(out, docs(), about, labels, source)


# sets converted from a file the user downloaded: the function, and where to get the file
LOCAL: dict[str, tuple[Callable[[Path, Path], int], str]] = {
    "bank-churners": (bank_churners, "Kaggle, 'Credit Card customers': BankChurners.csv"),
    "iranian-churn": (iranian_churn, "UCI, 'Iranian Churn Dataset': Customer Churn.csv"),
}

DATASETS: dict[str, Callable[[Path], int]] = {
    "cdnow": cdnow,
    "saas": saas,
    "simulated": simulate_churn,
}
