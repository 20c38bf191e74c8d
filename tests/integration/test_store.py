"""The record store against a real redis-server: compare-and-set, the indexes, and a Redis that
lost its scripts (a restart without persistence, or SCRIPT FLUSH)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from config import load_policy
from scoring.state import new_state
from stream.store import Commands, Record, RecordStore, board_value

from .conftest import Stack

POLICY = load_policy()


def record(cid: str, version: int = 0, due: float | None = 100.0) -> Record:
    state = new_state(cid)
    return Record(
        cid,
        version=version,
        state=state,
        partition=2,
        evaluated=(50.0, 42.5, "at_risk", None),
        due=due,
    )


def run_store(stack: Stack, body) -> object:  # type: ignore[no-untyped-def]
    async def main() -> object:
        client = aioredis.Redis.from_url(stack.redis_url)
        try:
            return await body(RecordStore(client, f"t{uuid.uuid4().hex[:6]}", POLICY), client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_a_write_with_a_stale_version_is_refused_and_the_indexes_are_written(
    stack: Stack,
) -> None:
    async def body(store: RecordStore, client: aioredis.Redis) -> None:
        assert await store.save_many([record("c1")]) == set()
        again = await store.load_many(["c1", "c2"])
        assert again["c1"].version == 1
        assert again["c2"].version == 0  # never stored
        assert await store.save_many([record("c1", version=0)]) == {"c1"}  # stale
        assert await store.save_many([again["c1"]]) == set()
        assert (await store.load_many(["c1"]))["c1"].version == 2
        assert await client.zscore(store.due_key(2), "c1") == 100.0
        assert await client.zscore(store.board_key(), "c1") == board_value("at_risk", 42.5)

    run_store(stack, body)


def test_the_store_loads_its_scripts_again_when_redis_lost_them(stack: Stack) -> None:
    async def body(store: RecordStore, client: aioredis.Redis) -> None:
        assert await store.save_many([record("c1")]) == set()
        await client.script_flush()
        assert await store.save_many([(await store.load_many(["c1"]))["c1"]]) == set()
        await client.script_flush()
        await store.record_aggregates([record("c2")], {2: 123.0})
        assert await store.watermark(2) == 123.0
        assert (await store.load_many(["c1"]))["c1"].version == 2

    run_store(stack, body)


def test_an_error_reply_is_raised_and_the_connection_stays_usable(stack: Stack) -> None:
    async def body(store: RecordStore, client: aioredis.Redis) -> None:
        await client.hset(store.record_key("bad"), "v", "1")  # wrong type for a record
        with pytest.raises(ResponseError):
            await store.load_many(["ok", "bad"])
        cmds = Commands()
        cmds.add("PING")
        assert await store._execute(cmds) == [b"PONG"]
        assert (await store.load_many(["ok"]))["ok"].version == 0

    run_store(stack, body)
