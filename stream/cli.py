"""The `healthscore` command line: worker, simulate, demo and the local stack."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from stream.settings import Settings
from stream.stack import StackError, StackOptions, down, status, up

app = typer.Typer(help="Customer health score engine.", no_args_is_help=True, add_completion=False)
stack_app = typer.Typer(
    help="The local stack: a Kafka broker and redis-server, no containers.", no_args_is_help=True
)
app.add_typer(stack_app, name="stack")
console = Console(stderr=True)


def load_settings() -> Settings:
    """Build settings from the environment, or exit naming the variable that is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        for err in exc.errors():
            name = "HEALTHSCORE_" + "_".join(str(p) for p in err["loc"]).upper()
            console.print(f"[red]setting {name}:[/] {err['msg']} (got {err.get('input')!r})")
        raise typer.Exit(2) from None


# --- stack -----------------------------------------------------------------------------------

StateDir = Annotated[Path | None, typer.Option(help="Where pids, logs and data live [.stack]")]
CacheDir = Annotated[Path | None, typer.Option(help="Where the Kafka jars are cached")]


def _options(
    state_dir: Path | None,
    cache_dir: Path | None,
    kafka_port: int = 9092,
    controller_port: int = 9093,
    redis_port: int = 6379,
) -> StackOptions:
    base = StackOptions()
    return StackOptions(
        state_dir=state_dir or base.state_dir,
        cache_dir=cache_dir or base.cache_dir,
        kafka_port=kafka_port,
        controller_port=controller_port,
        redis_port=redis_port,
    )


@stack_app.command("up")
def stack_up(
    state_dir: StateDir = None,
    cache_dir: CacheDir = None,
    kafka_port: Annotated[int, typer.Option(help="Kafka client port")] = 9092,
    controller_port: Annotated[int, typer.Option(help="Kafka KRaft controller port")] = 9093,
    redis_port: Annotated[int, typer.Option(help="redis-server port")] = 6379,
    with_prometheus: Annotated[
        bool, typer.Option(help="Also start Prometheus scraping the worker, with the alert rules")
    ] = False,
    prometheus_port: Annotated[int, typer.Option(help="Prometheus port")] = 9090,
    worker: Annotated[
        list[str] | None, typer.Option(help="host:port of a worker to scrape [127.0.0.1:6066]")
    ] = None,
) -> None:
    """Start a single-node Kafka (KRaft) and redis-server (AOF on) on 127.0.0.1."""
    base = _options(
        state_dir,
        cache_dir,
        kafka_port=kafka_port,
        controller_port=controller_port,
        redis_port=redis_port,
    )
    opts = replace(
        base,
        with_prometheus=with_prometheus,
        prometheus_port=prometheus_port,
        worker_targets=tuple(worker) if worker else base.worker_targets,
    )
    try:
        up(opts, report=console.print)
    except StackError as exc:
        console.print(f"[red]stack up failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"stack is up: KAFKA=127.0.0.1:{kafka_port} REDIS=redis://127.0.0.1:{redis_port}/0"
    )


@stack_app.command("fetch")
def stack_fetch(cache_dir: CacheDir = None) -> None:
    """Fetch the Kafka broker jars from Maven Central into the cache (once)."""
    from stream.stack.launcher import ensure_kafka_jars

    try:
        libs = ensure_kafka_jars(_options(None, cache_dir), report=console.print)
    except StackError as exc:
        console.print(f"[red]fetch failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(f"kafka jars: {libs}")


@stack_app.command("down")
def stack_down(
    state_dir: StateDir = None,
    purge: Annotated[bool, typer.Option(help="Also delete the Kafka and Redis data")] = False,
) -> None:
    """Stop exactly the processes `stack up` started."""
    try:
        down(_options(state_dir, None), report=console.print, purge=purge)
    except StackError as exc:
        console.print(f"[red]stack down failed:[/] {exc}")
        raise typer.Exit(1) from None


@stack_app.command("status")
def stack_status(state_dir: StateDir = None) -> None:
    """Show each service; exit 1 unless all are running."""
    services = status(_options(state_dir, None))
    table = Table("service", "state", "port", "pid", "detail")
    for svc in services.values():
        colour = "green" if svc.running else "red"
        table.add_row(
            svc.name, f"[{colour}]{svc.state}[/]", str(svc.port), str(svc.pid or "-"), svc.detail
        )
    Console().print(table)
    if not all(s.running for s in services.values()):
        raise typer.Exit(1)


# --- worker and simulator --------------------------------------------------------------------


@app.command()
def worker(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run the stream worker (Faust) in the foreground."""
    from stream.app import run_worker

    settings = load_settings()
    sys.argv = [sys.argv[0]]  # Faust's Worker reads argv; give it none of ours.
    run_worker(settings, loglevel=loglevel)


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

    from stream.simulate import produce
    from stream.synthetic import CustomerBase

    settings = load_settings()
    _ensure_topics(settings)
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


@app.command("score")
def score_command(
    customer: Annotated[str, typer.Argument(help="Customer id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON")] = False,
) -> None:
    """Show a customer's current health: score, band, components and drivers."""
    import orjson
    import redis

    from config import load_policy
    from stream.store import Record, customer_record_key

    settings = load_settings()
    client = redis.Redis.from_url(settings.redis_url.get_secret_value())
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


@app.command()
def demo(
    duration: Annotated[float, typer.Option(min=5, help="Seconds to run the simulator")] = 30.0,
    customers: Annotated[int, typer.Option(min=1)] = 200,
    rate: Annotated[float, typer.Option(min=1)] = 500.0,
) -> None:
    """Bring the stack up, run the worker and the simulator, and show events flowing."""
    from stream.demo import run_demo

    try:
        up(StackOptions(), report=console.print)
    except StackError as exc:
        console.print(f"[red]stack up failed:[/] {exc}")
        raise typer.Exit(1) from None
    os.environ.setdefault("HEALTHSCORE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    run_demo(load_settings(), duration=duration, customers=customers, rate=rate, console=console)


def _ensure_topics(settings: Settings) -> None:
    from stream.topics import TopicError, ensure_topics

    try:
        ensure_topics(settings)
    except TopicError as exc:
        console.print(f"[red]topics:[/] {exc}")
        raise typer.Exit(1) from None


def main() -> None:
    """Entry point of the `healthscore` command."""
    app()


if __name__ == "__main__":
    main()
