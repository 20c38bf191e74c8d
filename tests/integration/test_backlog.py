"""Correct under backlog: a months-long history loaded topic after topic ends exactly like the
same history loaded interleaved, like a run killed and restarted in the middle, and like living
through it; customers active every day raise no alert."""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from stream.dev.synthetic import CustomerBase
from stream.store import Keys, Record

from .conftest import Stack, wait_for
from .harness import Run, Topics, killed_and_resumed, produce, read_topic
from .histories import DAY, Doc, doc, every_day, in_event_time, topic_after_topic
from .reference import (
    POLICY,
    SETTINGS,
    alert_ids,
    differences,
    differences_from_living_through,
    living_through,
    watermarks,
)

DAYS = 120
DAILY = 20  # customers active every single day
MIXED = 30  # synthetic customers, a share of them drifting toward churn


@dataclass
class Result:
    run: Run
    records: dict[str, Record]
    alerts: dict[str, set[str]]
    dead: list[tuple[str, object]]
    seconds: float


def history() -> list[Doc]:
    docs: list[Doc] = []
    for i in range(DAILY):
        docs.extend(every_day(f"daily-{i:02d}", DAYS))
    base = CustomerBase(MIXED, seed=11, span_days=DAYS, declining_share=0.4, prefix="mixed")
    docs.extend((e.kind, e.doc) for e in base.events(6_000))
    return in_event_time(docs)


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    return history()


# Evaluating after every event gives the alerts of living through the history whatever the
# batching (`HEALTHSCORE_EVALUATE_EVERY_EVENT`); the default evaluates once per customer per
# batch, which keeps the state and offsets exact (test_batch_mode_...) but not every alert.
EXACT = {"evaluate_every_event": "true"}


def load_and_drain(stack: Stack, docs: list[Doc], log_dir: Path, **settings: str) -> Result:
    """Produce `docs` in the order given, then start a worker on the backlog and let it drain."""
    topics = Topics()
    produce(stack, topics, docs)
    run = Run(stack, topics, log_dir, **settings)
    started = time.monotonic()
    run.start()
    try:
        run.wait_drained(timeout=600)
        records = run.wait_quiet()
        seconds = time.monotonic() - started
    finally:
        run.stop_all()
    return Result(run, records, alert_ids(stack, run), read_topic(stack, topics.dlq), seconds)


@pytest.fixture(scope="module")
def interleaved(stack: Stack, docs: list[Doc], tmp_path_factory: pytest.TempPathFactory) -> Result:
    return load_and_drain(stack, docs, tmp_path_factory.mktemp("interleaved"), **EXACT)


@pytest.fixture(scope="module")
def one_topic_after_another(
    stack: Stack, docs: list[Doc], tmp_path_factory: pytest.TempPathFactory
) -> Result:
    return load_and_drain(
        stack, topic_after_topic(docs), tmp_path_factory.mktemp("topic-by-topic"), **EXACT
    )


def test_a_backfill_loaded_topic_after_topic_dead_letters_nothing(
    one_topic_after_another: Result,
) -> None:
    assert [] == one_topic_after_another.dead


def test_a_backfill_loaded_topic_after_topic_ends_like_one_loaded_interleaved(
    interleaved: Result, one_topic_after_another: Result
) -> None:
    print(
        f"drained and settled: interleaved {interleaved.seconds:.1f}s, "
        f"topic after topic {one_topic_after_another.seconds:.1f}s"
    )
    assert [] == interleaved.dead
    assert {} == differences(interleaved.records, one_topic_after_another.records)
    assert interleaved.alerts == one_topic_after_another.alerts


def test_a_backfill_ends_like_living_through_the_history(
    docs: list[Doc], one_topic_after_another: Result
) -> None:
    result = one_topic_after_another
    lived = living_through(docs, result.records, watermarks(result.run))
    assert {} == differences_from_living_through(lived, result.records, result.alerts)


def test_customers_active_every_day_get_no_alert_and_others_one_per_episode(
    docs: list[Doc], one_topic_after_another: Result
) -> None:
    alerts = one_topic_after_another.alerts
    assert {} == {cid: ids for cid, ids in alerts.items() if cid.startswith("daily-")}
    declining = {cid for cid in alerts if cid.startswith("mixed-")}
    assert declining, "the drifting customers raise alerts"
    run = one_topic_after_another.run
    raised: dict[tuple[str, str], set[float]] = {}
    for cid, alert in read_topic(run.stack, run.topics.alerts):
        at = datetime.fromisoformat(alert["raised_at"]).timestamp()
        raised.setdefault((cid, alert["rule"]), set()).add(at)
    cooldown = POLICY.alerts.cooldown
    floods = {
        key: len(times)
        for key, times in raised.items()
        if any(b - a < cooldown for a, b in itertools.pairwise(sorted(times)))
    }
    assert {} == floods


