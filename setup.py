"""The compiled build: the scoring core and the fold compiled with mypyc (the compiler mypy
ships with).

`pip install .`, `pip wheel .` and `make compile` compile the modules of `scoring/` and
`stream/worker/fold.py` to C extensions that sit beside their sources; Python imports an extension
before the source of the same name, so the worker, `backtest` and `calibrate` run compiled.
The sources stay the one truth: the same tests pass with the extensions removed (`make
clean-compiled`), and `HEALTHSCORE_PURE_PYTHON=1` at build time builds no extension at all (a
machine without a C compiler). docs/benchmarks.md has the figures of both builds.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup

# Not compiled: `events` and `words` (msgspec structs, a C extension's classes already), `fit` and
# `evaluation` (numpy's work: the logistic fit, the bootstrap; once per `calibrate` or
# `backtest`) and the package's `__init__` (tools that read the sources, import-linter among
# them, find the package by it).
PURE = {"__init__.py", "evaluation.py", "events.py", "fit.py", "words.py"}
# and, beside the core, the fold (the engine's per-event loop around it), the customer
# record with its stored form, which the fold reads and the runner writes once per batch, and
# the packing of Redis commands, the Redis commands of a batch's views and the key names they
# use, and the event-time merge that orders each batch's messages
BESIDE = [
    "stream/worker/alignment.py",
    "stream/worker/fold.py",
    "stream/codec.py",
    "stream/store/codec.py",
    "stream/store/keys.py",
    "stream/store/parts.py",
    "stream/store/record.py",
    "stream/store/resp.py",
    "stream/store/views.py",
]


def compiled_modules() -> list[str]:
    here = Path(__file__).parent
    core = [p for p in (here / "scoring").glob("*.py") if p.name not in PURE]
    return sorted(str(p.relative_to(here)) for p in core) + BESIDE


def extensions() -> list[object]:
    if os.environ.get("HEALTHSCORE_PURE_PYTHON"):
        return []
    from mypyc.build import mypycify  # the build requirement of pyproject.toml

    # the project's mypy settings load plugins of runtime packages the build does not install;
    # the core is checked with `--strict` by `make typecheck` as well, which also reports an
    # unneeded `type: ignore` (a build, with fewer packages to see, may find one unneeded)
    options = [
        "--config-file=",
        "--strict",
        "--ignore-missing-imports",
        "--follow-imports=silent",
        "--no-warn-unused-ignores",
    ]
    # the compiled code of every module in one library inside the package, `scoring.compiled`,
    # which each module's own small extension loads: inside the package, it is found however
    # the project is installed (an editable install puts nothing at the top level) and from
    # any working directory
    return list(
        mypycify([*options, *compiled_modules()], opt_level="3", group_name="scoring.compiled")
    )


if __name__ == "__main__":  # as pip's build backend and `python setup.py` run it
    setup(ext_modules=extensions())
