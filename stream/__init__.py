"""Everything around the scoring core, arranged by where it runs.

- `worker/`: the worker's path, run for every batch (consume, merge, decode, fold, save,
  publish; the timer, the Alertmanager forwarder, the probes);
- `web/`: the customer API and the managers' pages;
- `offline/`: backtest, calibrate and the data sets, run from the command line only;
- `cli/`: the `healthscore` command, a module per group;
- `dev/`: the developer tools (local stack, simulator, demo);
- `store/`: the customer records in Redis, shared by the worker and the web;
- at the top, what every part shares: the contract (`contract`), its decoder (`codec`),
  `settings`, `metrics`, `topics`, `messages`, `resources`, the HTTP token (`auth`), and
  `app`, which wires the worker's path and the web into one Faust app.

The shared modules and the store import none of the folders above them; the worker's path and
the web never import each other, the offline tools or the developer tools (import-linter
contracts in pyproject.toml, checked by `make test`).
"""
