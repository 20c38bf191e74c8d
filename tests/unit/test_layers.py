"""The layers of the tree are enforced: an import the contracts of pyproject.toml forbid fails
`lint-imports` (part of `make test` through `make lint`), and the tree as it is passes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SKIP = shutil.ignore_patterns("*.so", "__pycache__", "*.pyc")


def _tree(tmp_path: Path) -> Path:
    """A copy of the project's packages and its import contracts, to break on purpose."""
    for package in ("scoring", "stream", "bench"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=SKIP)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": str(LINT_IMPORTS.parent), "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _add_import(path: Path, line: str) -> None:
    text = path.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    assert sep, f"{path} has no `from __future__ import annotations` to insert after"
    path.write_text(head + sep + line + "\n" + rest)


def test_the_tree_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    done = _lint(_tree(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "stream/worker/engine.py",
            "import stream.offline.backtest",
            "The worker and the web never import the offline tools",
        ),
        (
            "stream/web/pages.py",
            "from stream.offline import calibrate",
            "The worker and the web never import the offline tools",
        ),
        (
            "stream/worker/fold.py",
            "import stream.web.pages",
            "The worker's path never imports the web",
        ),
        (
            "stream/web/pages.py",
            "import stream.worker.engine",
            "The web never imports the worker's",
        ),
        (
            "stream/store/views.py",
            "import stream.worker.fold",
            "The shared modules and the store import neither",
        ),
        (
            "stream/worker/fold.py",
            "import stream.dev.synthetic",
            "The worker runtime does not import the developer tools",
        ),
        ("scoring/health.py", "import stream.contract", "The scoring core does no I/O"),
    ],
)
def test_a_forbidden_import_is_caught(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = _tree(tmp_path)
    _add_import(tree / module, line)
    done = _lint(tree)
    assert done.returncode != 0, done.stdout
    report = " ".join(done.stdout.split())  # its lines may wrap whatever the width
    verdict = report.partition(contract)[2]
    assert verdict, f"no contract {contract!r} in:\n{done.stdout}"
    first = min((w for w in ("KEPT", "BROKEN") if w in verdict.split()), key=verdict.find)
    assert first == "BROKEN", done.stdout


def test_no_module_of_the_store_imports_one_that_imports_it() -> None:
    import grimp

    graph = grimp.build_graph("stream")
    modules = sorted(m for m in graph.modules if m.startswith("stream.store."))
    circles = [
        (a, b)
        for a in modules
        for b in modules
        if a < b
        and graph.find_shortest_chain(importer=a, imported=b)
        and graph.find_shortest_chain(importer=b, imported=a)
    ]
    assert circles == []
    assert graph.find_shortest_chain(importer="stream.store.record", imported="stream.store.codec")
