"""Redis commands packed as RESP by hand, for one pipelined round trip (compiled, setup.py).

redis-py's pipeline spends about twice the client CPU per command (argument encoding, a
response callback each, and a `SCRIPT EXISTS` round trip before any pipeline with scripts);
the engine sends a few commands per customer per batch, so that is most of its Redis cost.
"""

from __future__ import annotations


def _arg(value: bytes | str | int | float) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


class Commands:
    """Commands for one round trip, packed as RESP."""

    def __init__(self) -> None:
        self.packed: list[bytes] = []
        self.routes: list[bytes] = []  # each command's key, for routing on a cluster

    def __len__(self) -> int:
        return len(self.packed)

    def add(self, *args: bytes | str | int | float) -> int:
        """Queue a command; return the index of its reply."""
        parts = [b"*%d\r\n" % len(args)]
        route = b""
        for i, a in enumerate(args):
            enc = _arg(a)
            parts.append(b"$%d\r\n" % len(enc))
            parts.append(enc)
            parts.append(b"\r\n")
            # the key that routes it on a cluster (a command without one goes to slot 0's
            # node): the first key of a script, else the first argument
            if (i == 1 and parts[2] != b"EVALSHA") or (i == 3 and parts[2] == b"EVALSHA"):
                route = enc
        self.routes.append(route)
        self.packed.append(b"".join(parts))
        return len(self.packed) - 1
