"""Plural forms in Russian and Latvian, three each, chosen by the CLDR rules Babel carries
(`stream.i18n`): days and tickets at 0, 1, 2, 5, 11, 21, 22, 25 and 101. The expected words
are written out here by hand, as a reader of each language would have them."""

from __future__ import annotations

import pytest

from scoring.words import say
from stream.i18n import words

COUNTS = (0, 1, 2, 5, 11, 21, 22, 25, 101)

RU_DAYS = ("дней", "день", "дня", "дней", "дней", "день", "дня", "дней", "день")
RU_TICKETS = (
    "обращений", "обращение", "обращения", "обращений", "обращений", "обращение",
    "обращения", "обращений", "обращение",
)  # fmt: skip
# "jau N dienu/dienas": the accusative after "jau"; 0 and 11 take the genitive plural
LV_DAYS = ("dienu", "dienu", "dienas", "dienas", "dienu", "dienu", "dienas", "dienas", "dienu")
LV_TICKETS = (
    "jaunu pieteikumu", "jauns pieteikums", "jauni pieteikumi", "jauni pieteikumi",
    "jaunu pieteikumu", "jauns pieteikums", "jauni pieteikumi", "jauni pieteikumi",
    "jauns pieteikums",
)  # fmt: skip


@pytest.mark.parametrize(("n", "form"), list(zip(COUNTS, RU_DAYS, strict=True)))
def test_russian_days(n: int, form: str) -> None:
    said = words("ru")(say("usage-recency-idle", days=n))
    assert f"нет активности в продукте уже {n} {form}" == said


@pytest.mark.parametrize(("n", "form"), list(zip(COUNTS, RU_TICKETS, strict=True)))
def test_russian_tickets(n: int, form: str) -> None:
    said = words("ru")(say("support-contacts", tickets=n, days=90))
    assert f"{n} {form} за последние 90 дней" == said


@pytest.mark.parametrize(("n", "form"), list(zip(COUNTS, LV_DAYS, strict=True)))
def test_latvian_days(n: int, form: str) -> None:
    said = words("lv")(say("usage-recency-idle", days=n))
    assert f"produktā nav aktivitātes jau {n} {form}" == said


@pytest.mark.parametrize(("n", "form"), list(zip(COUNTS, LV_TICKETS, strict=True)))
def test_latvian_tickets(n: int, form: str) -> None:
    said = words("lv")(say("support-contacts", tickets=n, days=90))
    assert f"{n} {form} pēdējo 90 dienu laikā" == said


def test_the_window_itself_agrees_with_its_number() -> None:
    ru, lv = words("ru"), words("lv")
    assert "1 обращение за последний день" == ru(say("support-contacts", tickets=1, days=1))
    assert "2 обращения за последние 21 день" == ru(say("support-contacts", tickets=2, days=21))
    assert "2 обращения за последние 22 дня" == ru(say("support-contacts", tickets=2, days=22))
    assert lv(say("support-contacts", tickets=2, days=1)).endswith("pēdējās 1 dienas laikā")


def test_chinese_has_one_form_and_no_spaces() -> None:
    zh = words("zh")
    assert "已1天无产品活动" == zh(say("usage-recency-idle", days=1))
    assert "已25天无产品活动" == zh(say("usage-recency-idle", days=25))


def test_numbers_and_percentages_follow_each_language() -> None:
    share = say("usage-trend", share=0.16)
    assert "16%" in words("en")(share)
    assert "16\xa0%" in words("ru")(share)  # Russian puts a no-break space before the sign
    assert "16%" in words("zh")(share)
    assert "1,0" in words("lv")(say("usage-frequency", daily=1.0, typical=2.5))
    assert "12\xa0345,6" == words("ru").number(12345.6, 1)
