"""A catalog's messages read once into plans, so wording one is a few calls, not a walk of Fluent.

Fluent's resolver (`fluent.runtime`) walks a message's tree at every wording, builds a number
format from the locale's pattern for every number and evaluates the plural rule for every
selector: 25-70 us a message, paid once for each distinct message a published score or an
alert carries (`stream.i18n.Words` keeps the words it made). This module reads each message's
syntax tree once (`fluent.syntax`) into a plan: its text, the places of its parameters and the
variants of its selectors. A number is formatted by Fluent's own `NUMBER` (so it reads exactly
as Fluent writes it) and its plural form found by the Babel rule Fluent uses; both are kept per
value, and the values a message carries repeat (whole days, whole percentages).

What a plan does not cover (a reference to another message or a term, a function other than
`NUMBER`, a parameter missing or of a type other than `str`, `int` and `float` themselves, a
number Babel cannot format, words longer than Fluent's guard) makes it give way
(`NotCoveredError`): the caller words that message with Fluent's resolver, which also reports
the error. `tests/unit/test_word_plans.py` holds every message of every catalog to Fluent's
words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import babel.plural
from babel import Locale
from fluent.runtime.types import FluentFloat, FluentInt, fluent_number
from fluent.runtime.utils import native_to_fluent
from fluent.syntax import ast as fl
from fluent.syntax import parse

Args = Mapping[str, object]
Plan = Callable[[Args], str]
Options = tuple[tuple[str, object], ...]  # NUMBER's options, as Fluent passes them

MAX_LENGTH = 2_500  # a placeable's text longer than this is an error in Fluent (its DOS guard)
MAX_ELEMENTS = 200  # a message larger than this is left to Fluent (its guard counts parts)
KEPT = 50_000  # formatted numbers and plural forms kept per catalog before starting over


class NotCoveredError(Exception):
    """The plan does not cover this wording: word it with Fluent's resolver."""


class Plans:
    """The plans of one catalog (Fluent text) in one locale: `plan(id)` or None."""

    def __init__(self, locale: str, text: str) -> None:
        self.locale = Locale.parse(locale.replace("-", "_"))
        self._rule: Callable[[Any], str] = babel.plural.to_python(self.locale.plural_form)
        self._numbers: dict[tuple[object, ...], str] = {}
        self._forms: dict[tuple[object, ...], str] = {}
        self._plans: dict[str, Plan] = {}
        seen: set[str] = set()
        for entry in parse(text).body:
            if not isinstance(entry, fl.Message) or entry.value is None:
                continue
            if entry.id.name in seen:
                continue  # Fluent keeps a message's first definition
            seen.add(entry.id.name)
            if _size(entry.value) > MAX_ELEMENTS:
                continue
            try:
                self._plans[entry.id.name] = self._pattern(entry.value)
            except NotCoveredError:
                continue

    def plan(self, id: str) -> Plan | None:
        """The plan of a message, or None when Fluent must word it."""
        return self._plans.get(id)

    # numbers and plural forms, kept per value (the type is part of the key: 1 and 1.0 differ
    # in plural form in some languages; a zero by its text: -0.0 is written "-0"). What Babel
    # cannot format or place (NaN, a number of 5,000 digits) gives way: Fluent reports it.

    def number(self, value: object, options: Options = (), kind: object = ()) -> str:
        """`value` (an int or a float) as NUMBER with `options` writes it; `kind`: the options
        with their types, as the key (3 and 3.0 are equal, not the same option)."""
        key = (type(value), value if value else str(value), kind)
        found = self._numbers.get(key)
        if found is None:
            if len(self._numbers) >= KEPT:
                self._numbers.clear()
            try:
                found = fluent_number(native_to_fluent(value), **dict(options)).format(self.locale)
            except Exception as e:  # any failure is Fluent's to report
                raise NotCoveredError(type(value).__name__) from e
            self._numbers[key] = found
        return found

    def form(self, value: object) -> str:
        key = (type(value), value if value else str(value))
        found = self._forms.get(key)
        if found is None:
            if len(self._forms) >= KEPT:
                self._forms.clear()
            try:
                found = self._rule(value)
            except Exception as e:  # any failure is Fluent's to report
                raise NotCoveredError(type(value).__name__) from e
            self._forms[key] = found
        return found

    # the syntax tree, read into closures

    def _pattern(self, pattern: fl.Pattern) -> Plan:
        parts: list[str | Plan] = []
        elements = [self._element(e) for e in pattern.elements]
        if any(not isinstance(e, str) for e in elements) and any(
            isinstance(e, str) and len(e) > MAX_LENGTH for e in elements
        ):
            raise NotCoveredError("long text")  # Fluent's guard: each element of such a pattern
        for part in elements:
            if isinstance(part, str) and parts and isinstance(parts[-1], str):
                parts[-1] = parts[-1] + part
            else:
                parts.append(part)
        if not parts:
            return lambda args: ""
        if len(parts) == 1:
            only = parts[0]
            if isinstance(only, str):
                return lambda args: only
            return only
        steps: list[Plan] = [_constant(p) if isinstance(p, str) else p for p in parts]

        def joined(args: Args) -> str:
            return "".join([step(args) for step in steps])

        return joined

    def _element(self, element: fl.PatternElement) -> str | Plan:
        if isinstance(element, fl.TextElement):
            return element.value
        if isinstance(element, fl.Placeable):
            return self._expression(element.expression)
        raise NotCoveredError(type(element).__name__)

    def _expression(self, node: fl.Expression | fl.Placeable) -> str | Plan:
        if isinstance(node, fl.Placeable):
            return self._expression(node.expression)
        if isinstance(node, fl.StringLiteral):
            return str(node.parse()["value"])
        if isinstance(node, fl.NumberLiteral):
            return self.number(_literal(node))
        if isinstance(node, fl.VariableReference):
            return self._variable(node.id.name)
        if isinstance(node, fl.FunctionReference):
            name, options = _number_call(node)
            return self._formatted(name, options)
        if isinstance(node, fl.SelectExpression):
            return self._select(node)
        raise NotCoveredError(type(node).__name__)

    def _variable(self, name: str) -> Plan:
        number = self.number

        def variable(args: Args) -> str:
            value = args.get(name)
            if type(value) is str:
                if len(value) > MAX_LENGTH:
                    raise NotCoveredError(name)
                return value
            kind = type(value)
            if kind is int or kind is float:
                return number(value)
            raise NotCoveredError(name)  # a bool, a subclass, None: Fluent's to word

        return variable

    def _formatted(self, name: str, options: Options) -> Plan:
        number = self.number
        kind = tuple((n, type(v), v) for n, v in options)

        def formatted(args: Args) -> str:
            value = args.get(name)
            if value.__class__ is int or value.__class__ is float:
                return number(value, options, kind)
            raise NotCoveredError(name)

        return formatted

    def _select(self, node: fl.SelectExpression) -> Plan:
        selector = node.selector
        if isinstance(selector, fl.VariableReference):
            name = selector.id.name
        elif isinstance(selector, fl.FunctionReference):
            name, _ = _number_call(selector)  # NUMBER(...) selects on the value itself
        else:
            raise NotCoveredError(type(selector).__name__)
        keys: list[str | int | float] = []
        values: list[Plan] = []
        default = -1
        for i, variant in enumerate(node.variants):
            key = variant.key
            keys.append(key.name if isinstance(key, fl.Identifier) else _literal(key))
            values.append(self._pattern(variant.value))
            if variant.default:
                default = i
        if default < 0:
            raise NotCoveredError("no default variant")
        form = self.form
        numeric = isinstance(selector, fl.FunctionReference)

        def chosen(value: object) -> int:
            # Fluent's `match`, variant by variant in order: a number against a number key is
            # equality, against a name its plural form; a text against a name is equality,
            # against a number key the key's plural form
            kind = value.__class__
            if kind is int or kind is float:
                category = None
                for i, key in enumerate(keys):
                    if isinstance(key, str):
                        if category is None:
                            category = form(value)
                        if category == key:
                            return i
                    elif value == key:
                        return i
                return default
            if kind is str and not numeric:
                for i, key in enumerate(keys):
                    if key == value if isinstance(key, str) else form(key) == value:
                        return i
                return default
            raise NotCoveredError(name)

        def select(args: Args) -> str:
            words = values[chosen(args.get(name))](args)
            if len(words) > MAX_LENGTH:  # Fluent's guard holds a variant's words to it too
                raise NotCoveredError(name)
            return words

        return select


