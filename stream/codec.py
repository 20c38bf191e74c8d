"""Decode message bytes into typed events, or say precisely which field broke which rule."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

import orjson

from scoring.events import Event
from stream.contract import (
    COMMON_FIELDS,
    DATE_PATTERN,
    INPUT_TOPICS,
    MESSAGE_TYPES,
    TIMESTAMP_PATTERN,
    TYPES_BY_TOPIC_KIND,
    FieldSpec,
)

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)
_DATE = re.compile(DATE_PATTERN)
_SHOWN_VALUE_CHARS = 80


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


MISSING: Any = _Missing()


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
    # integer / number; bool is an int in Python but not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int | float):
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


def encode(doc: dict[str, Any]) -> bytes:
    """Serialise an outgoing message as compact UTF-8 JSON."""
    return orjson.dumps(doc)
