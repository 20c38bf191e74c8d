"""The wire forms of scores and alerts, as the published contract has them
(`config/schemas/health-scores.json`, `config/schemas/churn-alerts.json`).

The stored form of a customer is `stream.store.codec`'s, not this module's.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any, Final, Protocol

from scoring.alerts import Alert
from scoring.health import HealthScore
from scoring.words import Message, Params

# a message's words, and its published form (`Message.wire`) as the encoder takes it as it is
# (the renderer's own: JSON encoded once, or the form itself). The form's dict is not kept: a
# caller that wants it (a record read, not encoded) makes it again, so a renderer's memo of
# many messages holds each one's words and bytes only
Pair = tuple[str, object]


class Render(Protocol):
    """Messages in words, in one language (`stream.i18n.Words`), and in their published form:
    `pair` gives both (a renderer keeps them, so the same message met again costs one
    lookup)."""

    locale: str
    # the pairs made so far, by id, then params: read here first, so a message met before costs
    # a lookup in compiled code rather than a call into the renderer
    pairs: dict[str, dict[Params, Pair]]

    def __call__(self, message: Message) -> str: ...

    def pair(self, message: Message) -> Pair: ...


class _Plain:
    """The words of a message when the caller gives no renderer: its id and parameters."""

    locale = "en"

    def __init__(self) -> None:
        self.pairs: dict[str, dict[Params, Pair]] = {}

    def __call__(self, message: Message) -> str:
        if not message.params:
            return message.id
        return message.id + " " + " ".join(f"{k}={v}" for k, v in message.args().items())

    def pair(self, message: Message) -> Pair:
        return self(message), message.wire()


_PLAIN: Final = _Plain()

_MINUTE_TEXTS: Final[dict[int, str]] = {}  # "YYYY-MM-DDTHH:MM:" of a minute since the epoch, as met
_TWO: Final = tuple(f"{n:02d}" for n in range(60))
_MILLIS: Final = tuple(f".{n:03d}Z" for n in range(1000))


def rfc3339(ts: float) -> str:
    """Format POSIX seconds as an RFC 3339 UTC timestamp, to the millisecond (as
    `datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")` does: microseconds
    rounded half to even, then cut), the text of each minute worked out once (a published
    score's time is two lookups and two joins).

    >>> rfc3339(1767225600.0), rfc3339(1767225600.0015), rfc3339(-0.5)
    ('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.001Z', '1969-12-31T23:59:59.500Z')
    """
    fraction, whole = math.modf(ts)
    micro = round(fraction * 1e6)
    seconds = int(whole)
    if micro >= 1_000_000:
        micro -= 1_000_000
        seconds += 1
    elif micro < 0:
        micro += 1_000_000
        seconds -= 1
    minute = seconds // 60
    text = _MINUTE_TEXTS.get(minute)
    if text is None:
        if len(_MINUTE_TEXTS) > 100_000:
            _MINUTE_TEXTS.clear()
        when = datetime.fromtimestamp(minute * 60, UTC)
        text = _MINUTE_TEXTS[minute] = when.isoformat()[:17]  # "YYYY-MM-DDTHH:MM:"
    return text + _TWO[seconds - minute * 60] + _MILLIS[micro // 1000]


_DAYS: Final[dict[str, int]] = {}  # "YYYY-MM-DD" -> the POSIX seconds (UTC) of its start, as met
_SEPARATORS: Final = frozenset("Tt ")
_EPOCH_DATE: Final = date(1970, 1, 1)
_EXACT: Final = 1 << 53  # microseconds a float holds exactly


def _digit(text: str, i: int) -> int:
    """The ASCII digit at text[i], or -100 (so any number it is part of is negative)."""
    c = ord(text[i]) - 48
    return c if 0 <= c <= 9 else -100


def _two(text: str, i: int) -> int:
    return _digit(text, i) * 10 + _digit(text, i + 1)


def _day(text: str) -> int | None:
    """POSIX seconds (UTC) of the start of the day "YYYY-MM-DD", or None when it is not one."""
    if text[4] != "-" or text[7] != "-":
        return None
    year = _two(text, 0) * 100 + _two(text, 2)
    if year < 0 or _two(text, 5) < 0 or _two(text, 8) < 0:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return (day - _EPOCH_DATE).days * 86_400


def read_time(text: str) -> float | None:
    """POSIX seconds of an RFC 3339 time in its common form, exactly as `datetime.fromisoformat`
    and `timestamp()` read it (whole microseconds over 10**6; fractions finer than a
    microsecond cut); None for anything else, and for times more than 2**53 microseconds (about
    285 years) from 1970, which the decoder's checking path then reads (`stream.codec`). Each
    day's start is worked out once.

    >>> read_time("2026-01-01T00:00:00.001Z"), read_time("2026-01-01T01:00:00+01:00")
    (1767225600.001, 1767225600.0)
    >>> read_time("2026-01-01"), read_time("2026-02-30T00:00:00Z")
    (None, None)
    """
    n = len(text)
    if n < 20 or text[10] not in _SEPARATORS or text[13] != ":" or text[16] != ":":
        return None
    day = text[:10]
    base = _DAYS.get(day)
    if base is None:
        base = _day(day)
        if base is None:
            return None
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        _DAYS[day] = base
    hour, minute = _two(text, 11), _two(text, 14)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    base += hour * 3_600 + minute * 60
    second = _two(text, 17)
    if not 0 <= second <= 59:
        return None
    i = 19
    micro = 0
    if text[i] == ".":
        j = i + 1
        while j < n and 0 <= ord(text[j]) - 48 <= 9:
            if j - i <= 6:
                micro = micro * 10 + ord(text[j]) - 48
            j += 1
        digits = j - i - 1
        if not 1 <= digits <= 9:
            return None
        for _ in range(digits, 6):
            micro *= 10
        i = j
    if i == n - 1 and (text[i] == "Z" or text[i] == "z"):
        offset = 0
    elif i == n - 6 and (text[i] == "+" or text[i] == "-") and text[i + 3] == ":":
        off_h, off_m = _two(text, i + 1), _two(text, i + 4)
        if not (0 <= off_h <= 23 and 0 <= off_m <= 59):
            return None
        offset = off_h * 3_600 + off_m * 60
        if text[i] == "-":
            offset = -offset
    else:
        return None
    micros = (base + second - offset) * 1_000_000 + micro
    if not -_EXACT < micros < _EXACT:  # past 2255: the compiled division would round twice
        return None
    return micros / 1_000_000


def health_record(
    h: HealthScore,
    previous_score: float | None,
    revenue_at_risk: float | None = None,
    words: Render | None = None,
    locale: str | None = None,
    encoding: bool = False,
) -> dict[str, Any]:
    """The `health-scores` message (and HTTP body) of a score (`revenue_at_risk`: the score's,
    when the caller has it at hand). Each driver's `detail` is its message in words, in
    `locale`, by `words` (`stream.i18n`); `message` is the same as id and parameters: a dict,
    or with `encoding` (a caller that only encodes the record) the renderer's encoded form."""
    render: Render = words if words is not None else _PLAIN
    pairs = render.pairs
    drivers = []
    for d in h.drivers:
        m = d.detail
        by = pairs.get(m.id)
        known = by.get(m.params) if by is not None else None
        detail, encoded = known if known is not None else render.pair(m)
        drivers.append(
            {
                "signal": d.signal,
                "impact": d.impact,
                "detail": detail,
                "message": encoded if encoding else m.wire(),
            }
        )
    return {
        "customer_id": h.customer_id,
        "score": h.score,
        "band": h.band,
        "components": h.components,
        "drivers": drivers,
        "confidence": h.confidence,
        "as_of": rfc3339(h.as_of),
        "model": h.model,
        "previous_score": previous_score,
        "churn_probability": h.churn_probability,
        "revenue_at_risk": h.revenue_at_risk if revenue_at_risk is None else revenue_at_risk,
        "revenue_at_risk_calibrated": h.revenue_at_risk_calibrated,
        "locale": locale,
    }


def alert_record(
    a: Alert, words: Render | None = None, locale: str | None = None
) -> dict[str, Any]:
    """The `churn-alerts` message of an alert: its reasons in words, in `locale`, by `words`
    (`stream.i18n`), and as ids and parameters (`reason_messages`)."""
    render: Render = words if words is not None else _PLAIN
    reasons = [render(m) for m in a.reasons]
    return {
        "alert_id": a.alert_id,
        "customer_id": a.customer_id,
        "rule": a.rule,
        "severity": a.severity,
        "score": a.score,
        "previous_score": a.previous_score,
        "band": a.band,
        "reasons": reasons,
        "reason_messages": [m.wire() for m in a.reasons],
        "owner": a.owner,
        "segment": a.segment,
        "raised_at": rfc3339(a.raised_at),
        "rules": list(a.rules or (a.rule,)),
        "revenue_at_risk": a.revenue_at_risk,
        "revenue_at_risk_calibrated": a.revenue_at_risk_calibrated,
        "locale": locale,
    }
