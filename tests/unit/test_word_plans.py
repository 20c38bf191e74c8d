"""The catalogs read into plans (`stream.i18n.plans`) word every message exactly as Fluent's
resolver does, in every language, for any parameters; and where Fluent would report an error,
or a message uses what a plan does not cover, the plan gives way to Fluent."""

from __future__ import annotations

import contextlib
import logging

import pytest
from fluent.runtime import FluentBundle, FluentResource
from fluent.runtime.types import FluentInt
from fluent.syntax import ast as fl
from fluent.syntax import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.words import say
from stream.i18n import LOCALES, Words, catalog_path
from stream.i18n.check import COUNTS, SAMPLES, catalog_messages
from stream.i18n.plans import NotCoveredError, Plans


def _catalog(locale: str) -> tuple[str, FluentBundle, Plans]:
    text = catalog_path(locale).read_text(encoding="utf-8")
    bundle = FluentBundle([locale], use_isolating=False)
    bundle.add_resource(FluentResource(text))
    return text, bundle, Plans(locale, text)


CATALOGS = {locale: _catalog(locale) for locale in LOCALES}
MESSAGES = sorted(
    (locale, id, tuple(sorted(names)))
    for locale, (text, _, _) in CATALOGS.items()
    for id, names in catalog_messages(text)[0].items()
)


def _keys(text: str) -> dict[str, set[str]]:
    """The names each parameter is selected on anywhere in a catalog ("healthy", "urgent")."""
    out: dict[str, set[str]] = {}
    for entry in parse(text).body:
        if isinstance(entry, fl.Message):
            for node in _walk(entry.value):
                if isinstance(node, fl.SelectExpression) and isinstance(
                    node.selector, fl.VariableReference
                ):
                    names = out.setdefault(node.selector.id.name, set())
                    names.update(
                        v.key.name for v in node.variants if isinstance(v.key, fl.Identifier)
                    )
    return out


def _walk(node: object) -> list[object]:
    found: list[object] = [node]
    if isinstance(node, fl.Pattern):
        for e in node.elements:
            found += _walk(e)
    elif isinstance(node, fl.Placeable):
        found += _walk(node.expression)
    elif isinstance(node, fl.SelectExpression):
        for v in node.variants:
            found += _walk(v.value)
    return found


KEYS = {locale: _keys(text) for locale, (text, _, _) in CATALOGS.items()}


def _same(locale: str, id: str, args: dict[str, object]) -> None:
    """The plan words it as Fluent does, or gives way exactly where Fluent reports an error."""
    _, bundle, plans = CATALOGS[locale]
    pattern = bundle.get_message(id).value
    assert pattern is not None
    try:
        expected, errors = bundle.format_pattern(pattern, args)
    except (OverflowError, TypeError, ValueError):  # Fluent fails (inf): the plan gives way
        with pytest.raises(NotCoveredError):
            plans.plan(id)(args)  # type: ignore[misc]
        return
    plan = plans.plan(id)
    assert plan is not None, f"{locale}: {id} has no plan"
    if errors:
        with pytest.raises(NotCoveredError):
            plan(args)
    elif all(type(v) in (str, int, float) for v in args.values()):
        assert expected == plan(args), (locale, id)
    else:  # a bool, None, a subclass: the plan may leave it to Fluent, never word it otherwise
        with contextlib.suppress(NotCoveredError):
            assert expected == plan(args), (locale, id)


def test_every_shipped_message_has_a_plan() -> None:
    for locale, id, _ in MESSAGES:
        assert CATALOGS[locale][2].plan(id) is not None, f"{locale}: {id}"


@pytest.mark.parametrize("count", [*COUNTS, 0.0, 1.0, 3, 4, 1000, 12345, 1_000_000, -1, 0.25])
def test_every_message_reads_as_fluent_writes_it(count: float) -> None:
    for locale, id, names in MESSAGES:
        _same(locale, id, {name: SAMPLES.get(name, count) for name in names})


def _value(locale: str, name: str) -> st.SearchStrategy[object]:
    numbers = st.one_of(
        st.sampled_from([*COUNTS, 0.0, 1.0, 2.0, 0.5, 0.16, 0.999, 21.0, -0.0, float("nan")]),
        st.integers(-(10**7), 10**7),
        st.floats(-1e7, 1e7, allow_nan=False),
        st.sampled_from([True, False, None, 10**5000, 2**70, 1e21]),
    )
    texts = st.one_of(
        st.sampled_from(sorted(KEYS[locale].get(name, set())) or ["x"]),
        st.sampled_from(["one", "few", "other", "0", ""]),
        st.text(max_size=12),
    )
    return st.one_of(numbers, texts)


