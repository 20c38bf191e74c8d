"""The web: the managers' pages (`pages`), served by the worker's HTTP server beside the JSON
API (`stream.app` wires the routes).

Reads customer records and the cross-customer views through `stream.store`; never imports the
worker's path (`stream.worker`), the offline tools (`stream.offline`) or the developer tools
(`stream.dev`): import-linter contracts in pyproject.toml, checked by `make test`.
"""
