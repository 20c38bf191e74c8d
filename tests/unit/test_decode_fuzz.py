"""Fuzzing the decoder: no input makes it raise anything but a `DecodeError`, and every rejection
names its field and the rule it broke. The worker dead-letters a `DecodeError` and goes on; any
other exception would stop its batch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import events as ev
from stream.codec import (
    DATE_PATTERN,
    TIMESTAMP_PATTERN,
    DecodeError,
    checked_event,
    decode_event,
)
from stream.contract import INPUT_TOPICS

from .test_codec import BASE, VALID

FIELDS = sorted({*BASE, "type", *(name for doc in VALID.values() for name in doc)})
TOPICS = [None, *INPUT_TOPICS.values(), "some-other-topic"]
ROOT = Path(__file__).resolve().parents[2]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.from_regex(TIMESTAMP_PATTERN, fullmatch=True)
    | st.from_regex(DATE_PATTERN, fullmatch=True),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def outcome(raw: bytes, topic: str | None, key: bytes | None) -> ev.Event | DecodeError:
    """Decode, and check a rejection names its field and rule, and that the fast path and the
    checking one agree: the same event, or the same error."""
    result: ev.Event | DecodeError
    try:
        result = decode_event(raw, topic=topic, key=key, max_bytes=4096)
    except DecodeError as exc:  # anything else fails the test
        result = exc
    if len(raw) <= 4096:
        checked: ev.Event | DecodeError
        try:
            checked = checked_event(raw, topic=topic, key=key)
        except DecodeError as exc:
            checked = exc
        assert str(checked) == str(result)
        assert type(checked) is type(result)
        if isinstance(checked, ev.Event):
            assert checked == result
    if isinstance(result, DecodeError):
        assert result.field
        assert result.rule
        assert str(result).startswith(f"{result.field}: must be {result.rule}, got ")
    else:
        assert isinstance(result, ev.Event)
    return result


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.binary(max_size=600),
    topic=st.sampled_from(TOPICS),
    key=st.none() | st.binary(max_size=20),
)
def test_any_bytes(raw: bytes, topic: str | None, key: bytes | None) -> None:
    outcome(raw, topic, key)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(
    type_=st.sampled_from(sorted(VALID)),
    changes=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
    dropped=st.sets(st.sampled_from(FIELDS), max_size=3),
    topic=st.sampled_from(TOPICS),
    keyed=st.booleans(),
)
def test_valid_messages_with_fields_changed_or_dropped(
    type_: str,
    changes: dict[str, Any],
    dropped: set[str],
    topic: str | None,
    keyed: bool,
) -> None:
    doc = {**BASE, "type": type_, **VALID[type_], **changes}
    for name in dropped:
        doc.pop(name, None)
    key = str(doc.get("customer_id", "")).encode() if keyed else None
    result = outcome(json.dumps(doc).encode(), topic, key)  # (big integers too)
    if isinstance(result, ev.Event):
        assert result.TYPE == doc["type"]
        assert result.customer_id == doc["customer_id"]


@settings(max_examples=300)
@given(stamp=st.from_regex(TIMESTAMP_PATTERN, fullmatch=True))
def test_any_timestamp_the_pattern_lets_through(stamp: str) -> None:
    """Year 0001 or 9999 with any offset, leap seconds, month 13: a value or a named rejection."""
    result = outcome(message_at(stamp), None, None)
    if isinstance(result, DecodeError):
        assert result.field == "occurred_at"


def message_at(stamp: str) -> bytes:
    return json.dumps(
        {**BASE, "occurred_at": stamp, "type": "session", **VALID["session"]}
    ).encode()


def test_coverage_guided_fuzzing_with_atheris_finds_no_crash(tmp_path: Path) -> None:
    """libFuzzer mutates valid messages of every type, as bytes and field by field, for 300,000
    inputs (seconds); a crash is any exception but a well-formed rejection
    (`tests/unit/atheris_decode.py`)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, (kind, extra) in enumerate(VALID.items()):
        doc = {**BASE, "type": kind, **extra}
        (corpus / f"seed-{i}").write_bytes(bytes([i, i, 1]) + json.dumps(doc).encode())
    done = subprocess.run(
        [sys.executable, "-m", "tests.unit.atheris_decode", "-runs=300000", "-seed=2026",
         f"-artifact_prefix={tmp_path}/", str(corpus)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Done 300000 runs" in done.stderr, done.stderr[-3000:]


def test_importing_the_fuzz_target_instruments_nothing() -> None:
    """The fuzz target instruments the decoder for coverage only when run as the fuzzer. Imported
    (pytest's doctest collection imports it), it once rewrote the decoder and every module first
    imported with it, and the test process ran 3-5 times slower from then on."""
    probe = (
        "import inspect, tests.unit.atheris_decode, stream.codec, stream.contract\n"
        "print(sum('_trace_branch' in f.__code__.co_names for m in (stream.codec, stream.contract)"
        " for f in vars(m).values() if inspect.isfunction(f)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "0" == done.stdout.strip(), done.stdout + done.stderr
