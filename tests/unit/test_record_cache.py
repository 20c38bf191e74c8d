"""The records a worker keeps between batches (stream.store.cache)."""

from __future__ import annotations

from stream.store import Record
from stream.store.cache import RecordCache


def records(*ids: str) -> list[Record]:
    return [Record(cid) for cid in ids]


def test_a_record_kept_is_taken_out_once_and_the_rest_are_to_load() -> None:
    cache = RecordCache(10)
    cache.keep(records("a", "b"), cache.generation)
    found, missing = cache.take(["a", "c"])
    assert sorted(found) == ["a"]
    assert missing == ["c"]
    assert cache.take(["a"]) == ({}, ["a"])  # taken out until kept again


def test_past_the_limit_the_least_recently_used_go() -> None:
    cache = RecordCache(2)
    cache.keep(records("a", "b"), cache.generation)
    found, _ = cache.take(["a"])
    cache.keep(found.values(), cache.generation)  # a is now the most recently used
    cache.keep(records("c"), cache.generation)
    assert sorted(cache.records) == ["a", "c"]


def test_a_batch_begun_before_a_rebalance_puts_nothing_back() -> None:
    cache = RecordCache(10)
    cache.keep(records("a"), cache.generation)
    begun = cache.generation
    cache.clear()
    cache.keep(records("b"), begun)
    assert len(cache) == 0


def test_a_cache_of_size_zero_keeps_nothing() -> None:
    cache = RecordCache(0)
    cache.keep(records("a"), cache.generation)
    assert len(cache) == 0
