"""Customer records and what is kept beside them, one module per concern.

- `keys`: every Redis key name, in one place;
- `record`: the record of one customer;
- `parts`: what is stored of a record, in order (the codec knows these, not the record);
- `codec`: the stored form of the parts (`older`: the forms written before it);
- `cache`: the records a worker keeps in memory between batches;
- `resp`: Redis commands packed for one round trip;
- `commands`: the Redis adapter (compare-and-set writes, due index, watermarks, retries);
- `views`: the cross-customer views (score board, segment counters) and their snapshot;
- `memory`: an in-memory twin of the adapter, for unit tests of the engine.

Shared by the worker and the web: imports `scoring` and the shared modules at the top of
`stream`, never the worker's path, the web or the tools (import-linter contracts).
"""

from stream.store.commands import (
    OPERATION_TIMEOUT,
    RETRYABLE,
    RecordStore,
    retry_forever,
)
from stream.store.keys import Keys, customer_record_key
from stream.store.record import Evaluation, Outcome, Published, Record, ViewsSeen
from stream.store.resp import Commands
from stream.store.views import as_text, board_score, board_value

__all__ = [
    "OPERATION_TIMEOUT",
    "RETRYABLE",
    "Commands",
    "Evaluation",
    "Keys",
    "Outcome",
    "Published",
    "Record",
    "RecordStore",
    "ViewsSeen",
    "as_text",
    "board_score",
    "board_value",
    "customer_record_key",
    "retry_forever",
]
