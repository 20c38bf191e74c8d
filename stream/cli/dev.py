"""`healthscore simulate` and `healthscore demo`: the developer tools' commands (a synthetic
customer base produced to the input topics; the whole stack with events flowing)."""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer

from stream.cli.common import app, console, ensure_topics_or_exit, load_settings
from stream.dev.stack import StackError, StackOptions, up


@app.command()
def simulate(
    customers: Annotated[int, typer.Option(min=1, help="Size of the customer base")] = 1000,
    events: Annotated[int, typer.Option(min=0, help="Events after onboarding")] = 20_000,
    rate: Annotated[float, typer.Option(min=0, help="Events per second; 0 = flat out")] = 2000.0,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same stream")
    ] = 42,
    days: Annotated[float, typer.Option(min=0.01, help="Event-time span of the history")] = 30.0,
    declining: Annotated[float, typer.Option(min=0, max=1, help="Share drifting to churn")] = 0.2,
    malformed_every: Annotated[
        int, typer.Option(min=0, help="Add a malformed message every N")
    ] = 0,
    duration: Annotated[
        float | None, typer.Option(min=0.1, help="Stop after this many seconds")
    ] = None,
) -> None:
    """Produce a realistic synthetic customer base to the input topics."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from stream.dev.simulate import produce
    from stream.dev.synthetic import CustomerBase

    settings = load_settings()
    ensure_topics_or_exit(settings)
    base = CustomerBase(customers, seed=seed, declining_share=declining, span_days=days)
    total = customers + events
    with Progress(
        TextColumn("simulate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>8.0f} ev/s"),
        console=console,
    ) as bar:
        task = bar.add_task("send", total=total, rate=0.0)
        stats = produce(
            settings,
            base.events(events),
            rate=rate,
            malformed_every=malformed_every,
            deadline=None if duration is None else time.monotonic() + duration,
            progress=lambda s: bar.update(task, completed=s.sent, rate=s.rate),
        )
    console.print(
        f"sent {stats.sent} events ({stats.malformed} malformed) in {stats.seconds:.1f}s "
        f"to {settings.kafka_bootstrap_servers}"
    )


@app.command()
def demo(
    duration: Annotated[float, typer.Option(min=5, help="Seconds to run the simulator")] = 30.0,
    customers: Annotated[int, typer.Option(min=1)] = 200,
    rate: Annotated[float, typer.Option(min=1)] = 500.0,
) -> None:
    """Bring the stack up, run the worker and the simulator, and show events flowing."""
    from stream.dev.demo import run_demo

    try:
        up(StackOptions(), report=console.print)
    except StackError as exc:
        console.print(f"[red]stack up failed:[/] {exc}")
        raise typer.Exit(1) from None
    os.environ.setdefault("HEALTHSCORE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    run_demo(load_settings(), duration=duration, customers=customers, rate=rate, console=console)
