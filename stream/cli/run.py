"""`healthscore worker` and `healthscore score`: running the engine and reading what it keeps."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from stream.cli.common import app, console, load_settings


@app.command()
def worker(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=256,
            help="Workers of the same group to run on this machine, each with its own HTTP "
            "port (HEALTHSCORE_WEB_PORT + i); default: one per core",
        ),
    ] = None,
) -> None:
    """Run the stream worker (Faust) in the foreground: one process per core by default."""
    from stream.workers import default_processes, run_processes

    settings = load_settings()
    count = processes if processes is not None else default_processes()
    if count > 1:
        raise typer.Exit(run_processes(count, settings.web_port, loglevel))
    from stream.app import run_worker

    sys.argv = [sys.argv[0]]  # Faust's Worker reads argv; give it none of ours.
    run_worker(settings, loglevel=loglevel)


@app.command("score")
def score_command(
    customer: Annotated[str, typer.Argument(help="Customer id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON")] = False,
) -> None:
    """Show a customer's current health: score, band, components and drivers."""
    import orjson
    import redis

    from stream.resources import load_policy
    from stream.store import Record, customer_record_key
    from stream.store.client import connect_sync

    settings = load_settings()
    client = connect_sync(settings)
    try:
        raw: Any = client.get(customer_record_key(settings.redis_key_prefix, customer))
    except redis.RedisError as exc:
        console.print(f"[red]cannot read Redis:[/] {exc}")
        raise typer.Exit(2) from None
    policy = load_policy(str(settings.policy_file) if settings.policy_file else None)
    record = Record.parse(customer, raw).health_record(policy) if raw else None
    if record is None:
        console.print(f"[yellow]no health score for {customer!r} yet[/]")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    out = Console()
    colour = {"healthy": "green", "at_risk": "yellow", "critical": "red"}[record["band"]]
    out.print(
        f"[bold]{record['customer_id']}[/]  score [bold]{record['score']:.1f}[/]  "
        f"[{colour}]{record['band']}[/]  confidence {record['confidence']:.2f}  "
        f"as of {record['as_of']}  model {record['model']}"
    )
    parts = Table("component", "value")
    for name, value in record["components"].items():
        parts.add_row(name, "-" if value is None else f"{value:.1f}")
    out.print(parts)
    drivers = Table("impact", "signal", "why", title="drivers (points lost, most first)")
    for d in record["drivers"]:
        drivers.add_row(f"{d['impact']:.1f}", d["signal"], d["detail"])
    out.print(drivers)
