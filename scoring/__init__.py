"""The pure domain core of the health score engine: events, signals, scores, alerts.

Nothing in this package reads a clock, a socket or a file: time is always an argument, so the
stream, backtests and tests run the very same code.
"""
