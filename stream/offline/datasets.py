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
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import random
import tarfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scoring.decay import DAY
from scoring.serialize import rfc3339

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
    cached.write_bytes(data)
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
            for k in range(tickets):
                at = rng.uniform(max(start, end - 60 * DAY), end - DAY)
                yield ev("ticket_opened", at, ticket_id=f"{cid}-t{k}", priority="normal")
                yield ev("ticket_replied", at + 3600, ticket_id=f"{cid}-t{k}", by="agent")
                yield ev("ticket_resolved", at + 6 * 3600, ticket_id=f"{cid}-t{k}")

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


def simulate_churn(
    out: Path,
    customers: int = 3000,
    *,
    days: int = 540,
    seed: int = 11,
    on_customer: Callable[[int], None] | None = None,
) -> int:
    """A customer base whose churn follows known mechanics, with `churned` events.

    Each customer has its own usage level (log-normal across customers), segment and seats.
    At a random time some customers start to disengage: usage falls off over weeks, support
    tickets and escalations grow, survey answers sour; most of them churn some weeks later,
    a few recover. A small share of engaged customers churns anyway (budget, acquisition), so
    no model can be perfect. Usage has weekly rhythm and day-to-day noise."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    truth: list[tuple[str, float | None, bool, float | None]] = []

    def docs() -> Iterator[dict[str, Any]]:
        for i in range(customers):
            cid = f"sim-{i:06d}"
            ev = _Emitter(cid)

            joined = start + rng.uniform(0, days * 0.6) * DAY
            segment = rng.choices(("smb", "mid_market", "enterprise"), (0.6, 0.3, 0.1))[0]
            seats = {"smb": 5, "mid_market": 40, "enterprise": 300}[segment]
            seats = max(1, int(seats * rng.uniform(0.5, 2.0)))
            level = math.exp(rng.gauss(0.5, 0.8))  # activity units a day when engaged
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
            truth.append(
                (cid, None if decline_at == float("inf") else decline_at, recovers, churn_at)
            )
            stop = min(start + days * DAY, churn_at or float("inf"))
            yield ev("account_updated", joined, segment=segment, owner=f"csm{i % 7}@example.com")
            day = joined
            ticket = 0
            while day < stop:
                into = max(0.0, (day - decline_at) / DAY)
                engaged = math.exp(-into / 25) if not recovers else max(0.3, math.exp(-into / 40))
                if recovers and into > 90:
                    engaged = 1.0
                weekly = 0.4 if datetime.fromtimestamp(day, UTC).weekday() >= 5 else 1.0
                n = _poisson(rng, level * engaged * weekly)
                for _ in range(n):
                    at = day + rng.uniform(0, DAY)
                    if rng.random() < 0.5:
                        yield ev("session", at, user_id=f"u{rng.randint(1, seats)}")
                    else:
                        used = features if engaged > 0.5 else features[: max(1, len(features) // 3)]
                        yield ev(
                            "feature_used", at, feature=rng.choice(used), count=rng.randint(1, 3)
                        )
                if rng.random() < 1 / 30:
                    share = rng.uniform(0.5, 0.9) * (0.3 + 0.7 * engaged)
                    yield ev(
                        "seat_snapshot",
                        day + 3600,
                        active_users=round(seats * share),
                        licensed_seats=seats,
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
                    yield ev("ticket_opened", at, ticket_id=tid, priority=prio)
                    reply = at + rng.uniform(0.5, 30 + 60 * trouble) * 3600
                    if reply < stop:
                        yield ev("ticket_replied", reply, ticket_id=tid, by="agent")
                    if rng.random() < 0.3 * trouble:
                        yield ev("ticket_escalated", reply + 3600, ticket_id=tid)
                    done = reply + rng.uniform(2, 120 + 200 * trouble) * 3600
                    if done < stop:
                        yield ev("ticket_resolved", done, ticket_id=tid)
                if rng.random() < 1 / 45:
                    mood = engaged if rng.random() < 0.8 else rng.random()
                    kind = rng.choice(("nps", "csat", "ces"))
                    if kind == "nps":
                        s = max(0, min(10, round(rng.gauss(4 + 5.5 * mood, 1.5))))
                    elif kind == "csat":
                        s = max(1, min(5, round(rng.gauss(2 + 2.8 * mood, 0.8))))
                    else:
                        s = max(1, min(7, round(rng.gauss(2.5 + 4 * mood, 1.0))))
                    yield ev(kind, day + rng.uniform(0, DAY), score=s)
                day += DAY
            if churn_at is not None and churn_at <= start + days * DAY:
                yield ev("churned", churn_at, reason="simulated")
            if on_customer is not None:
                on_customer(i)

    about = {
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
    count = _write(out, docs(), about)
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


DATASETS: dict[str, Callable[[Path], int]] = {
    "cdnow": cdnow,
    "saas": saas,
    "simulated": simulate_churn,
}
