"""A worker process: ``python -m synthetic._worker`` writes the files it is given.

It reads one JSON job from stdin (seed, scale, out_dir, fmt, tasks), builds the world, and
writes each file; it prints ``chunk<TAB>key`` after every chunk and
``file<TAB>key<TAB>rows`` after every file, so the parent can show progress and count rows.
Running as its own program (not a multiprocessing child) means the caller's ``__main__``
is never re-imported and nothing is inherited from the parent but the job.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from synthetic._run import FileTask, write_file
from synthetic._world import build_world
from vault import load_registry


def _say(*fields: object) -> None:
    print("\t".join(str(f) for f in fields), flush=True)


def run_job(job: dict[str, Any]) -> None:
    """Write every file of ``job``, reporting progress on stdout."""
    world = build_world(int(job["seed"]), float(job["scale"]))
    registry = load_registry()
    out_dir = Path(job["out_dir"])
    for raw in job["tasks"]:
        task = FileTask(raw["table"], raw["provider"], tuple(raw["bounds"]))
        rows = write_file(world, registry, task, out_dir, job["fmt"], lambda k: _say("chunk", k))
        _say("file", task.key, rows)


if __name__ == "__main__":
    run_job(json.load(sys.stdin))
