"""`make bench`'s end-to-end rate: read from the worker's committed progress between 10% and
90% of the stream, and never a rate it did not measure."""

from __future__ import annotations

import math

import pytest

from bench import run


class Clock:
    """Time that passes only when the poller sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Draining:
    """A worker whose committed offsets grow by `step` events a poll."""

    def __init__(self, step: int, total: int) -> None:
        self.step, self.total, self.polls = step, total, 0

    def committed(self) -> tuple[int, None]:
        self.polls += 1
        return min(self.total, self.step * self.polls), None


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(run, "time", fake)
    return fake


def test_the_rate_is_the_progress_between_10_and_90_percent(clock: Clock) -> None:
    rate = run.engine_rate(Draining(1_000, 10_000), 10_000)  # type: ignore[arg-type]
    # 10% at the first poll, 90% at the ninth: 8,000 events over eight polls of 0.25 s
    assert rate == pytest.approx(8_000 / 2.0)
    assert run.rate_text(rate, 10_000) == "4,000 events/s (10,000 events)"


def test_a_stream_drained_between_two_polls_has_no_rate(clock: Clock) -> None:
    rate = run.engine_rate(Draining(20_000, 20_000), 20_000)  # type: ignore[arg-type]
    assert math.isnan(rate)  # it used to be reported as 0 events/s
    assert "too few events to time" in run.rate_text(rate, 20_000)
