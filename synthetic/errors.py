"""Errors of the synthetic generator: one base class, fields rather than strings."""

from __future__ import annotations

from pathlib import Path


class SyntheticError(Exception):
    """Base of every error the generator raises; ``advice`` is the human hint for the CLI."""

    advice: str = ""


class InvalidScaleError(SyntheticError):
    """The scale factor is outside the supported range."""

    advice = "use a scale in (0, 10]: 0.001–0.01 for tests, 1.0 for a Yuyao-sized population"

    def __init__(self, scale: float) -> None:
        super().__init__(f"scale {scale!r} is outside (0, 10]")
        self.scale = scale


class InvalidFormatError(SyntheticError):
    """The output format is neither csv nor parquet."""

    advice = "use --format csv or --format parquet"

    def __init__(self, fmt: str) -> None:
        super().__init__(f"unknown output format {fmt!r}")
        self.fmt = fmt


class OutputNotEmptyError(SyntheticError):
    """The output directory already holds files (the generator never mixes two runs)."""

    advice = "choose a new or empty directory, or overwrite the generator's own files (--overwrite)"

    def __init__(self, path: Path) -> None:
        super().__init__(f"output directory {path} is not empty")
        self.path = path


class ColumnMismatchError(SyntheticError):
    """A table builder produced columns or values that do not match the registry (a bug)."""

    def __init__(self, table: str, problem: str) -> None:
        super().__init__(f"generator for {table}: {problem}")
        self.table = table
        self.problem = problem


class WorkerFailedError(SyntheticError):
    """A worker process exited with an error; ``detail`` is the end of its stderr."""

    advice = "see the worker's error output above; rerun with workers=1 to debug in-process"

    def __init__(self, exit_code: int, detail: str) -> None:
        super().__init__(f"a generator worker failed with exit code {exit_code}")
        self.exit_code = exit_code
        self.detail = detail
