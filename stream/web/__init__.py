"""The web: the customer API and the managers' pages, their routes (`routes`: handlers with the
store and the policy passed in) and their HTML (`pages`), served by the worker's HTTP server
(`stream.app` registers the routes).

Reads customer records and the cross-customer views through `stream.store`; never imports the
worker's path (`stream.worker`), the offline tools (`stream.offline`) or the developer tools
(`stream.dev`): import-linter contracts in pyproject.toml, checked by `make test`.
"""
