"""Event-time alignment of the co-partitioned input topics of one partition number.

The four input topics are read at independent speeds: in a backlog (a backfill, a restart
after downtime, a lag spike) one topic's fetches can run months of event time ahead of
another's. Applied as they come, a customer's clock would run with the fastest topic, and the
timer would judge inactivity and SLAs from a stream time a lagging topic has not reached.
So, as Kafka Streams does for a task's co-partitioned inputs (KIP-353, KIP-695):

- each topic-partition's decoded messages wait in a buffer, and the earliest head in event
  time is taken next (ties: the kinds' order in `scoring.events.KIND_RANK`, then offset);
  a topic-partition's own order is never changed, so applied offsets stay exact;
- while an input has nothing buffered, nothing is taken past it if it still has messages on
  the broker (its lag is positive or not known yet): they are being fetched;
- an input that is caught up but delivered within the last `idle` seconds is waited for as
  long as its latest event time is more than `tolerance` behind the head to take: its
  producer may be pausing (a stalled pipeline, a topic loaded after the others). Past `idle`
  it counts as idle and is no longer waited for, until it delivers again. In live operation
  the inputs move together within `tolerance` and nothing waits.

In a backlog every input has messages on the broker until it is exhausted, so what is taken
next depends only on the messages, never on fetch timing: a backfill loaded topic after topic,
a run killed and restarted, and a run that read the topics interleaved apply each customer's
events in the same order. An input buffering more than `most` messages is paused (Faust's
pause, so its fetches stop until it is drained below half); memory stays bounded however far
apart the topics are.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from scoring.events import KIND_RANK
from stream.contract import INPUT_TOPICS
from stream.messages import DeadLetter, Decoded

# Contract topic name -> rank of its kind at equal event times.
TOPIC_RANK: Final = {topic: KIND_RANK[kind] for kind, topic in INPUT_TOPICS.items()}


@dataclass(frozen=True)
class MergeLimits:
    """How long and how much the merge waits and buffers (see the module docstring)."""

    idle: float  # seconds a caught-up input behind the others is waited for
    tolerance: float  # event-time seconds an input may be behind without being waited for
    most: int  # messages buffered per input before it is paused


@dataclass
class Input:
    """One topic-partition feeding the merge."""

    topic: str
    rank: int
    buffer: deque[Decoded] = field(default_factory=deque)
    latest: float | None = None  # the latest event time it delivered
    delivered_at: float = -math.inf  # monotonic time it last delivered anything
    paused: bool = False

    def head_key(self) -> tuple[float, int, int]:
        msg, event = self.buffer[0]
        at = -math.inf if isinstance(event, DeadLetter) else event.occurred_at
        return at, self.rank, msg.offset


@dataclass
class Waiting:
    """Why nothing more can be taken now, and until when at most (monotonic time)."""

    topic: str
    until: float | None  # None: until its messages arrive


class Merge:
    """The inputs of one partition number, merged in event time (see the module docstring)."""

    def __init__(
        self,
        partition: int,
        rank_of: Callable[[str], int],
        lag: Callable[[str], int | None],
        assigned: Callable[[], Iterable[str]],
        limits: MergeLimits,
        pause: Callable[[str, bool], None] = lambda topic, paused: None,
    ) -> None:
        self.partition = partition
        self.rank_of = rank_of
        self.lag = lag  # messages of the topic's partition on the broker not yet delivered
        self.assigned = assigned  # the input topics of this partition the worker owns now
        self.idle, self.tolerance, self.most = limits.idle, limits.tolerance, limits.most
        self.pause = pause
        self.inputs: dict[str, Input] = {}
        self.generation = 0  # bumped by `clear`: what was taken before is not to be used

    def _input(self, topic: str) -> Input:
        found = self.inputs.get(topic)
        if found is None:
            found = self.inputs[topic] = Input(topic, self.rank_of(topic))
        return found

    def add(self, topic: str, items: list[Decoded], now: float) -> None:
        """Buffer a fetch of one topic-partition (its messages in offset order)."""
        if not items:
            return
        source = self._input(topic)
        source.buffer.extend(items)
        source.delivered_at = now
        if len(source.buffer) > self.most and not source.paused:
            source.paused = True
            self.pause(topic, True)

    def buffered(self) -> int:
        return sum(len(i.buffer) for i in self.inputs.values())

    def clear(self) -> None:
        """Drop what is buffered (a rebalance: it is fetched again from the committed offsets)."""
        self.generation += 1
        for source in self.inputs.values():
            source.buffer.clear()
            source.latest = None
            source.delivered_at = -math.inf
            if source.paused:
                source.paused = False
                self.pause(source.topic, False)

    def _holds_back(self, source: Input, at: float, now: float) -> Waiting | None:
        """Whether an input with nothing buffered must be waited for before event time `at`."""
        lag = self.lag(source.topic)
        if lag is None or lag > 0:
            return Waiting(source.topic, None)
        if now - source.delivered_at >= self.idle:
            return None  # caught up and silent: idle
        if source.latest is None or source.latest + self.tolerance >= at:
            return None  # caught up with the others (or no event time of its own to go by)
        return Waiting(source.topic, source.delivered_at + self.idle)

    def _allows_until(self, source: Input, now: float) -> float:
        """The latest event time an input with nothing buffered, found not holding back
        (`_holds_back`), lets the merge take now: the bound a run of takes stays within."""
        if source.latest is None or now - source.delivered_at >= self.idle:
            return math.inf
        return source.latest + self.tolerance

    def take(self, most: int, now: float) -> tuple[list[Decoded], Waiting | None]:
        """Up to `most` messages in merged order, and why it stopped short (None: nothing is
        buffered, or `most` were taken).

        Taken a run at a time: the input whose head comes first gives its messages in order
        for as long as they come before every other input's head and within what the empty
        inputs allow (`_allows_until`), so the inputs are compared once per run, not once per
        message; the order is the same as taking the earliest head one message at a time."""
        taken: list[Decoded] = []
        sources = [self._input(t) for t in self.assigned()]
        while len(taken) < most:
            first: Input | None = None
            key: tuple[float, int, int] | None = None
            second: tuple[float, int, int] | None = None  # the next-earliest other head
            for s in sources:
                if s.buffer:
                    k = s.head_key()
                    if key is None:
                        first, key = s, k
                    elif k < key:
                        first, key, second = s, k, key
                    elif second is None or k < second:
                        second = k
            if first is None or key is None:
                return taken, None
            limit = math.inf  # event time up to which the empty inputs let the run go
            for source in sources:
                if not source.buffer:
                    waiting = self._holds_back(source, key[0], now)
                    if waiting is not None:
                        return taken, waiting
                    limit = min(limit, self._allows_until(source, now))
            self._run(first, most - len(taken), second, limit, taken)
        return taken, None

    def _run(
        self,
        source: Input,
        most: int,
        before: tuple[float, int, int] | None,
        limit: float,
        taken: list[Decoded],
    ) -> None:
        """Take `source`'s messages in order (at least one, at most `most`) while its head
        comes before the key `before` and no later than event time `limit`."""
        buffer, rank = source.buffer, source.rank
        latest = source.latest
        n = 0
        while True:
            item = buffer.popleft()
            taken.append(item)
            n += 1
            event = item[1]
            if not isinstance(event, DeadLetter) and (latest is None or event.occurred_at > latest):
                latest = event.occurred_at
            if n >= most or not buffer:
                break
            msg, event = buffer[0]
            at = -math.inf if isinstance(event, DeadLetter) else event.occurred_at
            if at > limit:
                break
            if before is not None and (at, rank, msg.offset) > before:
                break
        source.latest = latest
        if source.paused and len(buffer) <= self.most // 2:
            source.paused = False
            self.pause(source.topic, False)
