"""The views' commands merged as they are made (`stream.store.views.Tally`) do to Redis what the
same commands sent one by one do."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stream.store.views import Command, Tally, merged

KEYS = st.sampled_from(["a", "b", "c"])
FIELDS = st.sampled_from(["x", "y", "z"])
MEMBERS = st.text(alphabet="pqrstu", min_size=1, max_size=3)

# increments, sorted-set additions and removals, set additions, as the views make them: a
# whole number of cents, counts and sums of small numbers (exact in binary), one member each
ONE = st.one_of(
    st.tuples(st.just("HINCRBY"), KEYS, FIELDS, st.integers(-5, 5)),
    st.tuples(st.just("HINCRBYFLOAT"), KEYS, FIELDS, st.sampled_from([0.0, 1.0, 0.5, 2.25])),
    st.tuples(st.just("ZADD"), KEYS, st.integers(0, 3_000).map(float), MEMBERS),
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
            for i in range(0, len(args), 2):
                z[args[i + 1]] = args[i]
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
            tally.zadd(key, args[0], args[1])
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
    assert len(out) <= len(merged(distinct))  # never more round-trip work than merging after
    assert all(c[3] for c in out if c[0] in ("HINCRBY", "HINCRBYFLOAT"))  # no zero sums sent


def test_a_tally_joins_each_key_into_one_command() -> None:
    tally = Tally()
    tally.incr("h", "a", 2)
    tally.incr("h", "a", -1)
    tally.incr("h", "b", 0)
    tally.zadd("z", 1.0, "x")
    tally.zadd("z", 2.0, "y")
    tally.incr_float("f", "n", 0.5)
    tally.zrem("o", "x")
    tally.sadd("s", "m")
    assert tally.commands() == [
        ("HINCRBY", "h", "a", 1),
        ("HINCRBYFLOAT", "f", "n", 0.5),
        ("ZADD", "z", 1.0, "x", 2.0, "y"),
        ("ZREM", "o", "x"),
        ("SADD", "s", "m"),
    ]
