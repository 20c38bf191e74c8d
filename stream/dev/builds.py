"""Which build of the scoring core runs: compiled with mypyc (setup.py) or pure Python.

Python imports a compiled extension before the source of the same name, so where `make
compile` (or `pip install`) left extensions beside the sources of `scoring/`, they run.
`use_sources()` makes `scoring` load from its sources even then: the tests' pure run
(`HEALTHSCORE_PURE_PYTHON=1`, tests/builds.py) and the pure-Python row of `make bench-core`.
It must run before anything imports `scoring`. Imports nothing of the project.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent.parent
CORE = ROOT / "scoring"
# compiled modules outside the core (setup.py): the fold, which runs the core per event, and
# the customer record with its stored form, the Redis commands of a batch, and the event-time
# merge of the inputs
BESIDE = {
    "stream.worker.alignment": ROOT / "stream" / "worker" / "alignment.py",
    "stream.worker.fold": ROOT / "stream" / "worker" / "fold.py",
    "stream.codec": ROOT / "stream" / "codec.py",
    "stream.store.codec": ROOT / "stream" / "store" / "codec.py",
    "stream.store.keys": ROOT / "stream" / "store" / "keys.py",
    "stream.store.parts": ROOT / "stream" / "store" / "parts.py",
    "stream.store.record": ROOT / "stream" / "store" / "record.py",
    "stream.store.resp": ROOT / "stream" / "store" / "resp.py",
    "stream.store.views": ROOT / "stream" / "store" / "views.py",
}
PURE_VARIABLE = "HEALTHSCORE_PURE_PYTHON"


def pure_wanted() -> bool:
    """Is the pure-Python core asked for (`HEALTHSCORE_PURE_PYTHON` set and not 0)?"""
    return os.environ.get(PURE_VARIABLE, "") not in ("", "0")


class SourceFinder(importlib.abc.MetaPathFinder):
    """Finds `scoring`, its modules and the other compiled modules (`BESIDE`) as sources,
    ahead of their compiled extensions."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname in BESIDE:
            return importlib.util.spec_from_file_location(fullname, BESIDE[fullname])
        if fullname == "scoring":
            return importlib.util.spec_from_file_location(
                fullname, CORE / "__init__.py", submodule_search_locations=[str(CORE)]
            )
        if not fullname.startswith("scoring."):
            return None
        source = CORE / (fullname.split(".", 1)[1].replace(".", "/") + ".py")
        return importlib.util.spec_from_file_location(fullname, source) if source.exists() else None


def use_sources() -> None:
    """Load `scoring` from its sources from now on; nothing to do when they are in use already
    (the test suite asked first), refused once the compiled core has been imported."""
    if any(isinstance(f, SourceFinder) for f in sys.meta_path):
        return
    if any(
        name == "scoring" or name.startswith("scoring.") or name in BESIDE for name in sys.modules
    ):
        raise RuntimeError("scoring is imported already: the pure-Python core comes too late")
    sys.meta_path.insert(0, SourceFinder())


def compiled(source: Path) -> Path | None:
    """The extension compiled from a source of the core, if one sits beside it."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = source.with_name(source.stem + suffix)
        if candidate.exists():
            return candidate
    return None


def stale() -> list[str]:
    """The sources of compiled modules whose extension is older than they are."""
    out: list[str] = []
    for source in [*sorted(CORE.glob("*.py")), *BESIDE.values()]:
        ext = compiled(source)
        if ext is not None and ext.stat().st_mtime < source.stat().st_mtime:
            out.append(str(source.relative_to(ROOT)))
    return out


def build_of(module: ModuleType) -> str:
    """ "compiled" or "pure Python": how a module of the core was loaded."""
    return "pure Python" if str(getattr(module, "__file__", "")).endswith(".py") else "compiled"