def test_a_worker_killed_in_the_middle_of_a_backlog_ends_like_an_uninterrupted_run(
    stack: Stack, docs: list[Doc], one_topic_after_another: Result, tmp_path: Path
) -> None:
    topics = Topics()
    produce(stack, topics, topic_after_topic(docs))
    run = Run(stack, topics, tmp_path, commit_interval_seconds="0.2", **EXACT)
    records = killed_and_resumed(run, 0.25)
    assert {} == differences(one_topic_after_another.records, records)
    assert one_topic_after_another.alerts == alert_ids(stack, run)


def test_batch_mode_a_backfill_ends_with_the_state_and_offsets_of_living_through(
    stack: Stack, docs: list[Doc], one_topic_after_another: Result, tmp_path: Path
) -> None:
    result = load_and_drain(stack, topic_after_topic(docs), tmp_path)
    print(f"batch mode drained and settled in {result.seconds:.1f}s")
    assert [] == result.dead
    lived = living_through(docs, result.records, watermarks(result.run))
    diffs = differences_from_living_through(lived, result.records, result.alerts)
    assert "state" not in diffs
    exact = one_topic_after_another.records
    assert {cid: r.offsets for cid, r in exact.items()} == {
        cid: r.offsets for cid, r in result.records.items()
    }
    assert {} == {cid: ids for cid, ids in result.alerts.items() if cid.startswith("daily-")}
    assert any(cid.startswith("mixed-") for cid in result.alerts), "drifting customers alert"


CATCH_UP_CUSTOMERS = 25_000
CATCH_UP_DAYS = 540  # 18 months


def sparse_history(customers: int, days: int, seed: int = 5) -> list[Doc]:
    """Many customers, few events each over a long span: onboarding, a first session soon
    after, one more signal months later. Catching up costs what happens to them."""
    rng = random.Random(seed)
    docs: list[Doc] = []
    for i in range(customers):
        cid = f"sparse-{i:05d}"
        start = rng.uniform(0, days * 2 / 3) * DAY
        docs.append(doc("account", "account_updated", cid, start, segment="smb", owner="csm-1"))
        docs.append(doc("usage", "session", cid, start + rng.uniform(0, 20) * DAY, user_id="u"))
        later = start + rng.uniform(30, days / 3) * DAY
        kind = rng.randrange(3)
        if kind == 0:
            docs.append(doc("usage", "feature_used", cid, later, feature="reports", count=2))
        elif kind == 1:
            docs.append(doc("survey", "nps", cid, later, score=rng.randint(0, 10)))
        else:
            docs.append(
                doc("support", "ticket_opened", cid, later, ticket_id=f"{cid}-t", priority="high")
            )
    return in_event_time(docs)


def settled(run: Run) -> bool:
    """Every input committed and no customer due before its partition's stream time."""
    if not run.drained():
        return False
    lateness = SETTINGS.allowed_lateness_seconds
    for partition, mark in watermarks(run).items():
        if run.redis.zcount(Keys(run.prefix).due(partition), "-inf", mark - lateness):
            return False
    return True


@pytest.mark.timed
def test_an_eighteen_month_backfill_of_many_customers_is_final_within_two_minutes(
    stack: Stack, tmp_path: Path
) -> None:
    docs = sparse_history(CATCH_UP_CUSTOMERS, CATCH_UP_DAYS)
    topics = Topics()
    produce(stack, topics, topic_after_topic(docs))
    run = Run(stack, topics, tmp_path, **EXACT)
    started = time.monotonic()
    run.start()
    try:
        wait_for(lambda: settled(run), 600, "the backfill consumed and every due moment passed")
        seconds = time.monotonic() - started
        records = run.wait_quiet()
        published = alert_ids(stack, run)
    finally:
        run.stop_all()
    print(f"{len(docs)} events of {CATCH_UP_CUSTOMERS} customers final in {seconds:.1f}s")
    lived = living_through(docs, records, watermarks(run))
    assert {} == differences_from_living_through(lived, records, published)
    assert seconds <= 120, f"{seconds:.0f}s to catch up"
