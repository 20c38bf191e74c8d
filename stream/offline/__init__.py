"""The offline tools: `healthscore backtest`, `calibrate`, their report and the public data
sets they read (`datasets`).

They replay history through the scoring core (`scoring.timeline`) on one machine, with no
Kafka and no Redis, and run only from the command line. They may import `scoring` and the
shared pieces at the top of `stream` (the contract, the codec); the worker and the web never
import them (an import-linter contract in pyproject.toml, checked by `make test`).
"""
