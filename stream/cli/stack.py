"""`healthscore stack up | fetch | down | status`: the local stack, a Kafka broker and
redis-server (and, on request, Prometheus and Alertmanager) with no containers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from stream.cli.common import app, console
from stream.cli.options import CacheDir, StateDir
from stream.dev.stack import StackError, StackOptions, down, status, up

stack_app = typer.Typer(
    help="The local stack: a Kafka broker and redis-server, no containers.", no_args_is_help=True
)
app.add_typer(stack_app, name="stack")


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
    with_alertmanager: Annotated[
        bool,
        typer.Option(
            help="Also start Alertmanager with config/alertmanager/alertmanager.yml (the worker "
            "forwards churn alerts to it when HEALTHSCORE_ALERTMANAGER_URL is set)"
        ),
    ] = False,
    alertmanager_port: Annotated[int, typer.Option(help="Alertmanager port")] = 9193,
    kafka_brokers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Brokers of the KRaft cluster (3: replication 3, min.insync.replicas 2; "
            "broker i on --kafka-port + 2i, its controller on --controller-port + 2i)",
        ),
    ] = 1,
    redis_cluster: Annotated[
        bool,
        typer.Option(
            help="A Redis Cluster of six nodes (three primaries with a replica each) on "
            "--redis-port and the five ports above it, instead of one redis-server"
        ),
    ] = False,
    worker: Annotated[
        list[str] | None, typer.Option(help="host:port of a worker to scrape [127.0.0.1:6066]")
    ] = None,
) -> None:
    """Start Kafka (KRaft; one broker or a cluster) and redis-server (AOF on; one, or a
    cluster) on 127.0.0.1."""
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
        with_alertmanager=with_alertmanager,
        alertmanager_port=alertmanager_port,
        prometheus_port=prometheus_port,
        worker_targets=tuple(worker) if worker else base.worker_targets,
        kafka_brokers=kafka_brokers,
        redis_cluster=redis_cluster,
    )
    try:
        up(opts, report=console.print)
    except StackError as exc:
        console.print(f"[red]stack up failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print("stack is up; the worker's settings for it:")
    console.print(f"  HEALTHSCORE_KAFKA_BOOTSTRAP_SERVERS={opts.bootstrap}", highlight=False)
    console.print(f"  HEALTHSCORE_REDIS_URL={opts.redis_url}", highlight=False)
    if kafka_brokers > 1:
        replicas = min(3, kafka_brokers)
        console.print(f"  HEALTHSCORE_REPLICATION_FACTOR={replicas}", highlight=False)
    if with_alertmanager:
        url = f"http://{opts.host}:{alertmanager_port}"
        console.print(f"  HEALTHSCORE_ALERTMANAGER_URL={url}", highlight=False)
    if redis_cluster:
        console.print("  HEALTHSCORE_REDIS_CLUSTER=true", highlight=False)
        console.print("  HEALTHSCORE_REDIS_WAIT_REPLICAS=1", highlight=False)


@stack_app.command("fetch")
def stack_fetch(cache_dir: CacheDir = None) -> None:
    """Fetch the Kafka broker jars from Maven Central into the cache (once)."""
    from stream.dev.stack.launcher import ensure_kafka_jars

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
