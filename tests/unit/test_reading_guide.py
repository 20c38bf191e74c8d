"""The reading guide of CONTRIBUTING.md names only files and functions that exist: each
`path` it names is a file of the repository, and each `path::name` (or `path::Class.method`,
`path::function.inner`) is defined in that file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE_HEADING = "## Reading guide"
REFERENCE = re.compile(r"`([\w./-]+\.(?:py|yaml|toml|md))(?:::([\w.]+))?`")


def guide() -> str:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    start = text.index(GUIDE_HEADING)
    end = text.find("\n## ", start + len(GUIDE_HEADING))
    return text[start:] if end < 0 else text[start:end]


def references() -> list[tuple[str, str]]:
    """(path, name or "") of each reference to a file of the repository (a bare file name,
    `__init__.py`, names no particular one)."""
    return [(path, name) for path, name in REFERENCE.findall(guide()) if "/" in path]


def _children(node: ast.AST) -> dict[str, ast.AST]:
    """What a module, class or function defines by name, at its own level."""
    out: dict[str, ast.AST] = {}
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out[child.name] = child
        elif isinstance(child, ast.Assign):
            out.update({t.id: child for t in child.targets if isinstance(t, ast.Name)})
        elif isinstance(child, ast.AnnAssign) and isinstance(child.target, ast.Name):
            out[child.target.id] = child
    return out


def defines(path: Path, dotted: str) -> bool:
    node: ast.AST = ast.parse(path.read_text(encoding="utf-8"))
    for part in dotted.split("."):
        found = _children(node).get(part)
        if found is None:
            return False
        node = found
    return True


def test_the_guide_names_the_whole_path_of_an_event() -> None:
    named = {path for path, _ in references()}
    for folder in ("scoring/", "stream/worker/", "stream/store/", "stream/web/", "stream/cli/"):
        assert any(p.startswith(folder) for p in named), f"the guide names nothing in {folder}"
    assert len([n for _, n in references() if n]) >= 20


def test_every_file_the_guide_names_exists() -> None:
    missing = sorted({p for p, _ in references() if not (ROOT / p).is_file()})
    assert missing == []


def test_every_function_the_guide_names_is_defined_where_it_says() -> None:
    missing = sorted(
        f"{path}::{name}"
        for path, name in references()
        if name and not ((ROOT / path).is_file() and defines(ROOT / path, name))
    )
    assert missing == []


def test_a_name_that_is_not_there_is_reported(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("class A:\n    def run(self):\n        def inner(): ...\nX = 1\n")
    assert defines(module, "A.run.inner")
    assert defines(module, "X")
    assert not defines(module, "A.stop")
    assert not defines(module, "B")