@st.composite
def _wording(draw: st.DrawFn) -> tuple[str, str, dict[str, object]]:
    locale, id, names = draw(st.sampled_from(MESSAGES))
    args: dict[str, object] = {}
    for name in names:
        if draw(st.integers(0, 30)) == 0:
            continue  # a parameter missing: Fluent reports it, the plan gives way
        args[name] = draw(_value(locale, name))
    return locale, id, args


@settings(max_examples=600, deadline=None)
@given(_wording())
def test_any_parameters_read_as_fluent_writes_them(wording: tuple[str, str, dict]) -> None:
    _same(*wording)


OTHER = (
    """
-brand = Acme
with-term = { -brand } says hello
with-reference = { with-term }, again
with-date = on { DATETIME($when) }
no-default = { $x ->
    [one] one
   *[other] other
}
literal = { 1234.5 } and { "quoted \\u0041" }
bad-option = { NUMBER($n, style: "nonsense") }
twice = first { $x }
twice = second { $x }
option-three = { NUMBER($x, minimumIntegerDigits: 3) }
option-three-float = { NUMBER($x, minimumIntegerDigits: 3.0) }
long = { $n ->
    [one] { $text } and one more
   *[other] { $text } and more
}
"""
    + f'long-text = {{"{"a" * 2_600}"}} {{ $x }}\n'
)


def test_what_a_plan_does_not_cover_is_left_to_fluent() -> None:
    plans = Plans("en", OTHER)
    assert plans.plan("with-term") is None
    assert plans.plan("with-reference") is None
    assert plans.plan("with-date") is None
    assert plans.plan("bad-option") is None
    literal = plans.plan("literal")
    assert literal is not None
    assert "1,234.5 and quoted A" == literal({})


def test_words_give_way_to_fluent_and_say_what_is_wrong(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ru = Words("ru")
    with caplog.at_level(logging.WARNING, logger="stream.i18n"):
        worded = ru(say("usage-recency-idle"))  # its days missing
    assert "days" in worded
    assert "usage-recency-idle" in caplog.text
    assert "нет активности в продукте уже 5 дней" == ru(say("usage-recency-idle", days=5)).lower()


def test_a_plan_keeps_fluents_guard_on_long_words() -> None:
    bundle = FluentBundle(["en"], use_isolating=False)
    bundle.add_resource(FluentResource(OTHER))
    pattern = bundle.get_message("long").value
    assert pattern is not None
    plan = Plans("en", OTHER).plan("long")
    assert plan is not None
    short = {"n": 2, "text": "x" * 2_480}
    assert bundle.format_pattern(pattern, short) == (plan(short), [])
    long = {"n": 2, "text": "x" * 2_495}  # 2,504 characters with the variant's own words
    assert bundle.format_pattern(pattern, long)[1], "Fluent reports it"
    with pytest.raises(NotCoveredError):
        plan(long)


def test_a_plan_keeps_fluents_reading_of_unusual_catalogs_and_values() -> None:
    plans = Plans("en", OTHER)
    bundle = FluentBundle(["en"], use_isolating=False)
    bundle.add_resource(FluentResource(OTHER))
    twice = plans.plan("twice")
    assert twice is not None
    assert (
        "first 1"
        == twice({"x": 1})
        == bundle.format_pattern(bundle.get_message("twice").value, {"x": 1})[0]
    )  # the first definition, as Fluent keeps it
    assert plans.plan("long-text") is None  # Fluent's guard on a literal beside a placeable
    assert plans.plan("option-three-float") is None  # fails in Fluent when it formats
    three = plans.plan("option-three")
    assert three is not None
    assert "002.55" == three({"x": 2.55})
    for odd in (True, None, 10**5000, FluentInt(5), "5"):
        if not isinstance(odd, str):
            with pytest.raises(NotCoveredError):
                three({"x": odd})
    with pytest.raises(NotCoveredError):
        CATALOGS["en"][2].plan("band")({"band": float("nan")})  # type: ignore[misc]


def test_words_of_a_nan_are_fluents_with_its_error(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="stream.i18n"):
        worded = Words("en")(say("page-points", points=float("nan")))
    assert "{???}" == worded
    assert "page-points" in caplog.text
