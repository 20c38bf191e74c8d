"""Coverage-guided fuzzing of the decoder with atheris (libFuzzer), run by
`tests/unit/test_decode_fuzz.py` for a bounded number of inputs; by hand, longer:

    python -m tests.unit.atheris_decode -max_total_time=600 <corpus-dir>

An input is a topic selector byte, a key selector byte, a mode byte, then either the message
value itself (raw bytes) or instructions that change a valid message of some type field by
field (so most inputs reach the field checks instead of failing as JSON). Anything the decoder
raises other than a `DecodeError` that names its field and rule is a crash."""

from __future__ import annotations

import json
import sys
from typing import Any

import atheris

if __name__ == "__main__":
    # The decoder is instrumented for libFuzzer's coverage only when this runs as the fuzzer. An
    # import (pytest's doctest collection imports every module of tests/) must not instrument it:
    # atheris rewrites every module first imported in this block, the decoder's own imports
    # (datetime, decimal, the pure-Python core, ...) too, and the whole test process after it
    # ran 3-5 times slower.
    with atheris.instrument_imports():
        import stream.codec  # noqa: F401 (imported here to be instrumented)

from stream.codec import DecodeError, decode_event
from stream.contract import INPUT_TOPICS
from tests.unit.test_codec import BASE, VALID

TOPICS = [None, *INPUT_TOPICS.values(), "some-other-topic"]
KINDS = sorted(VALID)
FIELDS = sorted({*BASE, "type", *(name for doc in VALID.values() for name in doc)})


def value(fdp: atheris.FuzzedDataProvider) -> Any:
    """A JSON value of any kind, timestamps and numbers at their edges included."""
    pick = fdp.ConsumeIntInRange(0, 7)
    if pick == 0:
        return None
    if pick == 1:
        return fdp.ConsumeBool()
    if pick == 2:
        return fdp.ConsumeInt(9)
    if pick == 3:
        return fdp.ConsumeRegularFloat()
    if pick == 4:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 40))
    if pick == 5:
        y, mo, d, h, mi, s = (fdp.ConsumeIntInRange(0, 99) for _ in range(6))
        zone = fdp.PickValueInList(["Z", "+00:00", "-05:30", ".123Z", "", "+24:00"])
        return f"20{y:02d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{zone}"
    if pick == 6:
        return [value(fdp) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    return {fdp.PickValueInList(FIELDS): value(fdp) for _ in range(fdp.ConsumeIntInRange(0, 3))}


def document(fdp: atheris.FuzzedDataProvider) -> bytes:
    """A valid message of some type with fields replaced, added or dropped."""
    kind = fdp.PickValueInList(KINDS)
    doc: dict[str, Any] = {**BASE, "type": kind, **VALID[kind]}
    for _ in range(fdp.ConsumeIntInRange(0, 4)):
        name = fdp.PickValueInList(FIELDS)
        if fdp.ConsumeBool():
            doc.pop(name, None)
        else:
            doc[name] = value(fdp)
    return json.dumps(doc).encode()


def check(data: bytes) -> None:
    if len(data) < 3:
        return
    topic = TOPICS[data[0] % len(TOPICS)]
    raw = data[3:] if data[2] % 2 else document(atheris.FuzzedDataProvider(data[3:]))
    key = (None, b"acme", raw[:8])[data[1] % 3]
    try:
        decode_event(raw, topic=topic, key=key, max_bytes=4096)
    except DecodeError as exc:
        if not (exc.field and exc.rule):
            raise AssertionError(f"a rejection without field or rule: {exc!r}") from None
        if not str(exc).startswith(f"{exc.field}: must be {exc.rule}, got "):
            raise AssertionError(f"a rejection in another form: {exc}") from None


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
