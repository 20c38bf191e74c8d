"""The small values the event path makes survive pickle and copy in either build.

A compiled class whose `__init__` is written out (for speed: `scoring.state.Stamped`) cannot be
made empty first, which is how pickle and copy rebuild an object; each says how to rebuild it
from its fields (`__reduce__`). A process pool or a `copy.deepcopy` of them depends on it.
"""

from __future__ import annotations

import copy
import pickle

import pytest

from scoring.health import Driver
from scoring.segments import Fact
from scoring.state import Stamped
from scoring.words import Message
from stream.store.parts import Evaluation, Published

VALUES = [
    Stamped(("12", 20), 1767225600.5),
    Driver("usage.trend", -6.25, Message("usage-trend", ("share", 0.4))),
    Fact("mrr_contraction", -12_000, 1767225600.0, "smb"),
    Fact("nps", 9, 1767225600.0),
    Published(61.5, "at_risk"),
    Evaluation(1767225600.0, 61.5, "at_risk", 70.25, 1234.5),
    Evaluation(1767225600.0, 61.5, "at_risk", None),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_a_value_comes_back_equal_from_pickle_and_copy(value: object) -> None:
    for back in (
        pickle.loads(pickle.dumps(value)),  # noqa: S301 (our own bytes)
        copy.deepcopy(value),
        copy.copy(value),
    ):
        assert type(back) is type(value)
        assert back == value
        assert back is not value
