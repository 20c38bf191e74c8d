"""The `healthscore` command line: worker, simulate, score, demo, backtest, calibrate,
dataset and the local stack."""

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

from stream.dev.stack import StackError, StackOptions, down, status, up
from stream.settings import Settings

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


# --- worker and simulator --------------------------------------------------------------------


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


# --- backtest, calibrate, datasets -------------------------------------------------------------

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


def _history(
    files: list[Path] | None, kafka: bool, since: str | None, until: str | None
) -> tuple[Any, str]:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn

    from stream.offline import backtest as bt

    if kafka:
        settings = load_settings()
        topics = list(settings.input_topics)  # the configured names
        with console.status(f"reading {', '.join(topics)} from Kafka"):
            history = bt.read_messages(
                bt.kafka_messages(
                    settings.kafka_python_config(),
                    topics,
                    since=bt.parse_time(since) if since else None,
                    until=bt.parse_time(until) if until else None,
                )
            )
        return history, f"kafka {settings.kafka_bootstrap_servers}"
    if not files:
        raise bt.BacktestError("name history files, or pass --kafka")
    total = sum(f.stat().st_size if f.is_file() else 0 for f in files)
    columns = ("{task.description}", BarColumn(), DownloadColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("reading", total=total)
        history = bt.read_files(files, on_bytes=lambda n: progress.advance(task, n))
    return history, ", ".join(str(f) for f in files)


def _replay(
    history: Any,
    policy: Any,
    cutoffs: list[float],
    workers: int | None,
    what: str = "replaying events",
) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from stream.offline import backtest as bt

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(what, total=history.events)
        return bt.replay_history(
            history,
            policy,
            cutoffs,
            workers=workers,
            on_progress=lambda n: progress.advance(task, n),
        )


@app.command()
def backtest(
    files: History = None,
    labels: Labels = None,
    cutoff: Cutoffs = None,
    horizon_days: Horizon = 90.0,
    policy: PolicyFile = None,
    report: Annotated[Path | None, typer.Option(help="Write an HTML report with plots")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON")
    ] = None,
    kafka: FromKafka = False,
    since: Since = None,
    until: Until = None,
    workers: Workers = None,
) -> None:
    """Replay a history through the scoring core and measure how well the score predicted churn."""
    import orjson

    from scoring.policy import PolicyError
    from stream.offline import backtest as bt
    from stream.offline.report import print_report, write_html
    from stream.resources import load_policy

    try:
        loaded = load_policy(str(policy) if policy else None)
        history, source = _history(files, kafka, since, until)
        horizon = horizon_days * 86_400.0
        cutoffs = (
            [bt.parse_time(c) for c in cutoff] if cutoff else bt.default_cutoffs(history, horizon)
        )
        outcomes = bt.read_labels(labels) if labels else None
        replayed = _replay(history, loaded, cutoffs, workers)
        result = bt.evaluate(
            history, replayed, loaded, cutoffs, horizon, source=source, labels=outcomes
        )
    except (bt.BacktestError, PolicyError) as exc:
        console.print(f"[red]backtest:[/] {exc}")
        raise typer.Exit(2) from None
    print_report(result, Console())
    if json_out is not None:
        json_out.write_bytes(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2))
        console.print(f"results written to {json_out}")
    if report is not None:
        write_html(result, report)
        console.print(f"report written to {report}")


