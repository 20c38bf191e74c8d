"""Records written before format 3 (`stream.store.codec`), read so that nothing stored is lost:
format 2 (a nested MessagePack array), and 0.1's JSON, zlib-compressed or plain. They are
written back in the current format. `encode_v2` writes format 2, for tests of the upgrade.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import msgpack
import orjson

from scoring.alerts import Alert, AlertState, RuleState
from scoring.decay import DecayedSum
from scoring.state import ENTRY, NO_YEAR, CustomerState, Stamped, Ticket
from scoring.words import from_flat
from stream.store.parts import Evaluation, Parts, Published

FORMAT = 2
_FORMAT_BYTE = bytes([FORMAT])

# the positional layout of a state: times, then decayed sums, then the rest
_TIMES = ("clock", "first_seen", "churned_at", "renewed_at", "last_active_at", "last_detractor_at")
_SUMS = (
    "activity_short",
    "activity_long",
    "activity_quarter",
    "activity_year",
    "promoters",
    "passives",
    "detractors",
    "csat_satisfied",
    "csat_total",
    "ces_easy",
    "ces_total",
)
_TICKET_FIELDS = (
    "priority",
    "opened_at",
    "first_agent_reply_at",
    "first_resolved_at",
    "last_resolved_at",
    "last_reopened_at",
    "reopens",
    "escalations",
)
_TICKET_TIMES = _TICKET_FIELDS[1:6]
_ATTRIBUTES = {"segment": "s", "owner": "o", "mrr": "m", "renewal_date": "r"}
_ATTRIBUTE_NAMES = {v: k for k, v in _ATTRIBUTES.items()}
_pack = msgpack.Packer(use_bin_type=True, autoreset=True).pack


def _stamped(s: Stamped | None) -> list[Any] | None:
    if s is None:
        return None
    value = list(s.value) if isinstance(s.value, tuple) else s.value
    return [value, _n(s.at)]


def _unstamped(raw: list[Any] | None, as_tuple: bool = False) -> Stamped | None:
    if raw is None:
        return None
    return Stamped(tuple(raw[0]) if as_tuple else raw[0], float(raw[1]))


def _n(x: float | None) -> float | int | None:
    """A number in its shortest exact form: whole values (most event times) as integers, which
    MessagePack stores in 5 bytes instead of 9; read back as floats (`_f`)."""
    if x is not None and x.is_integer() and -(2**63) <= x < 2**63:
        return int(x)
    return x


def _f(x: float | None) -> float | None:
    return None if x is None else float(x)


def _sums(s: CustomerState) -> list[Any]:
    """The decayed sums: the four activity sums, kept at one reference time, stored once with
    it; the others as [value, ref] or None."""
    out: list[Any] = []
    ref = s.act_ref
    out.append(
        None if ref is None else [_n(ref), s.act_short, s.act_long, s.act_quarter, s.act_year]
    )
    for name in _SUMS[4:]:
        d: DecayedSum = getattr(s, name)
        out.append(None if d.ref is None else [d.value, _n(d.ref)])
    return out


def _sums_back(raw: list[Any], kwargs: dict[str, Any]) -> None:
    shared, *rest = raw
    # eleven pairs when the four activity sums were stored apart (records before they shared
    # one time, and those without activity), seven otherwise
    names: tuple[str, ...] = _SUMS if len(rest) == len(_SUMS) else _SUMS[4:]
    if shared is not None:
        kwargs["act_ref"] = float(shared[0])
        kwargs["act_short"], kwargs["act_long"], kwargs["act_quarter"], kwargs["act_year"] = (
            float(v) for v in shared[1:]
        )
    for name, pair in zip(names, rest, strict=True):
        if pair is None:
            continue
        if name in _SUMS[:4]:
            # stored apart by records before the four shared their time: they were always
            # added together, so their times are one
            kwargs["act_ref"] = float(pair[1])
            kwargs["act_" + name.removeprefix("activity_")] = float(pair[0])
        else:
            kwargs[name] = DecayedSum(float(pair[0]), float(pair[1]))
    _year_unrecorded(kwargs)


def _year_unrecorded(kwargs: dict[str, Any]) -> None:
    """Activity stored without a year sum (records before it existed): the year is unknown."""
    if "act_ref" in kwargs and "act_year" not in kwargs:
        kwargs["act_year"] = NO_YEAR


def _state(s: CustomerState) -> list[Any]:
    return [
        [_n(getattr(s, name)) for name in _TIMES],
        _sums(s),
        {_ATTRIBUTES.get(k, k): _stamped(v) for k, v in s.attributes.items()} or None,
        {k: _n(t) for k, t in s.features.items()} or None,
        _stamped(s.seats),
        _stamped(s.last_nps),
        {
            k: [t.priority, *(_n(getattr(t, f)) for f in _TICKET_TIMES), t.reopens, t.escalations]
            for k, t in s.tickets.items()
        }
        or None,
        s.seen,
        s.closed,
        s.active_days.to_bytes((s.active_days.bit_length() + 7) // 8, "big") or None,
        s.forgotten,
    ]


OLD_MAX_IDS = 512  # `dedupe_max_ids` before records kept what it forgot


def _forgotten_unrecorded(seen: bytes) -> int:
    """What a record written before `forgotten` was kept (issue 23) may have forgotten: up to
    its oldest remembered id when it holds as many as the bound then allowed (the bound may have
    cut there), nothing otherwise (the window's cut is told from the clock)."""
    if len(seen) >= OLD_MAX_IDS * ENTRY:
        return int.from_bytes(seen[:4], "big")
    return -1


def _state_back(customer_id: str, raw: list[Any]) -> CustomerState:
    times, sums, attributes, features, seats, last_nps, tickets, seen, closed = raw[:9]
    # records before 0.4 have no active days: the rhythm is learnt again from new activity
    active_days = raw[9] if len(raw) > 9 else None
    forgotten = raw[10] if len(raw) > 10 else _forgotten_unrecorded(seen)
    kwargs: dict[str, Any] = {n: _f(t) for n, t in zip(_TIMES, times, strict=True)}
    _sums_back(sums, kwargs)
    if attributes:
        kwargs["attributes"] = {
            _ATTRIBUTE_NAMES.get(k, k): _unstamped(v) for k, v in attributes.items()
        }
    if features:
        kwargs["features"] = {k: float(t) for k, t in features.items()}
    if tickets:
        kwargs["tickets"] = {
            k: Ticket(v[0], _f(v[1]), _f(v[2]), _f(v[3]), _f(v[4]), _f(v[5]), v[6], v[7])
            for k, v in tickets.items()
        }
    return CustomerState(
        customer_id,
        seats=_unstamped(seats, as_tuple=True),
        last_nps=_unstamped(last_nps),
        seen=seen,
        closed=closed,
        active_days=int.from_bytes(active_days, "big") if active_days else 0,
        forgotten=forgotten,
        usage_since=kwargs.get("first_seen"),  # what the usage rates were read from then
        **kwargs,
    )


def _alerts(a: AlertState) -> list[Any] | None:
    if a.band is None and not a.rules:
        return None
    history = [_n(x) for x in a.history]
    rules = {k: [r.active, _n(r.since), _n(r.last_raised_at)] for k, r in a.rules.items()}
    if a.open is None:
        return [a.band, a.score, history, rules]
    o = a.open
    episode = [o.alert_id, list(o.rules), o.severity, _n(o.score), _n(o.previous_score), o.band,
               [m.flat() for m in o.reasons], o.owner, o.segment, _n(o.raised_at)]  # fmt: skip
    if o.revenue_at_risk is not None:
        episode += [o.revenue_at_risk, o.revenue_at_risk_calibrated]
    return [a.band, a.score, history, rules, episode]


def _alert_state(
    band: str | None,
    score: float | None,
    history: Iterable[Sequence[Any]],
    rules: dict[str, Any],
    episode: list[Any] | None = None,
    customer_id: str = "",
) -> AlertState:
    """The alert memory; `episode`, the open alert (records before 0.3 have none; its revenue
    at risk, two more elements, only when known)."""
    open_alert = None
    if episode:
        alert_id, names, severity, sc, prev, eband, said, owner, segment, at, *money = episode
        reasons = tuple(from_flat(m) for m in said)
        rar, calibrated = money if money else (None, False)
        open_alert = Alert(alert_id, customer_id, names[0], severity, float(sc), _f(prev), eband,
                           reasons, owner, segment, float(at), tuple(names),
                           _f(rar), bool(calibrated))  # fmt: skip
    return AlertState(
        band=band,
        score=score,
        history=[float(x) for pair in history for x in pair],
        rules={k: RuleState(v[0], _f(v[1]), _f(v[2])) for k, v in rules.items()},
        open=open_alert,
    )


def _alerts_back(raw: list[Any] | None, customer_id: str) -> AlertState:
    if not raw:
        return AlertState()
    band, score, flat, rules, *episode = raw
    pairs = zip(flat[::2], flat[1::2], strict=True)
    return _alert_state(band, score, pairs, rules, episode[0] if episode else None, customer_id)


def _published(p: Published | None) -> list[Any] | None:
    return None if p is None else [p.score, p.band]


def _evaluation(e: Evaluation) -> list[Any]:
    """The latest evaluation; its revenue at risk only when known (records stay as small)."""
    out = [_n(e.at), e.score, e.band, e.previous]
    return out if e.revenue is None else [*out, e.revenue]


class _Stored(Protocol):
    def parts(self) -> Parts: ...


def encode_v2(record: _Stored) -> bytes:
    """A record in format 2, as 0.4 wrote it (the caller puts the version in front)."""
    parts = record.parts()
    state, alerts, offsets, partition, published, evaluated, due, exact, due_from = parts[:9]
    shadow_memory, shadow_published, trend_day, trend = parts[9:]
    shadow = None
    if shadow_memory.band is not None:
        shadow = [_alerts(shadow_memory), _published(shadow_published)]
    payload: bytes = _pack(
        [
            _state(state),
            _alerts(alerts),
            offsets,
            partition,
            _published(published),
            None if evaluated is None else _evaluation(evaluated),
            _n(due),
            exact,
            _n(due_from),
            shadow,
            [trend_day, trend] if trend_day is not None else None,
        ]
    )
    return _FORMAT_BYTE + payload


def decode_older(customer_id: str, raw: bytes) -> Parts:
    """A record's parts from its payload in format 2 or 0.1's JSON (without the version)."""
    if raw[:1] != _FORMAT_BYTE:
        return _legacy(customer_id, raw)
    fields = msgpack.unpackb(raw[1:], raw=False, strict_map_key=False)
    (state, alerts, offsets, partition, published, evaluated, due, exact, due_from, shadow) = (
        fields[:10]
    )
    trend = fields[10] if len(fields) > 10 else None  # records before 0.3 have none
    shadow_memory, shadow_published = _shadow(shadow, customer_id, _alerts_back)
    return (
        _state_back(customer_id, state),
        _alerts_back(alerts, customer_id),
        offsets,
        partition,
        Published(*published) if published else None,
        Evaluation(float(evaluated[0]), *evaluated[1:]) if evaluated else None,
        _f(due),
        exact,
        _f(due_from),
        shadow_memory,
        shadow_published,
        int(trend[0]) if trend else None,
        bytes(trend[1]) if trend else b"",
    )


def _shadow(
    raw: list[Any] | None, customer_id: str, alerts_back: Callable[[Any, str], AlertState]
) -> tuple[AlertState, Published | None]:
    """The shadow policy's alert memory and last published score."""
    if not raw:
        return AlertState(), None
    return alerts_back(raw[0], customer_id), Published(*raw[1]) if raw[1] else None


# --- records written by 0.1: JSON with short keys, zlib-compressed or plain -------------------

_LEGACY_SUMS = dict(
    zip(_SUMS, ("as", "al", "aq", "ay", "np", "na", "nd", "cs", "ct", "ee", "et"), strict=True)
)
_LEGACY_TIMES = dict(zip(_TIMES, ("c", "f", "ch", "rn", "la", "ld"), strict=True))


def _legacy_state(customer_id: str, d: dict[str, Any]) -> CustomerState:
    kwargs: dict[str, Any] = {n: d[k] for n, k in _LEGACY_TIMES.items() if k in d}
    for name, key in _LEGACY_SUMS.items():
        if key not in d:
            continue
        if name in _SUMS[:4]:  # the four activity sums share one time (they did then too)
            kwargs["act_ref"] = float(d[key][1])
            kwargs["act_" + name.removeprefix("activity_")] = float(d[key][0])
        else:
            kwargs[name] = DecayedSum(d[key][0], d[key][1])
    _year_unrecorded(kwargs)
    if "at" in d:
        kwargs["attributes"] = {
            _ATTRIBUTE_NAMES.get(k, k): _unstamped(v) for k, v in d["at"].items()
        }
    if "ft" in d:
        kwargs["features"] = d["ft"]
    if "st" in d:
        kwargs["seats"] = _unstamped(d["st"], as_tuple=True)
    if "ln" in d:
        kwargs["last_nps"] = _unstamped(d["ln"])
    if "tk" in d:
        kwargs["tickets"] = {k: Ticket(*v) for k, v in d["tk"].items()}
    if isinstance(d.get("sn"), str):
        kwargs["seen"] = base64.b64decode(d["sn"])
    if "cl" in d:
        kwargs["closed"] = base64.b64decode(d["cl"])
    kwargs["forgotten"] = _forgotten_unrecorded(kwargs.get("seen", b""))
    kwargs["usage_since"] = kwargs.get("first_seen")  # what the usage rates were read from then
    return CustomerState(customer_id, **kwargs)


def _legacy_alerts(d: list[Any] | None) -> AlertState:
    if not d:
        return AlertState()
    band, score, history, rules = d
    return _alert_state(band, score, history, rules)


def _legacy(customer_id: str, raw: bytes) -> Parts:
    d = orjson.loads(raw if raw[:1] == b"{" else zlib.decompress(raw))
    published, evaluated = d.get("p"), d.get("e")
    shadow_memory, shadow_published = _shadow(
        d.get("sh"), customer_id, lambda a, _: _legacy_alerts(a)
    )
    return (
        _legacy_state(customer_id, d["s"]),
        _legacy_alerts(d.get("a")),
        d.get("o") or {},
        d.get("pt"),
        Published(*published) if published else None,
        Evaluation(*evaluated) if evaluated else None,
        d.get("d"),
        d.get("dx", 1) != 0,
        d.get("df"),
        shadow_memory,
        shadow_published,
        None,
        b"",
    )
