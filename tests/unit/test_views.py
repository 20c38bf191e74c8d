"""The views' commands merged as they are made (`stream.store.views.Tally`) do to Redis what the
same commands sent one by one do."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stream.store.views import Command, Tally

KEYS = st.sampled_from(["a", "b", "c"])
FIELDS = st.sampled_from(["x", "y", "z"])
MEMBERS = st.text(alphabet="pqrstu", min_size=1, max_size=3)

# increments, sorted-set additions and removals, set additions, as the views make them: a
# whole number of cents, counts and sums of small numbers (exact in binary), one member each
ONE = st.one_of(
    st.tuples(st.just("HINCRBY"), KEYS, FIELDS, st.integers(-5, 5)),
    st.tuples(st.just("HINCRBYFLOAT"), KEYS, FIELDS, st.sampled_from([0.0, 1.0, 0.5, 2.25])),
    st.tuples(st.just("ZADD"), KEYS, st.integers(0, 3_000).map(float), MEMBERS),
    st.tuples(st.just("ZADD"), KEYS, st.just("LT"), st.integers(0, 3_000).map(float), MEMBERS),
    st.tuples(st.just("ZREM"), KEYS, MEMBERS),
    st.tuples(st.just("SADD"), KEYS, MEMBERS),
)


def effect(commands: list[Command]) -> dict[str, Any]:
    """What the commands leave in a Redis of empty keys (a hash field of 0 reads as absent)."""
    hashes: dict[str, dict[str, float]] = {}
    zsets: dict[str, dict[str, float]] = {}
    sets: dict[str, set[str]] = {}
    for name, key, *args in commands:
        if name in ("HINCRBY", "HINCRBYFLOAT"):
            h = hashes.setdefault(f"{name}:{key}", {})
            h[args[0]] = h.get(args[0], 0) + args[1]
        elif name == "ZADD":
            z = zsets.setdefault(key, {})
            lower_only = args[0] == "LT"
            pairs = args[1:] if lower_only else args
            for i in range(0, len(pairs), 2):
                score, member = pairs[i], pairs[i + 1]
                if not lower_only or score < z.get(member, math.inf):
                    z[member] = score
        elif name == "ZREM":
            for member in args:
                zsets.setdefault(key, {}).pop(member, None)
        else:
            sets.setdefault(key, set()).update(args)
    kept = {k: {f: v for f, v in h.items() if v} for k, h in hashes.items()}
    return {"hashes": {k: h for k, h in kept.items() if h}, "zsets": zsets, "sets": sets}


def tallied(commands: list[Command]) -> list[Command]:
    tally = Tally()
    for name, key, *args in commands:
        if name == "HINCRBY":
            tally.incr(key, args[0], args[1])
        elif name == "HINCRBYFLOAT":
            tally.incr_float(key, args[0], args[1])
        elif name == "ZADD":
            lower_only = args[0] == "LT"
            tally.zadd(key, args[-2], args[-1], lower_only=lower_only)
        elif name == "ZREM":
            tally.zrem(key, args[0])
        else:
            tally.sadd(key, args[0])
    return tally.commands()


@given(st.lists(ONE, max_size=40))
def test_a_tally_does_what_its_commands_one_by_one_do(commands: list[Command]) -> None:
    # a batch's records are distinct customers: a member is added or removed once per key
    seen: set[tuple[str, str]] = set()
    distinct: list[Command] = []
    for c in commands:
        if c[0] in ("ZADD", "ZREM"):
            where = (c[1], c[-1])
            if where in seen:
                continue
            seen.add(where)
        distinct.append(c)
    out = tallied(distinct)
    assert effect(out) == effect(distinct)
    # each hash field in one increment, each key's additions (or removals) in one command
    places = [c[:3] if c[0].startswith("HINCRBY") or c[2] == "LT" else c[:2] for c in out]
    assert len(places) == len(set(places))
    assert all(c[3] for c in out if c[0] in ("HINCRBY", "HINCRBYFLOAT"))  # no zero sums sent


def test_a_tally_joins_each_key_into_one_command() -> None:
    tally = Tally()
    tally.incr("h", "a", 2)
    tally.incr("h", "a", -1)
    tally.incr("h", "b", 0)
    tally.zadd("z", 1.0, "x")
    tally.zadd("z", 2.0, "y")
    tally.zadd("d", 5.0, "x", lower_only=True)
    tally.zadd("d", 6.0, "y", lower_only=True)
    tally.incr_float("f", "n", 0.5)
    tally.zrem("o", "x")
    tally.sadd("s", "m")
    assert tally.commands() == [
        ("HINCRBY", "h", "a", 1),
        ("HINCRBYFLOAT", "f", "n", 0.5),
        ("ZADD", "z", 1.0, "x", 2.0, "y"),
        ("ZADD", "d", "LT", 5.0, "x", 6.0, "y"),
        ("ZREM", "o", "x"),
        ("SADD", "s", "m"),
    ]
