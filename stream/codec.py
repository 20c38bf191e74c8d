"""Decode message bytes into typed events, or say precisely which field broke which rule.

Two paths, one contract (`stream.contract`). The fast one decodes straight into typed structs
built from the contract's table (msgspec, validating lengths, ranges and choices as it goes)
and reads the common form of RFC 3339 times by hand; whatever it is not sure of (any error, an
unusual but valid form) goes to the checking one, which accepts or refuses it and names the
field, the rule and the value. A property test holds the two to the same events and errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

import msgspec
import orjson

from scoring.events import Event
from scoring.serialize import read_time
from stream.contract import (
    COMMON_FIELDS,
    DATE_PATTERN,
    INPUT_TOPICS,
    MESSAGE_TYPES,
    TIMESTAMP_PATTERN,
    TYPES_BY_TOPIC_KIND,
    FieldSpec,
)
from stream.messages import DeadLetter, Decoded, Incoming

DEFAULT_MAX_MESSAGE_BYTES: Final = 64 * 1024
_TIMESTAMP: Final = re.compile(TIMESTAMP_PATTERN)
_DATE: Final = re.compile(DATE_PATTERN)
_SHOWN_VALUE_CHARS: Final = 80


class DecodeError(ValueError):
    """A message broke the contract: `field` broke `rule`; `value` is what it held."""

    def __init__(self, field: str, rule: str, value: Any = None) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        super().__init__(self.describe())

    def describe(self) -> str:
        shown = repr(self.value)
        if len(shown) > _SHOWN_VALUE_CHARS:
            shown = shown[:_SHOWN_VALUE_CHARS] + "..."
        return f"{self.field}: must be {self.rule}, got {shown}"


class _Missing:
    def __repr__(self) -> str:
        return "nothing (field missing)"


MISSING: Final[Any] = _Missing()


def _check(spec: FieldSpec, value: Any) -> Any:
    """Return the value converted for the event class, or raise DecodeError."""
    kind = spec.kind
    if kind in ("string", "enum", "timestamp", "date") and not isinstance(value, str):
        raise DecodeError(spec.name, spec.rule(), value)
    if kind == "string":
        if not spec.min_length <= len(value) <= spec.max_length:
            raise DecodeError(spec.name, spec.rule(), value)
        return value
    if kind == "enum":
        if value not in spec.choices:
            raise DecodeError(spec.name, spec.rule(), value)
        return value
    if kind == "timestamp":
        return _parse_timestamp(spec, value)
    if kind == "date":
        if not _DATE.match(value):
            raise DecodeError(spec.name, spec.rule(), value)
        try:
            date.fromisoformat(value)
        except ValueError:
            raise DecodeError(spec.name, spec.rule(), value) from None
        return value
    # integer / number; bool is an int in Python but not a number in JSON. The parsed JSON's
    # own types, tested one by one (compiled, `isinstance(value, int | float)` builds the
    # union at each call)
    kind_of = type(value)
    if kind_of is not int and kind_of is not float:
        raise DecodeError(spec.name, spec.rule(), value)
    if kind == "integer" and not isinstance(value, int):
        # JSON Schema counts 9.0 as an integer, and so does the contract
        if not (isinstance(value, float) and value.is_integer()):
            raise DecodeError(spec.name, spec.rule(), value)
        value = int(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise DecodeError(spec.name, spec.rule(), value)
    if (spec.minimum is not None and value < spec.minimum) or (
        spec.maximum is not None and value > spec.maximum
    ):
        raise DecodeError(spec.name, spec.rule(), value)
    return float(value) if kind == "number" else value


def _parse_timestamp(spec: FieldSpec, value: str) -> float:
    if not _TIMESTAMP.match(value):
        raise DecodeError(spec.name, spec.rule(), value)
    text = value.replace("z", "Z").replace("t", "T")
    # Python 3.11 reads at most microseconds; cut finer fractions rather than reject them.
    match = re.search(r"\.(\d+)", text)
    if match and len(match.group(1)) > 6:
        text = text[: match.start(1) + 6] + text[match.end(1) :]
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise DecodeError(spec.name, spec.rule(), value) from None


def decode_event(
    raw: bytes,
    *,
    topic: str | None = None,
    key: bytes | None = None,
    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> Event:
    """Turn one message value into a typed event; raise DecodeError naming field, rule and value.

    `topic` (an input topic name) restricts the allowed types; `key`, when set, must equal the
    customer id.
    """
    if len(raw) > max_bytes:
        raise DecodeError("message", f"at most {max_bytes} bytes", f"{len(raw)} bytes")
    event = _decode_fast(raw, topic, key)
    return event if event is not None else checked_event(raw, topic=topic, key=key)


def decode_batch(
    messages: Iterable[Incoming], topics: Mapping[str, str], max_bytes: int
) -> list[Decoded]:
    """Consumed messages decoded: each with its event, or with its dead letter (why it cannot be
    applied, `decode_event`'s error). `topics`: a consumed topic's name -> its contract name,
    which restricts the types it may carry (a topic not there: any). Compiled, so the loop
    over a fetch costs no interpreted call per message."""
    out: list[Decoded] = []
    new = tuple.__new__  # as Decoded(msg, event), without the named tuple's Python-level __new__
    for msg in messages:
        try:
            event: Event | DeadLetter = decode_event(
                msg.value or b"", topic=topics.get(msg.topic), key=msg.key, max_bytes=max_bytes
            )
        except DecodeError as exc:
            event = DeadLetter(msg, str(exc), exc.field)
        out.append(new(Decoded, (msg, event)))
    return out


def checked_event(raw: bytes, *, topic: str | None = None, key: bytes | None = None) -> Event:
    """The checking path: every field read and checked against the contract, the first that
    breaks a rule named in a DecodeError."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError("message", "valid UTF-8 JSON", str(exc)) from None
    if not isinstance(doc, dict):
        raise DecodeError("message", "a JSON object", type(doc).__name__)

    type_name = doc.get("type", MISSING)
    allowed = _allowed_types(topic)
    if type_name not in allowed:
        where = f" on topic {topic}" if topic else ""
        raise DecodeError("type", "one of " + ", ".join(allowed) + where, type_name)
    message_type = MESSAGE_TYPES[type_name]

    values: dict[str, Any] = {}
    for spec in COMMON_FIELDS + message_type.fields:
        value = doc.get(spec.name, MISSING)
        if value is MISSING or (value is None and not spec.required):
            if spec.required:
                raise DecodeError(spec.name, spec.rule(), value)
            continue
        values[spec.name] = _check(spec, value)

    if key is not None:
        try:
            key_text = key.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("key", "the customer id in UTF-8", key) from None
        if key_text != values["customer_id"]:
            raise DecodeError(
                "customer_id", f"equal to the message key {key_text!r}", doc["customer_id"]
            )
    return message_type.event_class(**values)


def _allowed_types(topic: str | None) -> tuple[str, ...]:
    if topic is None:
        return tuple(MESSAGE_TYPES)
    for kind, name in INPUT_TOPICS.items():
        if name == topic:
            return TYPES_BY_TOPIC_KIND[kind]
    return tuple(MESSAGE_TYPES)


# --- the fast path -----------------------------------------------------------------------------


def _wire_type(spec: FieldSpec) -> Any:
    """The msgspec type of one field: what it accepts is what `_check` accepts, or less."""
    kind = spec.kind
    t: Any
    if kind == "string":
        t = Annotated[str, msgspec.Meta(min_length=spec.min_length, max_length=spec.max_length)]
    elif kind == "enum":
        t = Literal[spec.choices]
    elif kind in ("timestamp", "date"):
        t = str  # checked after decoding (`_read_time`, `_check`)
    else:
        number: Any = int if kind == "integer" else float
        t = Annotated[number, msgspec.Meta(ge=spec.minimum, le=spec.maximum)]
    return t if spec.required else (t | None, None)


def _wire_struct(name: str, specs: tuple[FieldSpec, ...]) -> type[msgspec.Struct]:
    fields: list[Any] = []
    for spec in specs:
        t = _wire_type(spec)
        fields.append((spec.name, *t) if isinstance(t, tuple) else (spec.name, t))
    return msgspec.defstruct(
        f"Wire_{name}", fields, tag_field="type", tag=name, array_like=False, omit_defaults=False
    )


def _event_fields(cls: type[Event]) -> list[str]:
    return [f.name for f in msgspec.structs.fields(cls)]


# each message type's struct -> its event class and the positions of its date fields
_WIRE: Final[dict[type[msgspec.Struct], tuple[type[Event], tuple[int, ...]]]] = {}
for _message in MESSAGE_TYPES.values():
    _specs = COMMON_FIELDS + _message.fields
    if _event_fields(_message.event_class) != [s.name for s in _specs]:
        raise RuntimeError(f"{_message.name}: the event's fields and the contract's differ")
    _dates = tuple(i for i, s in enumerate(_specs) if s.kind == "date")
    _WIRE[_wire_struct(_message.name, _specs)] = (_message.event_class, _dates)


def _decoder(types: tuple[str, ...]) -> msgspec.json.Decoder[Any]:
    structs = tuple(w for w, (cls, _) in _WIRE.items() if cls.TYPE in types)
    union: Any = structs[0]
    for w in structs[1:]:
        union = union | w
    return msgspec.json.Decoder(union)


_DECODERS: Final[dict[str | None, msgspec.json.Decoder[Any]]] = {
    None: _decoder(tuple(MESSAGE_TYPES))
}
for _kind, _name in INPUT_TOPICS.items():
    _DECODERS[_name] = _decoder(TYPES_BY_TOPIC_KIND[_kind])


def _decode_fast(raw: bytes, topic: str | None, key: bytes | None) -> Event | None:
    """The event, when the fast path is sure of it; None to let `checked_event` decide."""
    decoder = _DECODERS.get(topic) or _DECODERS[None]
    try:
        wire = decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    values = msgspec.structs.astuple(wire)
    at = read_time(values[2])
    if at is None:
        return None
    event_class, dates = _WIRE[type(wire)]
    if key is not None:
        try:
            if key.decode("utf-8") != values[1]:
                return None
        except UnicodeDecodeError:
            return None
    for i in dates:
        if values[i] is not None and not _is_date(values[i]):
            return None
    return event_class(values[0], values[1], at, *values[3:])


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def encode(doc: dict[str, Any]) -> bytes:
    """Serialise an outgoing message as compact UTF-8 JSON."""
    out: bytes = orjson.dumps(doc)  # typed where orjson is not installed: the compiled build
    return out
