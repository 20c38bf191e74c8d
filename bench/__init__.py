"""Benchmarks of the engine against the raw Kafka client on the same broker (`make bench`).

`HEALTHSCORE_PURE_PYTHON=1` runs a benchmark on the pure-Python core even where the compiled
one is built (`stream.dev.builds`); `bench.core` prints both builds.
"""

from stream.dev.builds import pure_wanted, use_sources

if pure_wanted():
    use_sources()
