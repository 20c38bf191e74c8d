"""Redis commands packed as RESP by hand, for one pipelined round trip (compiled, setup.py).

redis-py's pipeline spends about twice the client CPU per command (argument encoding, a
response callback each, and a `SCRIPT EXISTS` round trip before any pipeline with scripts);
the engine sends a few commands per customer per batch, so that is most of its Redis cost.
"""

from __future__ import annotations

from typing import Final


def _arg(value: bytes | str | int | float) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


def _head(mark: bytes, n: int) -> bytes:
    return mark + str(n).encode() + b"\r\n"


# "$<length>\r\n", which leads a bulk string, and "*<count>\r\n", which leads a command, made
# once for the lengths and counts most have (bytes' % formatting costs more than the rest)
_LENGTHS: Final[list[bytes]] = [_head(b"$", n) for n in range(1024)]
_COUNTS: Final[list[bytes]] = [_head(b"*", n) for n in range(1024)]
_CRLF: Final = b"\r\n"


class Commands:
    """Commands for one round trip, packed as RESP."""

    def __init__(self) -> None:
        self.packed: list[bytes] = []
        self.routes: list[bytes] = []  # each command's key, for routing on a cluster

    def __len__(self) -> int:
        return len(self.packed)

    def add(self, *args: bytes | str | int | float) -> int:
        """Queue a command; return the index of its reply."""
        count = len(args)
        parts = [_COUNTS[count] if count < 1024 else _head(b"*", count)]
        # the key that routes it on a cluster (a command without one goes to slot 0's node):
        # the first key of a script, else the first argument
        at = 3 if count and (args[0] == "EVALSHA" or args[0] == b"EVALSHA") else 1
        route = b""
        for i in range(count):
            enc = _arg(args[i])
            n = len(enc)
            parts.append(_LENGTHS[n] if n < 1024 else _head(b"$", n))
            parts.append(enc)
            parts.append(_CRLF)
            if i == at:
                route = enc
        self.routes.append(route)
        self.packed.append(b"".join(parts))
        return len(self.packed) - 1
