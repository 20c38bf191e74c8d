"""`healthscore worker` and `healthscore score`: running the engine and reading what it keeps."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
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
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of the words: en, ru, lv or zh [HEALTHSCORE_LOCALE, else en]",
        ),
    ] = None,
) -> None:
    """Show a customer's current health: score, band, components and drivers."""
    from datetime import datetime

    import orjson
    import redis

    from stream.i18n import LOCALES, supported, words
    from stream.resources import load_policy
    from stream.store import Record, customer_record_key
    from stream.store.client import connect_sync

    settings = load_settings()
    locale = supported(lang) if lang else settings.languages().default
    if locale is None:
        console.print(f"[red]--lang {lang!r}:[/] one of {', '.join(LOCALES)}")
        raise typer.Exit(2)
    w = words(locale)
    client = connect_sync(settings)
    try:
        raw: Any = client.get(customer_record_key(settings.redis_key_prefix, customer))
    except redis.RedisError as exc:
        console.print(f"[red]{escape(w.say('cli-no-redis', error=str(exc)))}[/]")
        raise typer.Exit(2) from None
    policy = load_policy(str(settings.policy_file) if settings.policy_file else None)
    record = Record.parse(customer, raw).health_record(policy, w) if raw else None
    if record is None:
        console.print(f"[yellow]{escape(w.say('cli-no-score', customer=customer))}[/]")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    out = Console()
    colour = {"healthy": "green", "at_risk": "yellow", "critical": "red"}[record["band"]]
    when = datetime.fromisoformat(record["as_of"].replace("Z", "+00:00")).timestamp()
    as_of = w.moment(when)
    line = w.say(
        "cli-score-line",
        customer=record["customer_id"],
        score=w.number(record["score"], 1),
        band=record["band"],
        confidence=w.number(record["confidence"], 2),
        as_of=as_of,
        model=record["model"],
    )
    out.print(f"[{colour}]{escape(line)}[/]")
    parts = Table(w.say("cli-component"), w.say("cli-value"))
    for name, value in record["components"].items():
        shown = "-" if value is None else w.number(value, 1)
        parts.add_row(escape(w.say("component", component=name)), shown)
    out.print(parts)
    drivers = Table(
        w.say("cli-impact"), w.say("cli-component"), w.say("cli-why"), title=w.say("cli-drivers")
    )
    for d in record["drivers"]:
        part = w.say("component", component=d["signal"].split(".", 1)[0])
        drivers.add_row(w.number(d["impact"], 1), escape(part), escape(d["detail"]))
    out.print(drivers)
