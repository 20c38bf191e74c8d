"""The options and arguments more than one command takes, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

StateDir = Annotated[Path | None, typer.Option(help="Where pids, logs and data live [.stack]")]
CacheDir = Annotated[Path | None, typer.Option(help="Where the Kafka jars are cached")]
History = Annotated[
    list[Path] | None,
    typer.Argument(help="Contract messages, one JSON object a line (.jsonl or .jsonl.gz)"),
]
Labels = Annotated[
    Path | None,
    typer.Option(
        help="CSV of outcomes: customer_id, churned (1/0), optional churned_at; "
        "without it, `churned` events are the outcomes"
    ),
]
Cutoffs = Annotated[
    list[str] | None,
    typer.Option(
        "--cutoff",
        help="Date (YYYY-MM-DD) or RFC 3339 time to score everyone at; "
        "repeat for more [one horizon before the history ends]",
    ),
]
Horizon = Annotated[float, typer.Option(min=1, help="Churn counted within this many days")]
PolicyFile = Annotated[Path | None, typer.Option(help="Policy YAML [the packaged default]")]
FromKafka = Annotated[
    bool, typer.Option("--kafka", help="Read the input topics from Kafka instead of files")
]
Since = Annotated[str | None, typer.Option(help="With --kafka: first event time to read")]
Until = Annotated[str | None, typer.Option(help="With --kafka: read up to this time")]
Workers = Annotated[int | None, typer.Option(min=1, help="Processes replaying [cores]")]
