"""Words for people, as data: a message id and its parameters.

The core never writes a sentence. A driver, an alert reason, a band's name is a `Message`: a
stable id from the message catalogs (`stream/i18n/locales/<locale>/healthscore.ftl`) and the
numbers and names that go into it. The edge turns it into words in the reader's language
(`stream.i18n`), once per output; `health-scores` and `churn-alerts` carry the id and the
parameters beside the words, so another service can word them itself.

Every message is made by a call of `say` with a literal id and keyword parameters, so a test
can read from the source which parameters each message gets (`tests/unit/test_catalogs.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

Param = str | int | float


@dataclass(frozen=True, slots=True)
class Message:
    """A message id and its parameters, in the order given. Immutable and hashable, so the
    edge can keep the words of one it has met (`stream.i18n.Words`)."""

    id: str
    params: tuple[tuple[str, Param], ...] = ()

    def args(self) -> dict[str, Param]:
        """The parameters as a mapping."""
        return dict(self.params)

    def flat(self) -> list[object]:
        """The stored form (`stream.store.codec`): [id, name, value, name, value, ...]."""
        out: list[object] = [self.id]
        for name, value in self.params:
            out.append(name)
            out.append(value)
        return out

    def wire(self) -> dict[str, object]:
        """The machine-readable form published beside the words: {"id", "params"}."""
        return {"id": self.id, "params": dict(self.params)}


def say(id: str, **params: Param) -> Message:
    """A message: `say("usage-recency-idle", days=6)`.

    >>> say("usage-recency-idle", days=6)
    Message(id='usage-recency-idle', params=(('days', 6),))
    """
    return Message(id, tuple(params.items()))


def from_wire(doc: object) -> Message | None:
    """A message read back from its published form (`Message.wire`); None when it is not one.

    >>> from_wire({"id": "alert-detractor", "params": {"latest": 2}})
    Message(id='alert-detractor', params=(('latest', 2),))
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        return None
    params = doc.get("params") or {}
    if not isinstance(params, dict):
        return None
    return Message(doc["id"], tuple((str(k), v) for k, v in params.items()))


def from_flat(raw: object) -> Message:
    """A message from its stored form (`Message.flat`); a string (a reason stored as words by
    an older version) becomes a `text` message.

    >>> from_flat(["alert-detractor", "latest", 2])
    Message(id='alert-detractor', params=(('latest', 2),))
    >>> from_flat("latest NPS answer was 2/10")
    Message(id='text', params=(('text', 'latest NPS answer was 2/10'),))
    """
    if isinstance(raw, str):
        return text(raw)
    if isinstance(raw, (list, tuple)) and raw and isinstance(raw[0], str):
        pairs: list[tuple[str, Param]] = []
        for i in range(1, len(raw) - 1, 2):
            pairs.append((str(raw[i]), raw[i + 1]))
        return Message(raw[0], tuple(pairs))
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
