"""Words for people, as data: a message id and its parameters.

The core never writes a sentence. A driver, an alert reason, a band's name is a `Message`: a
stable id from the message catalogs (`stream/i18n/locales/<locale>/healthscore.ftl`) and the
numbers and names that go into it. The edge turns it into words in the reader's language
(`stream.i18n`), once per output; `health-scores` and `churn-alerts` carry the id and the
parameters beside the words, so another service can word them itself.

Every message is made by a call of `say` with a literal id and keyword parameters, or, on the
hot path (`scoring.drivers`: a keyword call costs a dict, a driver is made for every score
published), as `Message("id", ("name", value, ...))` with literal names; either way a test
reads from the source which parameters each message gets (`stream.i18n.check`,
`tests/unit/test_catalogs.py`).
"""

from __future__ import annotations

import msgspec

# the languages the catalogs hold (stream/i18n/locales); a policy's own words name them too
LANGUAGES = ("en", "ru", "lv", "zh")

Param = str | int | float


Params = tuple[str | int | float, ...]  # name, value, name, value, ... (flat: one tuple)


class Message(msgspec.Struct, frozen=True, gc=False):
    """A message id and its parameters, flat and in the order given: ("days", 6, "share",
    0.5). Immutable and hashable, so the edge can keep the words of one it has met
    (`stream.i18n.Words`). A msgspec struct without garbage-collector tracking, like the
    events (`scoring.events`): a message is made for every driver of every score published
    and kept in every open alert, and holds only strings and numbers, so it can be in no
    cycle; made, compared and hashed in C."""

    id: str
    params: Params = ()

    def args(self) -> dict[str, Param]:
        """The parameters as a mapping."""
        p = self.params
        return {str(p[i]): p[i + 1] for i in range(0, len(p) - 1, 2)}

    def flat(self) -> list[object]:
        """The stored form (`stream.store.codec`): [id, name, value, name, value, ...]."""
        return [self.id, *self.params]

    def wire(self) -> dict[str, object]:
        """The machine-readable form published beside the words: {"id", "params"}."""
        return {"id": self.id, "params": self.args()}


def say(id: str, **params: Param) -> Message:
    """A message: `say("usage-recency-idle", days=6)`.

    >>> say("usage-recency-idle", days=6)
    Message(id='usage-recency-idle', params=('days', 6))
    """
    flat: list[Param] = []
    for name, value in params.items():
        flat.append(name)
        flat.append(value)
    return Message(id, tuple(flat))


def from_wire(doc: object) -> Message | None:
    """A message read back from its published form (`Message.wire`); None when it is not one.

    >>> from_wire({"id": "alert-detractor", "params": {"latest": 2}})
    Message(id='alert-detractor', params=('latest', 2))
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        return None
    params = doc.get("params") or {}
    if not isinstance(params, dict):
        return None
    flat: list[Param] = []
    for name, value in params.items():
        flat.append(str(name))
        flat.append(value)
    return Message(doc["id"], tuple(flat))


def from_flat(raw: object) -> Message:
    """A message from its stored form (`Message.flat`); a string (a reason stored as words by
    an older version) becomes a `text` message.

    >>> from_flat(["alert-detractor", "latest", 2])
    Message(id='alert-detractor', params=('latest', 2))
    >>> from_flat("latest NPS answer was 2/10")
    Message(id='text', params=('text', 'latest NPS answer was 2/10'))
    """
    if isinstance(raw, str):
        return text(raw)
    if isinstance(raw, (list, tuple)) and raw and isinstance(raw[0], str):
        return Message(raw[0], tuple(raw[1:]))
    return text(str(raw))


# Words kept from before messages existed (a reason stored as text by an older version): shown
# as they are, in whatever language they were written.
TEXT = "text"


def text(words: str) -> Message:
    """Words that are already words (an older record's reason)."""
    return say("text", text=words)


# The signals read as neutral for want of evidence: named in a score's drivers, never as an
# alert's reason (they say what is missing, not what went wrong).
NEUTRAL = frozenset(
    {"usage-slow-trend-no-year", "usage-breadth-none", "usage-seats-none", "sentiment-no-answers"}
)
