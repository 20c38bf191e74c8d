"""The stored form of a customer record: the one place that knows its layout.

`<version>|<payload>`, the version being the compare-and-set counter. The payload is one
format byte (3), then one flat MessagePack array of fixed positions (`_LAYOUT`): numbers, short
codes for bands, binary strings for the remembered event ids, and nested arrays only for what
varies in number (attributes, features, tickets, rules). No names, no compression: an ordinary
customer takes a few hundred bytes, written in one pass and read in one, and compiled with the
core (setup.py). Whole-second times are stored as integers (5 bytes instead of 9).

Records written in earlier formats are read (`stream.store.older`) and written back in this one.
The codec knows a record's parts (`stream.store.parts`), not the record that holds them: the
record (`stream.store.record`) uses the codec, never the other way round.
"""

from __future__ import annotations

from typing import Any, Final

import msgpack
import msgspec

from scoring.alerts import Alert, AlertState, RuleState
from scoring.decay import DecayedSum
from scoring.state import EMPTY_SUM, CustomerState, Stamped, Ticket, mrr_days_implied
from scoring.words import from_flat
from stream.store.older import decode_older
from stream.store.parts import Evaluation, Parts, Published

FORMAT: Final = 3
_FORMAT_BYTE: Final = b"\x03"

# the positions of the array, in order (documentation, and the count every record has)
_LAYOUT: Final = (
    "clock", "first_seen", "churned_at", "renewed_at", "last_active_at", "last_detractor_at",
    "act_ref", "act_short", "act_long", "act_quarter", "act_year", "active_days",
    "attributes", "features", "seats", "tickets", "sentiment", "last_nps",
    "seen", "forgotten", "closed",
    "alert_band", "alert_score", "alert_history", "alert_rules", "alert_open",
    "offsets", "partition", "published_score", "published_band",
    "evaluated_at", "evaluated_score", "evaluated_band", "evaluated_previous", "evaluated_revenue",
    "due", "due_exact", "due_from", "shadow", "trend_day", "trend",
    # came after format 3 was made: records written before end at "trend" (they read the
    # usage rates from first_seen, as they did)
    "mrr_days", "usage_since",
)  # fmt: skip
_BANDS: Final = ("healthy", "at_risk", "critical")
_BAND_CODES: Final = {"healthy": 0, "at_risk": 1, "critical": 2}
_PRIORITIES: Final = (None, "low", "normal", "high", "urgent")
_PRIORITY_CODES: Final = {None: 0, "low": 1, "normal": 2, "high": 3, "urgent": 4}
# the attributes' short names; the manager's assessment's (cr, ca) came after format 3 was
# made: records written before simply lack them, and any name without a code is stored whole
_ATTRIBUTE_CODES: Final = {
    "segment": "s", "owner": "o", "mrr": "m", "renewal_date": "r", "locale": "l",
    "csm_rating": "cr", "csm_author": "ca",
}  # fmt: skip
_ATTRIBUTE_NAMES: Final = {
    "s": "segment", "o": "owner", "m": "mrr", "r": "renewal_date", "l": "locale",
    "cr": "csm_rating", "ca": "csm_author",
}  # fmt: skip
_SENTIMENT: Final = (
    "promoters",
    "passives",
    "detractors",
    "csat_satisfied",
    "csat_total",
    "ces_easy",
    "ces_total",
)
# msgspec's encoder writes the same bytes as `msgpack.Packer(use_bin_type=True)` (smallest
# integers, 64-bit floats, bytes and bytearrays as bin) in about half the time; msgpack reads
_pack: Final = msgspec.msgpack.Encoder().encode


def _t(x: float | None) -> Any:
    """A time in its shortest exact form: a whole number of seconds as an integer."""
    if x is None or not -_EXACT < x < _EXACT:
        return x
    whole = int(x)
    return whole if float(whole) == x else x


_EXACT: Final = 2.0**53


def _f(x: Any) -> float | None:
    return None if x is None else float(x)


def _band(band: str | None) -> int | None:
    return None if band is None else _BAND_CODES[band]


def _band_back(code: Any) -> str | None:
    return None if code is None else _BANDS[code]


# --- writing ---------------------------------------------------------------------------------


def _attributes(s: CustomerState) -> list[Any] | None:
    """The attributes as stored, kept with the state until they change (they seldom do)."""
    if not s.attributes:
        return None
    kept = s.stored_attributes
    if kept is not None:
        return kept
    out: list[Any] = []
    for name, stamped in s.attributes.items():
        out.append(_ATTRIBUTE_CODES.get(name, name))
        out.append(stamped.value)
        out.append(_t(stamped.at))
    s.stored_attributes = out
    return out


