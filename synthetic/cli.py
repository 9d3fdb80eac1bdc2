"""`dexin data generate`: the generator behind a typer command with a rich progress bar.

Mount with ``app.add_typer(synthetic.cli.app, name="data")`` (or register
`generate_command` on any typer app).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from synthetic._generate import generate
from synthetic._sinks import Format
from synthetic.errors import InvalidFormatError, SyntheticError

app = typer.Typer(help="Synthetic data: a deterministic synthetic Yuyao.", no_args_is_help=True)


@app.callback()
def data() -> None:
    """Synthetic data: a deterministic synthetic Yuyao."""


def _format(value: str) -> Format:
    if value == "csv":
        return "csv"
    if value == "parquet":
        return "parquet"
    raise InvalidFormatError(value)


@app.command("generate")
def generate_command(
    scale: Annotated[float, typer.Option(help="1.0 ≈ 850,000 residents and 36M rows")] = 0.01,
    seed: Annotated[int, typer.Option(help="same seed and scale → byte-identical files")] = 0,
    out: Annotated[Path, typer.Option(help="output directory (new or empty)")] = Path("out"),
    format: Annotated[str, typer.Option(help="csv or parquet")] = "csv",
    overwrite: Annotated[bool, typer.Option(help="replace a previous run's files")] = False,
) -> None:
    """Write OUT/<provider>/<table>.<format> for the 17 tables, and the truth under OUT/_truth/."""
    console = Console(stderr=True)
    started = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("generating", total=None)

            def progress(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label)

            summary = generate(out, scale, seed, _format(format), progress, overwrite=overwrite)
    except SyntheticError as exc:
        console.print(f"[red]error:[/red] {exc}" + (f"\n{exc.advice}" if exc.advice else ""))
        raise typer.Exit(2) from None
    seconds = time.monotonic() - started
    console.print(
        f"{summary.total_rows:,} rows, {summary.residents:,} residents in "
        f"{summary.households:,} households → {out} ({seconds:.1f} s)"
    )