@app.command()
def calibrate(
    files: History = None,
    out: Annotated[Path, typer.Option(help="Where to write the calibrated policy YAML")] = Path(
        "policy.calibrated.yaml"
    ),
    labels: Labels = None,
    train_cutoff: Annotated[str | None, typer.Option(help="Cutoff to fit at")] = None,
    validate_cutoff: Annotated[
        str | None, typer.Option(help="Later cutoff to validate at (default: a horizon later)")
    ] = None,
    horizon_days: Horizon = 90.0,
    policy: PolicyFile = None,
    force: Annotated[bool, typer.Option(help="Replace an existing output file")] = False,
    kafka: FromKafka = False,
    since: Since = None,
    until: Until = None,
    workers: Workers = None,
) -> None:
    """Fit weights per segment to churn outcomes, validate them, write a candidate policy."""
    import yaml

    from scoring.policy import Policy, PolicyError, parse_policy
    from stream.offline import backtest as bt
    from stream.offline.calibrate import (
        Trial,
        alert_quality,
        check_target,
        choose_paging,
        in_train,
        meet_budget,
        quality_document,
        training_trial,
        window,
        write_policy,
    )
    from stream.offline.calibrate import calibrate as fit
    from stream.offline.report import print_budget
    from stream.resources import load_policy, resource

    try:
        loaded = load_policy(str(policy) if policy else None)
        base_path = policy or Path(str(resource("scoring.yaml")))
        base = yaml.safe_load(base_path.read_text(encoding="utf-8"))
        check_target(out, force=force, default=Path(str(resource("scoring.yaml"))))
        history, source = _history(files, kafka, since, until)
        horizon = horizon_days * 86_400.0
        if validate_cutoff:
            valid_at = bt.parse_time(validate_cutoff)
        else:
            valid_at = bt.default_cutoffs(history, horizon)[-1]
        train_at = bt.parse_time(train_cutoff) if train_cutoff else valid_at - horizon
        if labels is not None and not train_cutoff:
            train_at = valid_at  # labels without times: one cutoff, split by customer
        if train_at < valid_at and train_at + horizon > valid_at:
            console.print("[yellow]the training outcomes reach past the validation cutoff[/]")
        outcomes = bt.read_labels(labels) if labels else None
        cutoffs = sorted({train_at, valid_at})
        replayed = _replay(history, loaded, cutoffs, workers)
        table = bt.rows(replayed, horizon, outcomes)
        result = fit(
            table,
            loaded,
            base,
            train_cutoff=train_at,
            validate_cutoff=valid_at,
            horizon=horizon,
            sources=[source],
        )
        assert result.document is not None
        # the alert budget: tighten the paging rules on the training window until it is met,
        # then measure the alerts on the validation window
        by_customer = train_at >= valid_at
        keep_train = in_train if by_customer else None
        keep_valid = (lambda c: not in_train(c)) if by_customer else None
        # which rules page: each rule's own precision at the training cutoff, fitted weights,
        # on the training customers' events up to the end of its horizon (all it needs)
        part = window(history, train_at + horizon, keep_train)
        trained = alert_quality(
            part,
            parse_policy(result.document, "the calibrated policy"),
            lambda h, p, c: _replay(h, p, c, workers, "paging: replaying the training window"),
            cutoff=train_at,
            horizon=horizon,
            labels=outcomes,
        )
        gated, paging = choose_paging(result.document, trained, source="the calibrated policy")
        # the budget: the same events replayed with the training cutoff give the alerts raised
        # up to it and the precision they held at it
        train_end = max(
            (
                e.occurred_at
                for ev in part.customers.values()
                for e in ev
                if e.occurred_at <= train_at
            ),
            default=train_at,
        )

        def measure(p: Policy) -> Trial:
            again = _replay(part, p, [train_at], workers, "budget: replaying the training window")
            return training_trial(again, train_end, part.last or train_end, horizon, outcomes)

        document, choice = meet_budget(
            gated, measure, source="the calibrated policy", floor=paging.target
        )
        final = parse_policy(document, "the calibrated policy")
        quality = alert_quality(
            history,
            final,
            lambda h, p, c: _replay(h, p, c, workers, "replaying the validation window"),
            cutoff=valid_at,
            horizon=horizon,
            labels=outcomes,
            keep=keep_valid,
        )
        document["fitted"]["validation"]["alerts"] = quality_document(quality, choice, paging)
        result.document = document
        write_policy(document, out, force=force, default=Path(str(resource("scoring.yaml"))))
    except (bt.BacktestError, PolicyError, OSError) as exc:
        console.print(f"[red]calibrate:[/] {exc}")
        raise typer.Exit(2) from None
    table_out = Table(
        "policy",
        "churn AUC on validation (95% interval)",
        title=f"Validation ({result.split}; {result.validate_rows:,} customers)",
    )
    for name, (auc, interval) in (
        ("current", result.default_auc),
        ("calibrated", result.calibrated_auc),
    ):
        shown = "-" if auc is None else f"{auc:.3f}"
        if interval is not None:
            shown += f" ({interval[0]:.3f}-{interval[1]:.3f})"
        table_out.add_row(name, shown)
    Console().print(table_out)
    weights = Table(
        "segment", "usage", "support", "sentiment", "typical activity/day", title="Fitted weights"
    )
    for seg in result.fits:
        w = result.document["segments"].get(seg.segment, {})
        weights.add_row(
            seg.segment,
            *(f"{w.get(k, 0):.2f}" for k in ("usage", "support", "sentiment")),
            f"{seg.typical:.3g}",
        )
    Console().print(weights)
    print_budget(choice, quality, Console(), paging)
    console.print(
        f"candidate policy written to {out}; try it with `healthscore backtest "
        f"--policy {out}` or run it as a shadow (HEALTHSCORE_SHADOW_POLICY_FILE)"
    )


@app.command()
def dataset(
    name: Annotated[str, typer.Argument(help="cdnow, saas or simulated")],
    out: Annotated[Path | None, typer.Option(help="Directory to write [.cache/data/NAME]")] = None,
    customers: Annotated[int, typer.Option(min=10, help="simulated: customers")] = 2000,
) -> None:
    """Turn a public churn data set (downloaded from PyPI, cached) or the churn simulator into
    contract events, labels and a note of what is real."""
    from stream.offline import datasets as ds

    target = out or Path(".cache") / "data" / name
    try:
        with console.status(f"building {name}"):
            if name == "simulated":
                count = ds.simulate_churn(target, customers)
            elif name in ds.DATASETS:
                count = ds.DATASETS[name](target)
            else:
                raise ds.DatasetError(f"unknown data set {name!r}: cdnow, saas or simulated")
    except ds.DatasetError as exc:
        console.print(f"[red]dataset:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"{count:,} events written to {target} (see {target / 'about.json'})")


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
