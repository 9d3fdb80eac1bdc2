"""Command-line start-up: how long ``dexin --help`` and each group's ``--help`` take.

    .venv/bin/python bench/cli.py [--runs 7]

Each figure is the median wall time of ``--runs`` fresh processes. Two baselines run in the
same rounds, interleaved with the measured commands so a busy machine slows all alike: the
interpreter doing nothing (``python -c pass``) and a bare typer app with one group and one
command (the floor any typer CLI pays: typer and rich; a group's help also imports pydantic,
which typer 0.29 uses to read its own ``--help`` flag). The target is 0.5 s (issue 15 §2).
The figures assume compiled bytecode (``make install`` compiles it): without it, and with
``PYTHONDONTWRITEBYTECODE`` set, every process compiles its imports again.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
DEXIN = str(Path(PYTHON).parent / "dexin")
TARGET_SECONDS = 0.5
BARE_TYPER = """
from pathlib import Path
from typing import Annotated
import typer
app = typer.Typer(no_args_is_help=True, add_completion=False)
group = typer.Typer(no_args_is_help=True, help="a group")
app.add_typer(group, name="group")
@group.command("command")
def command(path: Annotated[Path, typer.Option(help="a path")] = Path(".")) -> None:
    '''A command.'''
app()
"""


def _seconds(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _commands(bare: Path) -> dict[str, list[str]]:
    commands = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "bare typer --help": [PYTHON, str(bare), "--help"],
        "bare typer group --help": [PYTHON, str(bare), "group", "--help"],
        "import dexin.cli": [PYTHON, "-c", "import dexin.cli"],
        "dexin --help": [DEXIN, "--help"],
    }
    commands |= {f"dexin {g} --help": [DEXIN, g, "--help"] for g in _groups()}
    commands["dexin audit verify --help"] = [DEXIN, "audit", "verify", "--help"]
    return commands


def _groups() -> list[str]:
    """Every group and top-level command of ``dexin``, as it is mounted today."""
    import typer.main

    from dexin.cli import app

    return sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def measure(runs: int) -> dict[str, float]:
    """The median seconds of each command over ``runs`` interleaved rounds."""
    with tempfile.TemporaryDirectory(prefix="dexin-cli-bench-") as folder:
        bare = Path(folder) / "bare_typer.py"
        bare.write_text(BARE_TYPER, encoding="utf-8")
        commands = _commands(bare)
        for argv in commands.values():  # warm the file cache and the .pyc files
            _seconds(argv)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(_seconds(argv))
    return {name: statistics.median(values) for name, values in times.items()}


def _bytecode() -> str:
    """Whether typer's and dexin's imports find compiled bytecode (see the docstring)."""
    import importlib.util

    missing = []
    for name in ("typer.main", "rich.console", "pydantic.main", "dexin.cli"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        if not Path(importlib.util.cache_from_source(spec.origin)).exists():
            missing.append(name)
    return "compiled" if not missing else f"NOT compiled for {', '.join(missing)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    print(f"bytecode: {_bytecode()}")
    medians = measure(parser.parse_args().runs)
    python = medians["python -c pass"]
    floor = {True: medians["bare typer group --help"], False: medians["bare typer --help"]}
    print(f"{'command':32} {'median s':>9} {'÷ python':>9} {'÷ typer floor':>14}  < 0.5 s")
    for name, seconds in medians.items():
        ours = name.startswith("dexin ")
        typer_ratio = f"{seconds / floor[name.count(' ') > 1]:14.2f}" if ours else " " * 14
        verdict = ("met" if seconds < TARGET_SECONDS else "missed") if ours else ""
        print(f"{name:32} {seconds:9.3f} {seconds / python:9.1f} {typer_ratio}  {verdict}")


if __name__ == "__main__":
    main()
