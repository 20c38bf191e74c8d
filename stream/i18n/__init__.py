"""Words in the reader's language: the message catalogs and who reads which language.

The core says what it means as messages (`scoring.words.Message`: an id and parameters); this
package words them. The catalogs are Fluent files, one per language
(`stream/i18n/locales/<locale>/healthscore.ftl`); Fluent selects plural forms by the CLDR
rules Babel carries ("1 день, 2 дня, 5 дней"; "1 diena, 2 dienas, 10 dienu") and formats
numbers, percentages and dates by each locale's conventions. Nothing here writes a plural rule
or a number format by hand.

Who reads which language (`Languages`): an alert and a published score are worded in the
customer's owner's language when the deployment knows it (`HEALTHSCORE_OWNER_LOCALES`), else
in the customer's own (the account attribute `locale`), else in the deployment's
(`HEALTHSCORE_LOCALE`). A page is worded in the language its reader asks for (`?lang=`, then
`Accept-Language`), else the deployment's; the CLI takes `--lang`.

A message is worded once per language and kept (`Words`), so the same reason met again costs
a dictionary lookup: what keeps publishing as fast as it was with words made by f-strings. The
first wording of each goes through the catalog read once into plans (`stream.i18n.plans`: a
few microseconds, not Fluent's walk of the tree); Fluent's resolver words what a plan does not
cover.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent
from fluent.runtime import FluentBundle, FluentResource
from orjson import Fragment, dumps

from scoring.serialize import Pair  # words, and the published form's JSON (`orjson.Fragment`)
from scoring.state import CustomerState, locale_of
from scoring.words import LANGUAGES, TEXT, Message, Param, Params, say
from stream.i18n.plans import NotCoveredError, Plans

log = logging.getLogger(__name__)


LOCALES = LANGUAGES  # the languages the catalogs hold
DEFAULT = "en"
CATALOG = "healthscore.ftl"
MEMO_SIZE = 20_000  # messages worded and kept per language


def catalog_path(locale: str) -> Path:
    """The Fluent file of one of `LOCALES`."""
    return Path(__file__).parent / "locales" / locale / CATALOG


@lru_cache(maxsize=4096)
def supported(tag: str | None) -> str | None:
    """One of `LOCALES` for a language tag ("ru-RU", "lv_LV", "zh-Hans-CN", "EN"), or None.

    >>> supported("ru-RU"), supported("zh_Hans_CN"), supported("de"), supported("")
    ('ru', 'zh', None, None)
    """
    if not tag:
        return None
    tag = tag.strip().replace("_", "-")
    try:
        language = Locale.parse(tag, sep="-").language
    except (ValueError, UnknownLocaleError):
        language = tag.split("-", 1)[0].lower()
    return language if language in LOCALES else None


def accepted(header: str | None) -> str | None:
    """The first of `LOCALES` an `Accept-Language` header asks for, by its q-values.

    >>> accepted("de-CH, lv;q=0.8, en;q=0.5"), accepted("*"), accepted("zh-CN,zh;q=0.9")
    ('lv', None, 'zh')
    """
    if not header:
        return None
    asked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        if rest.strip().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            asked.append((-q, i, tag))
    for _, _, tag in sorted(asked):
        found = supported(tag)
        if found:
            return found
    return None


class Words:
    """One language's catalog: messages in words (each worded once and kept), numbers,
    percentages and dates in the language's formats. English fills any message a catalog
    lacks (the catalog test keeps that from happening in a release)."""

    def __init__(self, locale: str) -> None:
        if locale not in LOCALES:
            raise ValueError(f"no catalog for {locale!r}: one of {', '.join(LOCALES)}")
        self.locale = locale
        self.babel = Locale.parse(locale)
        self._bundle, self._plans = _bundle(locale)
        self._english, self._english_plans = (
            (self._bundle, self._plans) if locale == DEFAULT else _bundle(DEFAULT)
        )
        # id -> params -> (words, the published form's JSON): no key to build, a flat tuple to hash;
        # read directly by the compiled serializer (`scoring.serialize.health_record`)
        self.pairs: dict[str, dict[Params, Pair]] = {}
        self._kept = 0

    def __call__(self, message: Message) -> str:
        """A message in words (kept: the next time it is a lookup)."""
        return self.pair(message)[0]

    def pair(self, message: Message) -> Pair:
        """The message in words and its published form (`Message.wire`) as JSON, kept: what a
        published score asks for each of its drivers. The form's dict itself is not kept (it
        would double what each message costs the memo); a record that is read rather than
        encoded makes it again."""
        by = self.pairs.get(message.id)
        if by is None:
            by = self.pairs[message.id] = {}
        pair = by.get(message.params)
        if pair is None:
            wire = message.wire()
            try:
                # a right-sized copy: orjson's own result keeps a 4 KiB allocation behind it,
                # which a memo of MEMO_SIZE entries would hold per language (80 MiB)
                encoded: object = Fragment(memoryview(dumps(wire)).tobytes())
            except TypeError:  # not JSON (an int past 64 bits): the encoder of a record says so
                encoded = wire
            pair = (self._format(message.id, message.args()), encoded)
            self._kept += 1
            if self._kept > MEMO_SIZE:
                self.pairs.clear()
                self._kept = 1
                by = self.pairs[message.id] = {}
            by[message.params] = pair
        return pair

    def say(self, id: str, **params: Param) -> str:
        """A message of the edge's own (a page label, a table heading) in words."""
        return self(say(id, **params))

    def _format(self, id: str, args: dict[str, Param]) -> str:
        if id == TEXT:
            return str(args.get("text", ""))
        own = self._bundle.has_message(id)
        plan = (self._plans if own else self._english_plans).plan(id)
        if plan is not None:
            try:
                return plan(args)
            except NotCoveredError:
                pass  # Fluent words it, and says what is wrong
        bundle = self._bundle if own else self._english
        if not bundle.has_message(id):
            log.warning("no message %r in any catalog", id)
            return id
        pattern = bundle.get_message(id).value
        if pattern is None:
            return id
        words, errors = bundle.format_pattern(pattern, args)
        if errors:
            log.warning("message %r in %s: %s", id, self.locale, errors)
        return str(words)

    def number(self, value: float, digits: int = 0) -> str:
        """A number with the language's separators, rounded to `digits` decimals."""
        return str(
            format_decimal(
                round(value, digits),
                format=f"#,##0{'.' + '0' * digits if digits else ''}",
                locale=self.babel,
            )
        )

    def percent(self, share: float) -> str:
        """A share (0.16) as the language writes a percentage ("16%", "16 %")."""
        return str(format_percent(share, locale=self.babel))

    def list(self, items: Sequence[str]) -> str:
        """Items joined as the language joins a list ("a, b and c", "a、b和c")."""
        return str(format_list(list(items), locale=self.babel)) if items else ""

    def date(self, ts: float) -> str:
        """A day, as the language writes it in full (the customer page's dates)."""
        return str(format_date(datetime.fromtimestamp(ts, UTC), format="medium", locale=self.babel))

    def moment(self, ts: float) -> str:
        """A moment to the minute, UTC, as the language writes it."""
        when = datetime.fromtimestamp(ts, UTC)
        return str(format_datetime(when, format="medium", tzinfo=UTC, locale=self.babel)) + " UTC"


