"""`generate`: a deterministic synthetic Yuyao, written as the 17 providers would submit it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from synthetic._run import Progress, run
from synthetic._sinks import Format
from synthetic._truth import TRUTH_DIR, world_facts, write_truth
from synthetic._world import build_world
from synthetic.errors import InvalidFormatError, InvalidScaleError, OutputNotEmptyError
from vault import Registry, load_registry

GENERATOR_VERSION = "1.0.0"
MAX_SCALE = 10.0
POOL_FROM_SCALE = 0.05  # below this, spawning workers costs more than it saves


@dataclass(frozen=True)
class GenerationSummary:
    """What a run wrote: row counts per ``provider/table`` and the world's size."""

    out_dir: Path
    scale: float
    seed: int
    fmt: Format
    generator_version: str
    row_counts: Mapping[str, int]
    residents: int
    households: int

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


def _check_arguments(scale: float, fmt: str) -> None:
    if not 0 < scale <= MAX_SCALE:
        raise InvalidScaleError(scale)
    if fmt not in ("csv", "parquet"):
        raise InvalidFormatError(fmt)


def _prepare(out_dir: Path, registry: Registry, overwrite: bool) -> None:
    """Refuse a non-empty directory; with ``overwrite``, remove only what a run writes."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise OutputNotEmptyError(out_dir)
        shutil.rmtree(out_dir / TRUTH_DIR, ignore_errors=True)
        for table in registry.tables:
            for provider in table.providers:
                for suffix in ("csv", "parquet"):
                    (out_dir / provider / f"{table.name}.{suffix}").unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def generate(
    out_dir: Path,
    scale: float,
    seed: int,
    fmt: Format,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
    overwrite: bool = False,
) -> GenerationSummary:
    """Write ``out_dir/<provider>/<table>.<fmt>`` for every (provider, table), and ``_truth/``.

    Same (seed, scale, fmt) → byte-identical files, whatever ``workers`` is (default: two
    processes from scale 0.05 up, otherwise in-process). ``progress(done, total, label)`` is
    called after each chunk. Raises `InvalidScaleError` outside (0, 10], `InvalidFormatError`,
    and `OutputNotEmptyError` when ``out_dir`` holds files and ``overwrite`` is false.
    """
    _check_arguments(scale, fmt)
    registry = load_registry()
    _prepare(out_dir, registry, overwrite)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if scale >= POOL_FROM_SCALE else 1
    world = build_world(seed, scale)
    counts = run(world, registry, out_dir, fmt, workers, progress)
    facts = world_facts(world)
    summary = {
        "generator_version": GENERATOR_VERSION,
        "registry_version": registry.version,
        "scale": scale,
        "seed": seed,
        "format": fmt,
        **facts,
        "row_counts": counts,
        "total_rows": sum(counts.values()),
    }
    write_truth(world, out_dir, fmt, summary)
    return GenerationSummary(
        out_dir, scale, seed, fmt, GENERATOR_VERSION, counts, world.people, world.households
    )