def _constant(text: str) -> Plan:
    return lambda args: text


def _literal(node: fl.NumberLiteral) -> FluentInt | FluentFloat:
    """A number literal as Fluent reads it (a float when it has a point)."""
    try:
        return FluentFloat(float(node.value)) if "." in node.value else FluentInt(int(node.value))
    except ValueError as e:  # 5,000 digits: Fluent fails when the message is worded
        raise NotCoveredError(node.value[:20]) from e


def _number_call(node: fl.FunctionReference) -> tuple[str, Options]:
    """`NUMBER($name, option: literal, ...)`: the parameter's name and the options as Fluent
    passes them; any other call gives way."""
    arguments = node.arguments
    if node.id.name != "NUMBER" or len(arguments.positional) != 1:
        raise NotCoveredError(node.id.name)
    target = arguments.positional[0]
    if not isinstance(target, fl.VariableReference):
        raise NotCoveredError("NUMBER of a literal")
    options: list[tuple[str, object]] = []
    for named in arguments.named:
        value = named.value
        if isinstance(value, fl.NumberLiteral):
            options.append((named.name.name, _literal(value)))
        elif isinstance(value, fl.StringLiteral):
            options.append((named.name.name, str(value.parse()["value"])))
        else:
            raise NotCoveredError("option")
    try:  # options Fluent would fail on, at once or when it formats: Fluent's to report
        babel_locale = Locale.parse("en")
        for sample in (FluentInt(0), FluentInt(-1234), FluentFloat(0.5), FluentFloat(1234.5678)):
            fluent_number(sample, **dict(options)).format(babel_locale)
    except Exception as e:
        raise NotCoveredError(str(e)) from e
    return target.id.name, tuple(options)


def _size(node: object) -> int:
    """The elements of a pattern, its variants' included."""
    if isinstance(node, fl.Pattern):
        return len(node.elements) + sum(_size(e) for e in node.elements)
    if isinstance(node, fl.Placeable):
        return _size(node.expression)
    if isinstance(node, fl.SelectExpression):
        return sum(_size(v.value) for v in node.variants)
    return 0
