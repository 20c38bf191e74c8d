"""The message contract: topic names and the fields of every input message type.

One declarative table drives both the fast decoder (`stream.codec`) and the published JSON Schemas
under `config/schemas/` (`python -m stream.contract` writes them), so the two cannot drift apart.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scoring import events as ev

FieldKind = Literal["string", "integer", "number", "enum", "timestamp", "date"]

ID_MAX = 128
TEXT_MAX = 2000
NAME_MAX = 128

INPUT_TOPICS: dict[ev.TopicKind, str] = {
    "usage": "usage-events",
    "support": "support-events",
    "survey": "survey-events",
    "account": "account-events",
}
OUTPUT_TOPICS = {"scores": "health-scores", "alerts": "churn-alerts", "dlq": "health-dlq"}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a message: its JSON type and the rule its value must obey."""

    name: str
    kind: FieldKind
    required: bool = True
    min_length: int = 1
    max_length: int = ID_MAX
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def rule(self) -> str:
        """Say in words what a valid value looks like."""
        if self.kind == "string":
            return f"a string of {self.min_length}-{self.max_length} characters"
        if self.kind == "enum":
            return "one of " + ", ".join(self.choices)
        if self.kind == "timestamp":
            return "an RFC 3339 timestamp with a UTC offset, e.g. 2026-01-31T12:00:00Z"
        if self.kind == "date":
            return "a date YYYY-MM-DD"
        noun = "an integer" if self.kind == "integer" else "a number"
        if self.minimum is not None and self.maximum is not None:
            return f"{noun} from {_num(self.minimum)} to {_num(self.maximum)}"
        if self.minimum is not None:
            return f"{noun} >= {_num(self.minimum)}"
        return noun


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x}"


@dataclass(frozen=True)
class MessageType:
    """One input message type: its name, topic and fields beyond the common ones."""

    event_class: type[ev.Event]
    fields: tuple[FieldSpec, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.event_class.TYPE

    @property
    def topic(self) -> str:
        return INPUT_TOPICS[self.event_class.KIND]


def _id(name: str) -> FieldSpec:
    return FieldSpec(name, "string", max_length=ID_MAX)


def _text(name: str, max_length: int = TEXT_MAX) -> FieldSpec:
    return FieldSpec(name, "string", required=False, min_length=0, max_length=max_length)


def _score(low: int, high: int) -> FieldSpec:
    return FieldSpec("score", "integer", minimum=low, maximum=high)


COMMON_FIELDS: tuple[FieldSpec, ...] = (
    _id("event_id"),
    _id("customer_id"),
    FieldSpec("occurred_at", "timestamp"),
)

MESSAGE_TYPES: dict[str, MessageType] = {
    m.name: m
    for m in (
        MessageType(ev.Session, (_id("user_id"),)),
        MessageType(
            ev.FeatureUsed,
            (
                FieldSpec("feature", "string", max_length=NAME_MAX),
                FieldSpec("count", "integer", minimum=1, maximum=1_000_000),
            ),
        ),
        MessageType(
            ev.SeatSnapshot,
            (
                FieldSpec("active_users", "integer", minimum=0, maximum=10_000_000),
                FieldSpec("licensed_seats", "integer", minimum=1, maximum=10_000_000),
            ),
        ),
        MessageType(
            ev.TicketOpened,
            (_id("ticket_id"), FieldSpec("priority", "enum", choices=ev.PRIORITIES)),
        ),
        MessageType(
            ev.TicketReplied, (_id("ticket_id"), FieldSpec("by", "enum", choices=ev.REPLIERS))
        ),
        MessageType(ev.TicketResolved, (_id("ticket_id"),)),
        MessageType(ev.TicketReopened, (_id("ticket_id"),)),
        MessageType(ev.TicketEscalated, (_id("ticket_id"),)),
        MessageType(ev.NpsAnswered, (_score(0, 10), _text("comment"))),
        MessageType(ev.CsatAnswered, (_score(1, 5), _text("comment"))),
        MessageType(ev.CesAnswered, (_score(1, 7), _text("comment"))),
        MessageType(
            ev.AccountUpdated,
            (
                FieldSpec("segment", "string", required=False, max_length=64),
                FieldSpec("owner", "string", required=False, max_length=NAME_MAX),
                FieldSpec("mrr", "number", required=False, minimum=0, maximum=1e12),
                FieldSpec("renewal_date", "date", required=False),
                FieldSpec("locale", "string", required=False, max_length=35),
            ),
        ),
        MessageType(ev.Churned, (_text("reason", 500),)),
        MessageType(ev.Renewed),
        MessageType(
            ev.CsmAssessment,
            (
                FieldSpec("rating", "integer", minimum=1, maximum=5),
                FieldSpec("author", "string", max_length=NAME_MAX),
                _text("note"),
            ),
        ),
    )
}
TYPES_BY_TOPIC_KIND: dict[str, tuple[str, ...]] = {
    kind: tuple(m.name for m in MESSAGE_TYPES.values() if m.event_class.KIND == kind)
    for kind in INPUT_TOPICS
}


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    out: dict[str, Any]
    if spec.kind == "string":
        out = {"type": "string", "minLength": spec.min_length, "maxLength": spec.max_length}
    elif spec.kind == "enum":
        out = {"enum": list(spec.choices)}
    elif spec.kind == "timestamp":
        out = {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}
    elif spec.kind == "date":
        out = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    else:
        out = {"type": spec.kind}
        if spec.minimum is not None:
            out["minimum"] = spec.minimum
        if spec.maximum is not None:
            out["maximum"] = spec.maximum
    if not spec.required and "type" in out:
        out["type"] = [out["type"], "null"]  # an optional field may be absent or null
    out["description"] = spec.rule()
    return out


TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def input_schema(message_type: MessageType) -> dict[str, Any]:
    """Build the JSON Schema (draft 2020-12) of one input message type."""
    specs = COMMON_FIELDS + message_type.fields
    properties: dict[str, Any] = {"type": {"const": message_type.name}}
    properties.update({s.name: _field_schema(s) for s in specs})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"healthscore/{message_type.topic}/{message_type.name}.json",
        "title": f"{message_type.name} on {message_type.topic}",
        "description": (message_type.event_class.__doc__ or "").strip(),
        "type": "object",
        "required": ["event_id", "customer_id", "type", "occurred_at"]
        + [s.name for s in message_type.fields if s.required],
        "properties": properties,
        "additionalProperties": True,
    }


def schema_files() -> dict[str, dict[str, Any]]:
    """Map each input schema's file name under `config/schemas/` to its content."""
    return {f"{m.topic}.{m.name}.json": input_schema(m) for m in MESSAGE_TYPES.values()}


def render(schema: dict[str, Any]) -> str:
    """Serialise a schema the way it is committed: sorted keys, two-space indent."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    """Write every input schema into `directory`; return the paths written."""
    written = []
    for name, schema in schema_files().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance entry point
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("config/schemas")
    for p in write_schemas(target):
        print(p)
