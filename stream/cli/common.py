"""What every command shares: the `healthscore` app, the console that reports to stderr,
the settings read from the environment and the topics made sure of."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console

from stream.settings import Settings

app = typer.Typer(help="Customer health score engine.", no_args_is_help=True, add_completion=False)
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


def ensure_topics_or_exit(settings: Settings) -> None:
    from stream.topics import TopicError, ensure_topics

    try:
        ensure_topics(settings)
    except TopicError as exc:
        console.print(f"[red]topics:[/] {exc}")
        raise typer.Exit(1) from None
