"""Write the benchmark's input: a realistic mix from the synthetic customer base, produced with
kcat (librdkafka, murmur2 partitioner like the Java client) so producing is never the bottleneck.

The events span one day of event time, as a real burst does: a longer span squeezed into minutes
would make every customer due for daily re-evaluation many times over, work a live stream spreads
over weeks."""

from __future__ import annotations

import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import orjson

from bench.mixes import mix as mix_events


def produce_mix(
    bootstrap: str,
    topics: dict[str, str],
    *,
    customers: int,
    events: int,
    seed: int = 7,
    mix: str = "skewed",
) -> Counter[str]:
    """Produce a mix (`bench.mixes`): onboarding plus `events` events; return how many went to
    each topic kind."""
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        files = {kind: (Path(tmp) / f"{kind}.tsv").open("wb") for kind in topics}
        try:
            for e in mix_events(mix, events, customers, seed=seed):
                files[e.kind].write(e.customer_id.encode() + b"\t" + orjson.dumps(e.doc) + b"\n")
                counts[e.kind] += 1
        finally:
            for f in files.values():
                f.close()
        for kind, topic in topics.items():
            argv = [
                "kcat",
                "-P",
                "-b",
                bootstrap,
                "-t",
                topic,
                "-K",
                "\t",
                "-X",
                "partitioner=murmur2_random",
                "-X",
                "linger.ms=20",
                "-X",
                "batch.num.messages=10000",
                "-l",
                str(Path(tmp) / f"{kind}.tsv"),
            ]
            subprocess.run(
                argv,
                check=True,
                timeout=1800,
            )
    return counts
