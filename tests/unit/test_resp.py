"""The hand-packed RESP of `stream.store.resp.Commands` against the protocol written out plainly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stream.store.resp import Commands

ARG = (
    st.binary(max_size=1100)  # past the lengths whose headers are made once (1,024)
    | st.text(max_size=300)
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
)


def _raw(value: bytes | str | int | float) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


def _bulk(value: bytes | str | int | float) -> bytes:
    raw = _raw(value)
    return b"$" + str(len(raw)).encode() + b"\r\n" + raw + b"\r\n"


def _plain(args: list[bytes | str | int | float]) -> bytes:
    """RESP as the protocol's page writes it: an array of bulk strings."""
    return b"*" + str(len(args)).encode() + b"\r\n" + b"".join(_bulk(a) for a in args)


@given(st.sampled_from(["GET", "ZADD", b"SET"]), st.lists(ARG, max_size=8))
def test_a_command_is_packed_as_the_protocol_says_and_routed_by_its_key(
    name: str | bytes, rest: list[bytes | str | int | float]
) -> None:
    cmds = Commands()
    assert cmds.add(name, *rest) == 0
    assert cmds.packed == [_plain([name, *rest])]
    assert cmds.routes == [_key(rest)]


def _key(rest: list[bytes | str | int | float]) -> bytes:
    """The routing key: the first argument after the command's name, encoded (b"" without one)."""
    return _raw(rest[0]) if rest else b""


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5), st.lists(ARG))
def test_a_script_is_routed_by_its_first_key(
    keys: list[str], args: list[bytes | str | int | float]
) -> None:
    cmds = Commands()
    cmds.add("PING")
    assert cmds.add("EVALSHA", "f" * 40, len(keys), *keys, *args) == 1
    assert cmds.packed[1] == _plain(["EVALSHA", "f" * 40, len(keys), *keys, *args])
    assert cmds.routes == [b"", keys[0].encode()]


def test_a_command_of_more_than_a_thousand_arguments() -> None:
    members = [f"c-{i}" for i in range(1500)]
    cmds = Commands()
    cmds.add("ZREM", "board", *members)
    assert cmds.packed == [_plain(["ZREM", "board", *members])]
    assert cmds.routes == [b"board"]
