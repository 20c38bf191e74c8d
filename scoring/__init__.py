"""The pure domain core of the health score engine: events, signals, scores, alerts.

Nothing in this package reads a clock, a socket or a file: time is always an argument, so the
stream, backtests and tests run the very same code.

Its modules are compiled with mypyc (setup.py) and must stay compilable. The value classes
of the hot path (state, decayed sums, scores, alert memory, standings) are dataclasses with
slots but not frozen: mypyc builds a frozen dataclass's `__init__` from `object.__setattr__`
calls, four times slower, once per field and per object. They are treated as immutable all
the same: nothing assigns an attribute after construction (changes make a new object), and
`unsafe_hash` keeps them hashable as frozen ones were.
"""
