"""The wire forms: timestamps as RFC 3339, exactly as the standard library formats them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from scoring.serialize import read_time, rfc3339


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


@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    st.sampled_from(["T", "t", " "]),
    st.sampled_from([0, 1, 3, 6, 9]),
    st.sampled_from([0, 330, -480, 840, -59]),
    st.booleans(),
)
def test_read_time_reads_what_datetime_reads(
    when: datetime, separator: str, digits: int, offset: int, zulu: bool
) -> None:
    fraction = f"{when.microsecond:06d}789"[:digits]
    if zulu and offset == 0:
        zone = "Z"
    else:
        sign, minutes = ("-" if offset < 0 else "+"), abs(offset)
        zone = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    text = f"{when.year:04d}-{when.month:02d}-{when.day:02d}{separator}{when:%H:%M:%S}"
    text += ("." + fraction if digits else "") + zone
    cut = int(fraction[:6].ljust(6, "0")) if digits else 0
    zone_info = timezone(timedelta(minutes=offset))
    expected = when.replace(microsecond=cut, tzinfo=zone_info).timestamp()
    read = read_time(text)
    if 1700 <= when.year <= 2250:  # within 2**53 microseconds of 1970: the fast path reads it
        assert expected == read
    else:  # the exact time, or None for the decoder's checking path to read
        assert read in (None, expected)
