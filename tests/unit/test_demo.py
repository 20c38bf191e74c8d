"""`make demo`'s alerts, replayed through the pure fold the worker uses: a volume a manager can
work, each alert with reasons, none for a one-point move."""

from __future__ import annotations

import re
from collections import defaultdict

import orjson
import pytest

from scoring.events import Event
from scoring.timeline import replay
from stream.codec import decode_event
from stream.contract import INPUT_TOPICS
from stream.dev.demo import customer_base
from stream.i18n import words
from stream.resources import load_policy
from stream.settings import Settings

ENGLISH = words("en")

CUSTOMERS = 200
EVENTS = 15_000  # the demo's default: 30 s at 500 events/s over 60 days of event time


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_demo_raises_at_most_30_alerts_each_with_reasons(seed: int) -> None:
    policy, settings = load_policy(), Settings()
    base = customer_base(CUSTOMERS, seed)
    by: dict[str, list[Event]] = defaultdict(list)
    for e in base.events(EVENTS):
        event = decode_event(orjson.dumps(e.doc), topic=INPUT_TOPICS[e.kind])  # type: ignore[index]
        by[event.customer_id].append(event)
    end = max(e.occurred_at for events in by.values() for e in events)
    alerts = [
        a
        for events in by.values()
        for a in replay(events, policy, settings.reevaluate_every_seconds, end)[1]
    ]
    assert 0 < len(alerts) <= 30, f"{len(alerts)} alerts"
    for a in alerts:
        assert a.reasons
        assert all(len(ENGLISH(r)) > 20 for r in a.reasons), a.reasons
        said = [ENGLISH(r) for r in a.reasons]
        assert len(set(said)) == len(said), said  # no reason twice in other words
        for reason in a.reasons:  # a band drop is a move past the edge, never a wobble
            drop = re.search(r"\(score (\d+), was (\d+) within", ENGLISH(reason))
            assert drop is None or int(drop[2]) - int(drop[1]) > 1, reason
