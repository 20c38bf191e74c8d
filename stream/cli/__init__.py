"""The `healthscore` command line, a module per group of commands: `run` (worker, score),
`dev` (simulate, demo), `offline` (backtest, calibrate, dataset) and `stack` (the local stack).
`common` holds the app and what every command shares, `options` the options several take.

The CLI sits above everything else and may import any part of the project; nothing imports
it. A command imports what it runs when it runs, so `healthscore --help` stays quick and the
worker loads none of the offline tools.
"""

from __future__ import annotations

from stream.cli.common import app

# importing a group registers its commands, in the order `healthscore --help` lists them
# isort: off
from stream.cli import run, dev, offline, stack
# isort: on

__all__ = ["app", "dev", "main", "offline", "run", "stack"]


def main() -> None:
    """Entry point of the `healthscore` command."""
    app()
