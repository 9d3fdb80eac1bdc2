"""Scheduling: one task per output file, run in-process or by worker processes.

A file is written by one process, chunk by chunk (``CHUNK_PEOPLE`` people at a time), so no
row data crosses a process boundary and memory stays bounded by one chunk per worker. Every
chunk draws from its own random stream seeded by (seed, provider/table, chunk), so the files
are byte-identical whatever the number of workers. Workers are separate programs
(`synthetic._worker`), given their files up front, largest first, balanced by the
expected row counts.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from synthetic._chunk import Chunk
from synthetic._rates import expected_rows
from synthetic._sinks import Format, encode, open_sink
from synthetic._tables import build, schema
from synthetic._world import World
from synthetic.errors import WorkerFailedError
from vault import Registry

CHUNK_PEOPLE = 50_000
Progress = Callable[[int, int, str], None]
Report = Callable[[str], None]
_ROOT = Path(__file__).resolve().parents[2]  # holds the dexin and vault packages


@dataclass(frozen=True)
class FileTask:
    """One output file: the rows of one (provider, table), in chunks of people."""

    table: str
    provider: str
    bounds: tuple[int, ...]

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.table}"

    @property
    def chunks(self) -> int:
        return len(self.bounds) - 1

    @property
    def weight(self) -> int:
        return expected_rows(self.provider, self.table)


def plan_tasks(registry: Registry, people: int) -> list[FileTask]:
    """Every (provider, table) file, largest first."""
    bounds = (*range(0, people, CHUNK_PEOPLE), people)
    tasks = [FileTask(t.name, p, bounds) for t in registry.tables for p in t.providers]
    return sorted(tasks, key=lambda task: -task.weight)


def write_file(
    world: World, registry: Registry, task: FileTask, out_dir: Path, fmt: Format, report: Report
) -> int:
    """Write one file chunk by chunk; call ``report(key)`` after each chunk; return its rows."""
    table = registry.table(task.table)
    sink = open_sink(out_dir / task.provider / task.table, schema(table), fmt)
    rows = 0
    for index in range(task.chunks):
        lo, hi = task.bounds[index], task.bounds[index + 1]
        part = build(table, Chunk(world, task.provider, task.table, index, lo, hi))
        sink.write(encode(part, fmt))
        rows += part.num_rows
        report(task.key)
    sink.close()
    return rows


def balance(tasks: list[FileTask], workers: int) -> list[list[FileTask]]:
    """Longest-processing-time-first partition of the files over ``workers``."""
    groups: list[list[FileTask]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for task in sorted(tasks, key=lambda t: -t.weight):
        lightest = loads.index(min(loads))
        groups[lightest].append(task)
        loads[lightest] += task.weight
    return [g for g in groups if g]


class _Worker:
    """One worker program, given its files on stdin; its stderr is kept for error reports."""

    def __init__(self, world: World, tasks: list[FileTask], out_dir: Path, fmt: Format) -> None:
        job = {
            "seed": world.seed,
            "scale": world.scale,
            "out_dir": str(out_dir),
            "fmt": fmt,
            "tasks": [asdict(t) for t in tasks],
        }
        # closed in close(), which _in_workers always calls
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synthetic._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            encoding="utf-8",
            env=_child_environment(),
        )
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:
            raise RuntimeError("worker pipes were not created")
        self.stdout: IO[str] = stdout
        stdin.write(json.dumps(job))
        stdin.close()

    def finish(self) -> None:
        """Wait for the worker; raise `WorkerFailedError` with its stderr if it failed."""
        code = self.process.wait()
        if code != 0:
            self.stderr.seek(0)
            raise WorkerFailedError(code, self.stderr.read()[-2000:])

    def close(self) -> None:
        """Kill the worker if it still runs, and release its pipes and files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stdout.close()
        self.stderr.close()


def _child_environment() -> dict[str, str]:
    paths = [str(_ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _collect(workers: list[_Worker], report: Report) -> dict[str, int]:
    """Relay progress lines until every worker closed its output; return rows per file."""
    lines: queue.Queue[str | None] = queue.Queue()
    for worker in workers:
        threading.Thread(target=_pump, args=(worker.stdout, lines), daemon=True).start()
    counts: dict[str, int] = {}
    open_streams = len(workers)
    while open_streams:
        line = lines.get()
        if line is None:
            open_streams -= 1
        elif line.startswith("chunk\t"):
            report(line.split("\t")[1])
        elif line.startswith("file\t"):
            _, key, rows = line.split("\t")
            counts[key] = int(rows)
    return counts


def _in_workers(
    world: World, tasks: list[FileTask], out_dir: Path, fmt: Format, workers: int, report: Report
) -> dict[str, int]:
    started = [_Worker(world, group, out_dir, fmt) for group in balance(tasks, workers)]
    try:
        counts = _collect(started, report)
        for worker in started:
            worker.finish()
    finally:
        for worker in started:
            worker.close()
    return counts


def run(
    world: World,
    registry: Registry,
    out_dir: Path,
    fmt: Format,
    workers: int,
    progress: Progress | None,
) -> dict[str, int]:
    """Write every table file under ``out_dir``; return row counts per ``provider/table``.

    Raises `WorkerFailedError` when a worker process fails.
    """
    tasks = plan_tasks(registry, world.people)
    total, done = sum(t.chunks for t in tasks), [0]

    def report(key: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total, key)

    if workers > 1:
        counts = _in_workers(world, tasks, out_dir, fmt, workers, report)
    else:
        counts = {t.key: write_file(world, registry, t, out_dir, fmt, report) for t in tasks}
    return {key: counts[key] for key in sorted(counts)}