def _mrr_days(s: CustomerState) -> list[Any] | None:
    """The MRR days as stored: None for the common case the latest MRR attribute already says
    (one day, that statement), which the state makes of it when read back."""
    days = s.mrr_days
    if mrr_days_implied(s):
        return None
    return [_t(x) if i % 2 == 0 else x for i, x in enumerate(days)]


def _usage_since(s: CustomerState) -> float | int | bool | None:
    """`usage_since` as stored: None when it is `first_seen` (the common case: the first event
    was a usage or account one), False when there is none yet."""
    since = s.usage_since
    if since == s.first_seen:
        return None
    return False if since is None else _t(since)


def _tickets(s: CustomerState) -> list[Any] | None:
    if not s.tickets:
        return None
    out: list[Any] = []
    for k, t in s.tickets.items():
        out.append(k)
        out.append(_PRIORITY_CODES[t.priority])
        out.append(_t(t.opened_at))
        out.append(_t(t.first_agent_reply_at))
        out.append(_t(t.first_resolved_at))
        out.append(_t(t.last_resolved_at))
        out.append(_t(t.last_reopened_at))
        out.append(t.reopens)
        out.append(t.escalations)
    return out


def _sentiment(s: CustomerState) -> list[Any] | None:
    sums = (
        s.promoters,
        s.passives,
        s.detractors,
        s.csat_satisfied,
        s.csat_total,
        s.ces_easy,
        s.ces_total,
    )
    if all(d.ref is None for d in sums):
        return None
    out: list[Any] = []
    for d in sums:
        out.append(d.value)
        out.append(_t(d.ref))
    return out


def _rules(a: AlertState) -> list[Any] | None:
    if not a.rules:
        return None
    out: list[Any] = []
    for name, r in a.rules.items():
        out.append(name)
        out.append(r.active)
        out.append(_t(r.since))
        out.append(_t(r.last_raised_at))
    return out


def _episode(o: Alert | None) -> list[Any] | None:
    if o is None:
        return None
    return [o.alert_id, list(o.rules), o.severity, o.score, o.previous_score, o.band,
            [m.flat() for m in o.reasons], o.owner, o.segment, _t(o.raised_at), o.revenue_at_risk,
            o.revenue_at_risk_calibrated]  # fmt: skip


def _memory(a: AlertState) -> list[Any]:
    return [_band(a.band), a.score, [_t(x) for x in a.history], _rules(a), _episode(a.open)]


