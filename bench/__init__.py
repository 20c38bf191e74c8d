"""Benchmarks of the engine against the raw Kafka client on the same broker (`make bench`).

`HEALTHSCORE_PURE_PYTHON=1` runs a benchmark on the pure-Python core even where the compiled
one is built (`stream.dev.builds`); `bench.core` prints both builds.
"""

from rich.console import Console

from stream.dev.builds import pure_wanted, use_sources

if pure_wanted():
    use_sources()


def console(*, stderr: bool = False) -> Console:
    """A console whose tables are never cut to 80 columns when the output is a file or a pipe
    (a CI log, `make bench > out.txt`): the figures are the point of a benchmark."""
    out = Console(stderr=stderr)
    return out if out.is_terminal else Console(stderr=stderr, width=200)
