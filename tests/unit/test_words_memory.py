"""What a worker keeps of the messages it has worded: the memo of each language holds up to
`MEMO_SIZE` of them for as long as the worker runs, so each must cost about its own size."""

from __future__ import annotations

import gc
import tracemalloc

from scoring.words import say
from stream.i18n import Words


def test_a_kept_wording_costs_about_its_own_size() -> None:
    words = Words("en")
    words(say("usage-recency-idle", days=1))  # the catalog and its plans, loaded once
    messages = [say("usage-recency-idle", days=d) for d in range(2, 1002)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for m in messages:
            words.pair(m)
        gc.collect()
        per_message = (tracemalloc.get_traced_memory()[0] - before) / len(messages)
    finally:
        tracemalloc.stop()
    assert all(m.params in words.pairs["usage-recency-idle"] for m in messages)
    # the words and the published form's JSON: about 525 bytes (900 while the form's dict was
    # kept too; an encoder's result kept as it came holds 4 KiB more: some 5 KiB each, 100 MiB
    # for a full memo)
    assert per_message < 768, f"{per_message:,.0f} bytes kept per message"
