"""The pure domain core of the health score engine: events, signals, scores, alerts.

Nothing in this package reads a clock, a socket or a file: time is always an argument, so the
stream, backtests and tests run the very same code.

Its modules are compiled with mypyc (setup.py) and must stay compilable. The hot path is
written for the compiler: a customer's state, alert memory and standing are native classes
with typed attributes that the fold updates in place (`apply_into`, `evaluate_into`: the fold
owns the records it loaded, so a new object per event would buy nothing); evaluation is plain
arithmetic over their fields (`reading`); words are made only when a person reads them
(`drivers`). What is shared between states or published stays immutable: events, decayed
sums of answers, stamped attributes, alerts. `apply` and `evaluate` give the same results on
copies, for callers that keep what they had.
"""