def encode_record(parts: Parts) -> bytes:
    """The payload of a record's parts (the caller puts the version in front)."""
    (s, a, offsets, partition, p, e, due, due_exact, due_from, sm, sp, trend_day, trend) = parts
    mask = s.active_days
    shadow: list[Any] | None = None
    if sm.band is not None:
        shadow = [_memory(sm), None if sp is None else [sp.score, sp.band]]
    fields = [
        _t(s.clock),
        _t(s.first_seen),
        _t(s.churned_at),
        _t(s.renewed_at),
        _t(s.last_active_at),
        _t(s.last_detractor_at),
        _t(s.act_ref),
        s.act_short,
        s.act_long,
        s.act_quarter,
        s.act_year,
        mask.to_bytes((mask.bit_length() + 7) // 8, "big") if mask else None,
        _attributes(s),
        {k: _t(t) for k, t in s.features.items()} if s.features else None,
        None if s.seats is None else [*s.seats.value, _t(s.seats.at)],
        _tickets(s),
        _sentiment(s),
        None if s.last_nps is None else [s.last_nps.value, _t(s.last_nps.at)],
        s.seen,
        s.forgotten,
        s.closed or None,
        _band(a.band),
        a.score,
        [_t(x) for x in a.history] if a.history else None,
        _rules(a),
        _episode(a.open),
        offsets,
        partition,
        None if p is None else p.score,
        None if p is None else _band(p.band),
        None if e is None else _t(e.at),
        None if e is None else e.score,
        None if e is None else _band(e.band),
        None if e is None else e.previous,
        None if e is None else e.revenue,
        _t(due),
        due_exact,
        _t(due_from),
        shadow,
        trend_day,
        trend or None,
        _mrr_days(s),
        _usage_since(s),
    ]
    payload: bytes = _pack(fields)
    return _FORMAT_BYTE + payload


# --- reading ---------------------------------------------------------------------------------


def _attributes_back(raw: list[Any] | None) -> dict[str, Stamped] | None:
    if not raw:
        return None
    out: dict[str, Stamped] = {}
    for i in range(0, len(raw), 3):
        name = _ATTRIBUTE_NAMES.get(raw[i], raw[i])
        out[name] = Stamped(raw[i + 1], float(raw[i + 2]))
    return out


def _usage_since_back(v: list[Any]) -> float | None:
    """`usage_since` from its stored form (`_usage_since`); records written before it had it
    read the usage rates from `first_seen`."""
    raw = v[42] if len(v) > 42 else None
    if raw is None:
        return _f(v[1])
    return None if raw is False else float(raw)


def _tickets_back(raw: list[Any] | None) -> dict[str, Ticket] | None:
    if not raw:
        return None
    out: dict[str, Ticket] = {}
    for i in range(0, len(raw), 9):
        out[raw[i]] = Ticket(
            _PRIORITIES[raw[i + 1]],
            _f(raw[i + 2]),
            _f(raw[i + 3]),
            _f(raw[i + 4]),
            _f(raw[i + 5]),
            _f(raw[i + 6]),
            raw[i + 7],
            raw[i + 8],
        )
    return out


def _rules_back(raw: list[Any] | None) -> dict[str, RuleState] | None:
    if not raw:
        return None
    out: dict[str, RuleState] = {}
    for i in range(0, len(raw), 4):
        out[raw[i]] = RuleState(bool(raw[i + 1]), _f(raw[i + 2]), _f(raw[i + 3]))
    return out


def _episode_back(raw: list[Any] | None, customer_id: str) -> Alert | None:
    if not raw:
        return None
    alert_id, names, severity, score, previous, band, said, owner, segment, at, rar, cal = raw
    reasons = tuple([from_flat(m) for m in said])
    return Alert(alert_id, customer_id, names[0], severity, float(score), _f(previous), band,
                 reasons, owner, segment, float(at), tuple(names), _f(rar),
                 bool(cal))  # fmt: skip


def _memory_back(
    band: Any, score: Any, history: Any, rules: Any, episode: Any, customer_id: str
) -> AlertState:
    return AlertState(
        _band_back(band),
        _f(score),
        [float(x) for x in history] if history else None,
        _rules_back(rules),
        _episode_back(episode, customer_id),
    )


def _state_back(customer_id: str, v: list[Any]) -> CustomerState:
    sentiment: list[DecayedSum] = []
    raw_sums = v[16]
    for i in range(7):
        if raw_sums is None or raw_sums[2 * i + 1] is None:
            sentiment.append(EMPTY_SUM)  # shared: a sum is replaced, never changed
        else:
            sentiment.append(DecayedSum(float(raw_sums[2 * i]), float(raw_sums[2 * i + 1])))
    features = v[13]
    seats = v[14]
    nps = v[17]
    return CustomerState(
        customer_id,
        _f(v[0]),
        _f(v[1]),
        _attributes_back(v[12]),
        _f(v[2]),
        _f(v[3]),
        _f(v[4]),
        _f(v[6]),
        float(v[7]),
        float(v[8]),
        float(v[9]),
        float(v[10]),
        int.from_bytes(v[11], "big") if v[11] else 0,
        {k: float(t) for k, t in features.items()} if features else None,
        None if seats is None else Stamped((seats[0], seats[1]), float(seats[2])),
        _tickets_back(v[15]),
        sentiment[0],
        sentiment[1],
        sentiment[2],
        sentiment[3],
        sentiment[4],
        sentiment[5],
        sentiment[6],
        None if nps is None else Stamped(nps[0], float(nps[1])),
        _f(v[5]),
        None if len(v) <= 41 or v[41] is None else [float(x) for x in v[41]],
        _usage_since_back(v),
        v[18],
        int(v[19]),
        v[20] or b"",
    )


def decode_payload(customer_id: str, raw: bytes) -> Parts:
    """A record's parts from its payload (the stored form after `<version>|`), in any format."""
    if raw[:1] != _FORMAT_BYTE:
        return decode_older(customer_id, raw)
    v: list[Any] = msgpack.unpackb(raw[1:], raw=False, strict_map_key=False)
    published = None if v[28] is None else Published(float(v[28]), _BANDS[v[29]])
    evaluated = None
    if v[30] is not None:
        evaluated = Evaluation(float(v[30]), float(v[31]), _BANDS[v[32]], _f(v[33]), _f(v[34]))
    shadow_memory = AlertState()
    shadow_published = None
    shadow = v[38]
    if shadow:
        m = shadow[0]
        shadow_memory = _memory_back(m[0], m[1], m[2], m[3], m[4], customer_id)
        sp = shadow[1]
        shadow_published = None if sp is None else Published(float(sp[0]), sp[1])
    trend_day = None if v[39] is None else int(v[39])
    trend = b"" if v[39] is None else bytes(v[40] or b"")
    return (
        _state_back(customer_id, v),
        _memory_back(v[21], v[22], v[23], v[24], v[25], customer_id),
        v[26],
        v[27],
        published,
        evaluated,
        _f(v[35]),
        bool(v[36]),
        _f(v[37]),
        shadow_memory,
        shadow_published,
        trend_day,
        trend,
    )
