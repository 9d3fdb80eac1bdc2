"""`dexin data generate`: the generator behind a typer command with a rich progress bar.

Mount with ``app.add_typer(synthetic.cli.app, name="data")`` (or register
`generate_command` on any typer app). Errors leave with the exit codes of every ``dexin``
command (`dexin.errors`: a refused argument is 2); the generator (NumPy, Arrow) is imported
when the command runs, so mounting this costs the command line nothing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from dexin.errors import handle_errors
from synthetic.errors import InvalidFormatError

if TYPE_CHECKING:
    from synthetic._sinks import Format

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
@handle_errors
def generate_command(
    scale: Annotated[float, typer.Option(help="1.0 ≈ 850,000 residents and 36M rows")] = 0.01,
    seed: Annotated[int, typer.Option(help="same seed and scale → byte-identical files")] = 0,
    out: Annotated[Path, typer.Option(help="output directory (new or empty)")] = Path("out"),
    format: Annotated[str, typer.Option(help="csv or parquet")] = "csv",
    overwrite: Annotated[bool, typer.Option(help="replace a previous run's files")] = False,
) -> None:
    """Write OUT/<provider>/<table>.<format> for the 17 tables, and the truth under OUT/_truth/."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from synthetic._generate import generate

    console = Console(stderr=True)
    started = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("generating", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        summary = generate(out, scale, seed, _format(format), progress, overwrite=overwrite)
    seconds = time.monotonic() - started
    console.print(
        f"{summary.total_rows:,} rows, {summary.residents:,} residents in "
        f"{summary.households:,} households → {out} ({seconds:.1f} s)"
    )
