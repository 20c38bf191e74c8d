"""Free TCP ports for the servers tests and benchmarks start (Kafka, Redis, workers' HTTP).

Chosen below the kernel's range of ephemeral ports, where outgoing connections take their
source ports: a port the kernel hands out as free can become a connection's source port before
our server binds it.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import time
from pathlib import Path

__all__ = ["free_port", "free_port_run"]


def _ephemeral_floor() -> int:
    """The lowest port the kernel gives outgoing connections as their source port."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default; IANA's range starts at 49,152


# Seeded per process: two xdist workers choosing at once rarely pick the same ports.
_PICK = random.Random(os.getpid() * 1_000_003 + time.time_ns())


def free_port() -> int:
    return free_port_run(1)


def free_port_run(count: int, *, shifted: int = 0) -> int:
    """The first of `count` consecutive free ports (a cluster's brokers and controllers); with
    `shifted`, the same run that far above is free too (a Redis Cluster's bus ports).

    Chosen below the kernel's ephemeral range. A port the kernel hands out there can become a
    connection's source port before our server binds it: a three-broker cluster's first node
    retries its peers' controller ports for seconds, and a later node then failed with
    "Address already in use" on its own port."""
    top = _ephemeral_floor() - count - shifted
    for _ in range(500):
        if top > 12_000:
            base = _PICK.randrange(10_000, top)
        else:  # a kernel range that leaves no room below it: any free port it gives
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                base = int(sock.getsockname()[1])
            if base + count + shifted >= 65536:
                base -= shifted + count
        wanted = [*range(base, base + count)]
        if shifted:
            wanted += [p + shifted for p in wanted]
        try:
            with contextlib.ExitStack() as held:
                for port in wanted:
                    sock = held.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no run of {count} free ports")
