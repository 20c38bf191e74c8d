"""The engine's fold and its runner, against the in-memory store: no services (the same paths
run against real Kafka and Redis in tests/integration)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import orjson

from scoring.serialize import rfc3339
from stream.messages import Incoming
from stream.resources import load_policy
from stream.settings import Settings
from stream.store import Record
from stream.store.memory import MemoryStore
from stream.worker.engine import Engine, Outputs
from stream.worker.fold import FoldOptions, by_customer, fold, fold_due, tally

POLICY = load_policy()
DAY = 86_400.0
T0 = 1_767_225_600.0  # 2026-01-01
CID = "acme"


def usage(offset: int, at: float, cid: str = CID, event_id: str | None = None) -> Incoming:
    doc = {
        "event_id": event_id or f"{cid}-{offset}",
        "customer_id": cid,
        "type": "session",
        "occurred_at": rfc3339(at),
        "user_id": "u1",
    }
    return Incoming("usage-events", 0, offset, cid.encode(), orjson.dumps(doc), None)


class Sent:
    """A publisher that keeps what it was given."""

    def __init__(self) -> None:
        self.outputs: list[Outputs] = []

    async def publish(self, outputs: Outputs) -> None:
        self.outputs.append(outputs)

    def scores(self) -> list[dict[str, Any]]:
        return [orjson.loads(k.value) for o in self.outputs for k in o.scores]

    def alerts(self) -> list[dict[str, Any]]:
        return [orjson.loads(k.value) for o in self.outputs for k in o.alerts]


def engine(**settings: Any) -> tuple[Engine, MemoryStore, Sent]:
    store, sent = MemoryStore(), Sent()
    return Engine(Settings(**settings), POLICY, store, sent), store, sent


def run(e: Engine, *batches: list[Incoming]) -> None:
    async def go() -> None:
        for batch in batches:
            await e.process(batch)

    asyncio.run(go())


def stored(store: MemoryStore, cid: str = CID) -> Record:
    return Record.parse(cid, store.stored[cid])


def test_a_customer_is_scored_once_per_batch_at_its_latest_event() -> None:
    e, store, sent = engine()
    run(e, [usage(i, T0 + i * 3600) for i in range(5)])
    assert [rfc3339(T0 + 4 * 3600)] == [s["as_of"] for s in sent.scores()]
    rec = stored(store)
    assert rec.evaluated is not None
    assert rec.evaluated.at == T0 + 4 * 3600


def test_the_fold_is_pure_and_every_event_mode_ends_in_the_same_state() -> None:
    msgs = [usage(i, T0 + i * DAY) for i in range(6)]
    states = []
    for every in (False, True):
        e, _, _ = engine(evaluate_every_event=every)
        groups, _ = by_customer(e.decode(msgs))
        records = {CID: Record(CID)}
        out = fold(records, groups, POLICY, FoldOptions(refresh=7 * DAY, every_event=every))
        assert (6, 0, [records[CID]]) == (out.applied, out.duplicates, out.changed)
        states.append(records[CID].state)
    assert states[0] == states[1]


def test_a_redelivered_batch_is_recognised_by_its_offsets_and_changes_nothing() -> None:
    e, store, _ = engine()
    batch = [usage(i, T0 + i * 3600) for i in range(3)]
    run(e, batch)
    before = store.stored[CID]

    async def again() -> tuple[int, int]:
        result = await e.process(batch)
        return result.applied, result.duplicates

    assert (0, 3) == asyncio.run(again())
    assert stored(store).state == Record.parse(CID, before).state


def test_the_same_event_under_a_new_offset_is_a_duplicate() -> None:
    e, store, _ = engine()
    run(e, [usage(1, T0, event_id="x")], [usage(2, T0, event_id="x")])
    rec = stored(store)
    assert rec.state is not None
    assert rec.offsets == {"u0": 2}
    assert rec.state.activity_long.value == 1.0


def test_due_moments_an_event_passes_are_evaluated_before_it() -> None:
    e, store, sent = engine()
    quiet = POLICY.alerts.inactivity_after
    back = T0 + quiet + 10 * DAY
    run(e, [usage(0, T0)], [usage(1, back)])
    alerts = sent.alerts()
    assert 1 == len(alerts)  # one episode: the band drop, then the inactivity joining it
    assert rfc3339(back) > alerts[0]["raised_at"]
    crossed = stored(store).alerts.rules["inactivity"].last_raised_at
    assert crossed is not None
    assert back > crossed >= T0 + quiet  # evaluated at its due moment, before the event


def test_an_event_older_than_the_customer_clock_still_counts() -> None:
    """Within the dedupe window (35 days)."""
    e, store, _ = engine()
    run(e, [usage(0, T0 + 10 * DAY, event_id="a")], [usage(1, T0, event_id="b")])
    late = stored(store).state
    e2, store2, _ = engine()
    run(e2, [usage(0, T0, event_id="b")], [usage(1, T0 + 10 * DAY, event_id="a")])
    in_order = stored(store2).state
    assert late is not None
    assert in_order is not None
    assert abs(late.activity_long.value - in_order.activity_long.value) < 1e-9
    assert (late.clock, late.first_seen) == (in_order.clock, in_order.first_seen)


def test_a_score_moving_less_than_the_publish_step_is_not_published() -> None:
    e, _, sent = engine(publish_min_step=50.0)
    run(e, [usage(0, T0)], [usage(1, T0 + 3600)])
    assert 1 == len(sent.scores())
    e, _, sent = engine(publish_min_step=0.0)
    run(e, [usage(0, T0)], [usage(1, T0 + 3600)])
    assert 2 == len(sent.scores())


def test_a_lost_compare_and_set_folds_the_customer_again_from_the_winner() -> None:
    e, store, _ = engine()
    run(e, [usage(0, T0)])
    store.conflict_once = {CID}

    async def conflicting() -> int:
        result = await e.process([usage(1, T0 + 3600), usage(2, T0 + 7200)])
        return result.conflicts

    assert 1 == asyncio.run(conflicting())
    rec = stored(store)
    assert rec.state is not None
    assert rec.offsets == {"u0": 2}
    assert rec.state.activity_long.ref == T0 + 7200
    assert rec.version == 3  # first write, the rival's, and the retry


def test_dead_letters_are_published_once_and_the_rest_is_applied() -> None:
    e, store, sent = engine()
    bad = Incoming("usage-events", 0, 5, b"acme", b"{not json", None)
    run(e, [usage(0, T0), bad])
    assert [1] == [len(o.dead) for o in sent.outputs if o.dead]
    assert stored(store).offsets == {"u0": 0}


def test_an_event_too_late_to_tell_from_a_duplicate_is_a_dead_letter_with_its_reason() -> None:
    e, store, sent = engine()
    late = usage(1, T0, event_id="old")
    run(e, [usage(0, T0 + 60 * DAY, event_id="now")], [late])
    (letter,) = [d for o in sent.outputs for d in o.dead]
    assert (letter.source, letter.field) == (late, "occurred_at")
    assert "dedupe_window_days" in letter.error
    rec = stored(store)
    assert rec.state is not None
    assert rec.state.activity_long.ref == T0 + 60 * DAY  # not counted
    assert rec.offsets == {"u0": 1}  # consumed: a redelivery of it is not dead-lettered again


def test_a_batch_moves_the_watermark_to_its_latest_event_time_and_positions_to_its_last() -> None:
    e, _, _ = engine()
    run(e, [usage(0, T0 + 3600), usage(1, T0), usage(2, T0 + 7200, cid="beta")])
    assert ({0: T0 + 7200}, {("usage-events", 0): 2}) == (e.watermarks, e.positions)
    run(e, [usage(3, T0)])  # behind in event time: the watermark stays
    assert ({0: T0 + 7200}, {("usage-events", 0): 3}) == (e.watermarks, e.positions)


def test_the_outcomes_of_a_batch_are_tallied_for_the_metrics() -> None:
    a, b = Record("a"), Record("b")
    a.outcomes = [
        ("usage-events", "session", "applied", T0 - 2.0, T0 - 10.0),
        ("usage-events", "session", "duplicate", T0 - 1.0, T0 - 10.0),
        ("usage-events", "session", "applied", None, T0 - 5.0),  # no produce time
    ]
    b.outcomes = [("support-events", "ticket_opened", "dead_lettered", T0, T0 - 90 * DAY)]
    counts, latencies, ages, too_late = tally([a, b], T0)
    assert {
        ("usage-events", "session", "applied"): 2,
        ("usage-events", "session", "duplicate"): 1,
        ("support-events", "ticket_opened", "dead_lettered"): 1,
    } == counts
    assert ([2.0], [10.0, 5.0], ["support-events"]) == (latencies, ages, too_late)


def test_folding_and_catching_up_leave_nothing_for_the_cyclic_collector() -> None:
    """The fold runs for every customer of every batch: what it makes must be freed by reference
    counting. Garbage in reference cycles waits for the cyclic collector, which the worker runs
    rarely (`stream.app.tune_garbage_collector`): its memory would pile up between passes."""
    e, _, _ = engine()
    customers = [f"c{i}" for i in range(20)]
    # a few days of activity, then silence: the look-ahead searches for each one's due time
    msgs = [
        usage(k * 100 + i, T0 + i * 3600 + k * DAY, cid)
        for k in range(5)
        for i, cid in enumerate(customers)
    ]
    groups, _ = by_customer(e.decode(msgs))
    records = {cid: Record(cid) for cid in customers}
    options = FoldOptions(refresh=DAY)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assert 100 == fold(records, groups, POLICY, options).applied
        fold_due(records, T0 + 60 * DAY, POLICY, options)
        gc.collect()
        ours = sorted(n for n in _type_names(gc.garbage) if n.startswith(("scoring.", "stream.")))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert ours == [], f"left in reference cycles: {ours}"
    assert all(r.state is not None and r.due is not None for r in records.values())


def _type_names(objects: list[object]) -> set[str]:
    return {type(o).__module__ + "." + type(o).__qualname__ for o in objects}
