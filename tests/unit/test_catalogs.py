"""The message catalogs against the code and against English (`stream.i18n.check`): every
message the code says is in every catalog with exactly the parameters the code passes, and a
catalog that misses a message or a parameter, or has one the code never passes, fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.i18n import DEFAULT, LOCALES, catalog_path
from stream.i18n.check import code_messages, problems, shipped

EN = """
greeting = Hello, { $name }
idle = idle for { $days ->
    [one] { $days } day
   *[other] { $days } days
}
"""
CODE = {"greeting": {"name"}, "idle": {"days"}}


def test_the_shipped_catalogs_are_complete() -> None:
    code = code_messages()
    assert len(code) > 60  # drivers, reasons, pages, the CLI, notifications
    assert [] == problems(code, shipped())


def test_every_language_has_its_catalog() -> None:
    assert ("en", "ru", "lv", "zh") == LOCALES
    assert all(catalog_path(x).is_file() for x in LOCALES)


def test_the_code_is_read_for_its_messages(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "w.say('page-a', n=1)\nsay('drv-b', days=2, share=0.5)\nsay('drv-b', days=3)\n"
        "say(name)\nsay('text', text='as is')\n"
        "Message('drv-c', ('days', 3, 'share', x))\nMessage('drv-d')\n"
        "Message('drv-e', pairs)\n"
    )
    assert {
        "page-a": {"n"},
        "drv-b": {"days", "share"},
        "drv-c": {"days", "share"},
        "drv-d": set(),
        "drv-e": {"**"},
    } == code_messages([tmp_path])


@pytest.mark.parametrize(
    ("other", "complaint"),
    [
        ("greeting = Sveiki, { $name }\n", "lv: no message 'idle'"),
        (
            EN.replace("Hello, { $name }", "Sveiki!"),
            "lv: greeting: misses name",
        ),
        (
            EN.replace("Hello, { $name }", "Sveiki, { $name } { $surname }"),
            "lv: greeting: has surname, which the English message has not",
        ),
        (EN + "extra = more\n", "lv: extra: not a message of the English catalog"),
        (EN + "broken = { $x\n", "lv: cannot parse"),
    ],
)
def test_a_catalog_that_misses_or_adds_a_message_or_parameter_fails(
    other: str, complaint: str
) -> None:
    found = problems(CODE, {DEFAULT: EN, "lv": other})
    assert any(p.startswith(complaint) for p in found), found


def test_english_must_say_what_the_code_says_with_the_parameters_it_passes() -> None:
    assert [] == problems(CODE, {DEFAULT: EN})
    assert ["en: no message 'gone', which the code says"] == problems(
        {**CODE, "gone": set()}, {DEFAULT: EN}
    )
    passes_less = {"greeting": set(), "idle": {"days"}}
    assert ["en: greeting: uses name, which the code never passes"] == problems(
        passes_less, {DEFAULT: EN}
    )
    assert ["en: idle: the code never says it"] == problems({"greeting": {"name"}}, {DEFAULT: EN})