def next_step(words: Words, rule: str, overrides: Mapping[str, Mapping[str, str]]) -> str:
    """The suggested next step for a rule (or "review") in `words`' language: the policy's
    own text for that language, else its text for any language, else the catalog's."""
    own = overrides.get(rule)
    if own is not None:
        text = own.get(words.locale) or own.get("*")
        if text:
            return text
    return words.say("next-step", rule=rule)


@cache
def _bundle(locale: str) -> tuple[FluentBundle, Plans]:
    text = catalog_path(locale).read_text(encoding="utf-8")
    bundle = FluentBundle([locale], use_isolating=False)
    bundle.add_resource(FluentResource(text))
    return bundle, Plans(locale, text)


def words(locale: str | None = None) -> Words:
    """The catalog of a language tag (one of `LOCALES` or a tag `supported` maps to one;
    anything else, or None: English): one per language, whatever tag asked for it."""
    return _catalog(supported(locale) or DEFAULT)


@cache
def _catalog(locale: str) -> Words:
    return Words(locale)


class Languages:
    """Who reads which language: the deployment's default and its owners' languages."""

    def __init__(self, default: str = DEFAULT, owners: Mapping[str, str] | None = None) -> None:
        found = supported(default)
        if found is None:
            raise ValueError(f"locale {default!r}: one of {', '.join(LOCALES)}")
        self.default = found
        self.default_words = words(found)
        self.owners: dict[str, str] = {}
        for owner, tag in (owners or {}).items():
            locale = supported(tag)
            if locale is None:
                raise ValueError(
                    f"owner {owner!r}: locale {tag!r} is not one of {', '.join(LOCALES)}"
                )
            self.owners[owner] = locale

    def for_state(self, state: CustomerState | None) -> Words:
        """The words a customer's alerts and scores are published in: its owner's language,
        else its own, else the deployment's (asked for every score published: the common
        case, no owner's language and no customer's, is two lookups)."""
        if state is None:
            return self.default_words
        owner = state.owner
        if owner is not None and self.owners:
            known = self.owners.get(owner)
            if known is not None:
                return words(known)
        customer = locale_of(state)
        return words(supported(customer) or self.default) if customer else self.default_words
