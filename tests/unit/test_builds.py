"""The compiled build: setup.py compiles exactly the modules the pure run loads from sources."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from stream.dev.builds import BESIDE, CORE, ROOT


def test_setup_compiles_the_core_and_the_modules_the_pure_run_knows_beside_it() -> None:
    spec = importlib.util.spec_from_file_location("healthscore_setup", ROOT / "setup.py")
    assert spec is not None
    assert spec.loader is not None
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)  # builds nothing: not run as a script
    compiled = {Path(p) for p in setup.compiled_modules()}
    beside = {path.relative_to(ROOT) for path in BESIDE.values()}
    pure = {Path("scoring") / name for name in setup.PURE}
    core = {p.relative_to(ROOT) for p in CORE.glob("*.py")} - pure
    assert core | beside == compiled
