"""The worker's path: what runs for every batch of events, from the input topics to Redis and
out to the output topics.

`batching` drains the input topics into batches and `alignment` merges them in event-time
order; `engine` decodes a batch (`stream.codec`), loads the records it touches
(`stream.store`), folds the events into them (`fold`, compiled with the core), saves them and
publishes what they produced; `loops` runs it (ingest, a task per partition number, and the
stream-time timer); `alertmanager` forwards alerts to Alertmanager; `probes` serves
`/metrics`, `/healthz` and `/readyz`. `stream.app` wires these into the Faust app.

May import `scoring` and the shared modules at the top of `stream` (contract, codec, messages,
settings, metrics, topics) and `stream.store`; never the web (`stream.web`), the offline tools
(`stream.offline`) or the developer tools (`stream.dev`): import-linter contracts in
pyproject.toml, checked by `make test`.
"""
