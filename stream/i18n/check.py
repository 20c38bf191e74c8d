"""Are the catalogs complete? `python -m stream.i18n.check` lists what is wrong, for translators.

The code's messages are read from the source: every call `say("id", name=...)` or
`<words>.say("id", name=...)` with a literal id and keyword parameters (`scoring.words.say`,
`stream.i18n.Words.say`), and every `Message("id", ("name", value, ...))` with a literal id
and literal names (the form the core's hot path uses: a keyword call costs a dict). A
catalog is complete when it has every message the English one has and no other, each with
exactly the English message's parameters; the English catalog is right when it has every
message the code says, with exactly the parameters the code passes. Each message must also
format, in each language, for a count of every plural form.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax import ast as fl
from fluent.syntax import parse
from fluent.syntax.visitor import Visitor

from scoring.words import TEXT
from stream.i18n import DEFAULT, LOCALES, catalog_path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("scoring", "stream")

# what a parameter named so is, for formatting every message in a check (any other name: a
# count, tried at every plural form)
SAMPLES: dict[str, str | float] = {
    "band": "at_risk", "was_band": "healthy", "rule": "inactivity", "severity": "critical",
    "component": "usage", "priority": "urgent", "calibrated": "yes", "nps": "+20",
    "ids": "T-1, T-2", "customer": "acme", "owner": "ana@example.com", "rules": "inactivity",
    "since": "5 Dec 2026", "first_day": "1 Oct 2026", "last_day": "5 Dec 2026",
    "as_of": "2026-12-05T00:00:00.000Z", "model": "default", "reason": "-", "error": "timeout",
    "amount": "1,234.50", "score": 42, "share": 0.16, "probability": 0.52, "target": 0.8,
    "daily": 1.5, "typical": 2.5, "confidence": "0.80", "points": -3.2, "hours": 4,
}  # fmt: skip
COUNTS = (0, 1, 2, 5, 11, 21, 22, 25, 101, 1.5)


def code_messages(roots: Iterable[Path] | None = None) -> dict[str, set[str]]:
    """Every message id the code says, with the parameters it passes (the union over calls)."""
    found: dict[str, set[str]] = {}
    for root in roots or [ROOT / s for s in SOURCES]:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                said = _said(node)
                if said is not None and said[0] != TEXT:
                    found.setdefault(said[0], set()).update(said[1])
    return found


def _said(node: ast.Call) -> tuple[str, set[str]] | None:
    """The message id and parameter names of a `say(...)` or `Message(...)` call with a literal
    id; "**" among the names when they cannot be read from the source."""
    f = node.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    if name not in ("say", "Message") or not node.args:
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None  # `say(id, ...)` inside `say` itself, `Message(id, params)` in `say`
    if name == "say":
        return first.value, {kw.arg or "**" for kw in node.keywords}
    if len(node.args) < 2:
        return first.value, set()
    names: set[str] = set()
    flat = node.args[1]
    if not isinstance(flat, ast.Tuple) or len(flat.elts) % 2:
        return first.value, {"**"}
    for key in flat.elts[::2]:
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
        else:
            names.add("**")
    return first.value, names


class _Variables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_VariableReference(self, node: fl.VariableReference) -> None:  # noqa: N802
        self.names.add(node.id.name)


def catalog_messages(text: str) -> tuple[dict[str, set[str]], list[str]]:
    """A Fluent file's messages with the variables each uses, and its syntax errors."""
    out: dict[str, set[str]] = {}
    errors: list[str] = []
    for entry in parse(text).body:
        if isinstance(entry, fl.Junk):
            errors.append(f"cannot parse: {(entry.content or '').strip()[:80]!r}")
        elif isinstance(entry, fl.Message):
            v = _Variables()
            v.visit(entry)
            out[entry.id.name] = v.names
    return out, errors


def problems(
    code: Mapping[str, set[str]], catalogs: Mapping[str, str], reference: str = DEFAULT
) -> list[str]:
    """What is wrong with the catalogs (locale -> Fluent text) against the code's messages."""
    out: list[str] = []
    parsed: dict[str, dict[str, set[str]]] = {}
    for locale, text in catalogs.items():
        messages, errors = catalog_messages(text)
        parsed[locale] = messages
        out += [f"{locale}: {e}" for e in errors]
    english = parsed.get(reference, {})
    for id, params in sorted(code.items()):
        if "**" in params:
            out.append(f"code: {id}: parameters the source does not name cannot be checked")
        if id not in english:
            out.append(f"{reference}: no message {id!r}, which the code says")
            continue
        if english[id] - params:
            listed = ", ".join(sorted(english[id] - params))
            out.append(f"{reference}: {id}: uses {listed}, which the code never passes")
        if params - english[id] - {"**"}:
            listed = ", ".join(sorted(params - english[id]))
            out.append(f"{reference}: {id}: never uses {listed}, which the code passes")
    for id in sorted(set(english) - set(code)):
        out.append(f"{reference}: {id}: the code never says it")
    for locale, messages in sorted(parsed.items()):
        if locale == reference:
            continue
        for id, names in english.items():
            if id not in messages:
                out.append(f"{locale}: no message {id!r}")
                continue
            if names - messages[id]:
                out.append(f"{locale}: {id}: misses {', '.join(sorted(names - messages[id]))}")
            if messages[id] - names:
                extra = ", ".join(sorted(messages[id] - names))
                out.append(f"{locale}: {id}: has {extra}, which the English message has not")
        for id in sorted(set(messages) - set(english)):
            out.append(f"{locale}: {id}: not a message of the English catalog")
    for locale, text in sorted(catalogs.items()):
        out += _formatting(locale, text, parsed[locale])
    return out


def _formatting(locale: str, text: str, messages: Mapping[str, set[str]]) -> list[str]:
    """Each message formats without an error at every sample count."""
    bundle = FluentBundle([locale], use_isolating=False)
    bundle.add_resource(FluentResource(text))
    out = []
    for id, names in messages.items():
        pattern = bundle.get_message(id).value
        if pattern is None:
            out.append(f"{locale}: {id}: no value")
            continue
        for n in COUNTS:
            args = {name: SAMPLES.get(name, n) for name in names}
            _, errors = bundle.format_pattern(pattern, args)
            if errors:
                out.append(f"{locale}: {id} at {n}: {errors[0]}")
                break
    return out


def shipped() -> dict[str, str]:
    """The catalogs the project ships, by locale."""
    return {locale: catalog_path(locale).read_text(encoding="utf-8") for locale in LOCALES}


def main() -> int:
    found = problems(code_messages(), shipped())
    for p in found:
        print(p)
    print(
        f"{len(found)} problems in {len(LOCALES)} catalogs"
        if found
        else "the catalogs are complete"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
