"""The published JSON Schemas and the decoder describe the same contract."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from stream.codec import DecodeError, decode_event
from stream.contract import MESSAGE_TYPES, render, schema_files
from stream.resources import resource

from .test_codec import BASE, VALID


def test_committed_input_schemas_equal_the_generated_ones() -> None:
    for name, schema in schema_files().items():
        committed = resource(f"schemas/{name}").read_text(encoding="utf-8")
        assert render(schema) == committed, f"config/schemas/{name} is stale: run `make schemas`"


def test_every_message_type_has_a_schema() -> None:
    names = {f"{m.topic}.{m.name}.json" for m in MESSAGE_TYPES.values()}
    assert names == set(schema_files())


@pytest.mark.parametrize("name", ["health-scores.json", "churn-alerts.json", "health-dlq.json"])
def test_output_schemas_are_valid_json_schemas(name: str) -> None:
    Draft202012Validator.check_schema(json.loads(resource(f"schemas/{name}").read_text()))


def _validator(type_name: str) -> Draft202012Validator:
    schema = schema_files()[f"{MESSAGE_TYPES[type_name].topic}.{type_name}.json"]
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _decodes(doc: dict[str, Any]) -> bool:
    try:
        decode_event(orjson.dumps(doc))
    except DecodeError:
        return False
    return True


field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=12),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-2, max_value=12),
    st.text(max_size=3),
    st.sampled_from(["urgent", "agent", "2026-01-01", "2026-01-01T00:00:00Z", "x" * 129]),
)


@settings(max_examples=400, deadline=None)
@given(
    type_name=st.sampled_from(sorted(VALID)),
    mutated=st.dictionaries(
        st.sampled_from(
            [
                "event_id",
                "customer_id",
                "occurred_at",
                "score",
                "count",
                "priority",
                "by",
                "mrr",
                "renewal_date",
                "ticket_id",
                "user_id",
                "comment",
            ]
        ),
        field_values,
        max_size=2,
    ),
    dropped=st.sets(st.sampled_from(["event_id", "score", "ticket_id", "occurred_at"]), max_size=1),
)
def test_schema_and_decoder_agree_on_every_message(
    type_name: str, mutated: dict[str, Any], dropped: set[str]
) -> None:
    doc = {**BASE, "type": type_name, **VALID[type_name], **mutated}
    for name in dropped:
        doc.pop(name, None)
    assert _validator(type_name).is_valid(doc) == _decodes(doc)
