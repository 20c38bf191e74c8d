"""The wire forms: timestamps as RFC 3339, exactly as the standard library formats them."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from scoring.serialize import rfc3339


def _standard(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@given(
    st.one_of(
        st.floats(-2e9, 4e9, allow_nan=False),
        st.floats(-6.2e10, 2.5e11, allow_nan=False),  # years 5 to 9892: four digits
        st.integers(0, 4 * 10**12).map(lambda ms: ms / 1000),
        st.integers(0, 4 * 10**15).map(lambda us: us / 10**6),
        st.integers(0, 4 * 10**9).map(lambda s: s + 0.9999995),
    )
)
def test_rfc3339_is_what_datetime_writes(ts: float) -> None:
    assert _standard(ts) == rfc3339(ts)


def test_rfc3339_of_the_first_day_of_2026() -> None:
    assert "2026-01-01T00:00:00.000Z" == rfc3339(1_767_225_600.0)
