"""Which build of the scoring core the tests run: compiled (the default) or pure Python.

A pytest plugin (`-p tests.builds` in pyproject.toml), loaded before anything imports
`scoring`:

- `HEALTHSCORE_PURE_PYTHON=1` runs the pure-Python sources even where compiled modules sit
  beside them (`make unit-pure`; `stream.dev.builds.use_sources`).
- Otherwise a compiled module older than its source stops the run at once: it would test
  yesterday's code (`make compile` builds it again). The doctests of compiled modules are
  collected in the pure run only (a compiled module has no source for doctest to read).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.dev.builds import CORE, build_of, compiled, pure_wanted, stale, use_sources

PURE = pure_wanted()
if PURE:
    use_sources()


def pytest_configure(config: pytest.Config) -> None:
    if not PURE and (old := stale()):
        raise pytest.UsageError(
            f"compiled scoring modules older than their sources: {', '.join(old)}. "
            "Run `make compile` (or `make clean-compiled` for the pure-Python core)."
        )


def pytest_report_header(config: pytest.Config) -> str:
    import scoring.state

    return f"scoring core: {build_of(scoring.state)}"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The doctests of a compiled module run in the pure run."""
    if PURE or collection_path.suffix != ".py" or collection_path.parent != CORE:
        return None
    return True if compiled(collection_path) is not None else None
