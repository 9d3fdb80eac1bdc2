"""Where an answer's tail comes from: probes loaded into a gateway process under load.

``bench/gateway.py --stalls FILE`` serves the gateway with `install` run first; at exit the
process writes one JSON document to FILE: every request's start and duration inside the
app, every pause of the event loop (a 2 ms ticker that woke late), every garbage
collection (generation, duration), and the start and duration of the background work that
shares the process: the audit log's group commits and checkpoints, the quota flusher, the
witnessing rounds. `summarise` then says, for the slowest 1 % of requests, which of those
overlapped them. Measurement only: nothing here changes what the gateway does.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import functools
import gc
import json
import signal
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

Event = tuple[str, float, float]  # (kind, start, duration), perf_counter seconds
_WAITED: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("waited", default=None)

TICK = 0.002


class Recorder:
    """Timestamps of what ran in the process (appends to lists: atomic under the GIL)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.requests: list[tuple[float, float, float]] = []  # start, duration, audit wait
        self._gc_start: float | None = None
        self._gc_gen = 0

    def timed(self, kind: str, owner: Any, name: str) -> None:
        """Wrap ``owner.name`` so each call is recorded as an event of ``kind``."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.events.append((kind, start, time.perf_counter() - start))

        setattr(owner, name, wrapper)

    def timed_async(self, kind: str, owner: Any, name: str) -> None:
        """Like `timed`, for a coroutine method (its time includes every await)."""
        original = getattr(owner, name)

        @functools.wraps(original)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                took = time.perf_counter() - start
                self.events.append((kind, start, took))
                mine = _WAITED.get()
                if mine is not None:  # the request this task serves waited this long
                    mine.append(took)

        setattr(owner, name, wrapper)

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start, self._gc_gen = time.perf_counter(), info["generation"]
        elif self._gc_start is not None:
            duration = time.perf_counter() - self._gc_start
            self.events.append((f"gc{self._gc_gen}", self._gc_start, duration))

    async def ticker(self) -> None:
        """The event loop's pauses: a sleep of TICK that woke more than 1 ms late."""
        while True:
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            late = time.perf_counter() - start - TICK
            if late > 0.001:
                self.events.append(("loop_paused", start + TICK, late))

    def dump(self, path: Path) -> None:
        heap = _heap()
        path.write_text(
            json.dumps({"events": self.events, "requests": self.requests, "heap": heap})
        )


def install(path: Path) -> Recorder:
    """Probe this process (the gateway's) and write what was seen to ``path`` at exit."""
    from audit import AuditLog
    from governance import AuditTrail, QuotaFlusher, Witnessing

    recorder = Recorder()
    recorder.timed_async("audit_wait", AuditTrail, "append_async")  # an answer's wait
    recorder.timed("audit_commit", AuditLog, "_commit")
    recorder.timed("audit_checkpoint", AuditLog, "_checkpoint")
    recorder.timed("quota_flush", QuotaFlusher, "_flush")
    recorder.timed("witness_round", Witnessing, "run_round")
    gc.callbacks.append(recorder.on_gc)
    atexit.register(recorder.dump, path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so atexit runs
    return recorder


def _heap() -> dict[str, Any]:
    """What a full collection walks at the end: objects the collector tracks outside the
    frozen (start-up) generation, by type."""
    from collections import Counter

    objects = gc.get_objects()
    types = Counter(type(o).__name__ for o in objects)
    return {"tracked": len(objects), "frozen": gc.get_freeze_count(),
            "counts": gc.get_count(), "types": types.most_common(25)}  # fmt: skip


def wrap_app(app: Any, recorder: Recorder) -> Any:
    """The ASGI app with each HTTP request's time inside it recorded, and the ticker
    started with the first request."""
    started = threading.Event()

    async def probed(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if not started.is_set():
            started.set()
            asyncio.get_running_loop().create_task(recorder.ticker())
        start, waited = time.perf_counter(), _WAITED.set([])
        try:
            await app(scope, receive, send)
        finally:
            audit = sum(_WAITED.get() or ())
            _WAITED.reset(waited)
            recorder.requests.append((start, time.perf_counter() - start, audit))

    return probed


def summarise(path: Path, window: tuple[float, float] = (0.0, float("inf"))) -> str:
    """What overlapped the slowest 1 % of the requests that started within ``window``
    (perf_counter seconds: CLOCK_MONOTONIC, the same in every process), and each kind of
    event's count and time."""
    data = json.loads(path.read_text())
    lo, hi = window
    requests = sorted(r for r in data["requests"] if lo <= r[0] < hi)
    events = [e for e in data["events"] if lo <= e[1] < hi]
    if not requests:
        return "no requests in that window"
    durations = sorted(r[1] for r in requests)
    p50, p99 = durations[len(durations) // 2], durations[int(len(durations) * 0.99)]
    slow = [r for r in requests if r[1] >= p99]
    typical = [r for r in requests if r[1] < p99]
    lines = [f"{len(requests)} requests in the app: p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms"]
    lines += _totals(events, requests[-1][0] - requests[0][0] if requests else 1.0)
    lines.append(
        f"time spent waiting for the audit log: {_share(slow)} % of the slowest requests', "
        f"{_share(typical)} % of the others'"
    )
    lines.append(f"the slowest {len(slow)} requests (>= p99) overlapped:")
    overlap: dict[str, int] = defaultdict(int)
    for start, duration, _ in slow:
        for kind in {k for k, s, d in events if s < start + duration and s + d > start}:
            overlap[kind] += 1
    for kind, n in sorted(overlap.items(), key=lambda x: -x[1]):
        lines.append(f"  {kind:18s} {n:6d} ({100 * n / len(slow):.0f} %)")
    return "\n".join(lines)


def _share(requests: list[list[float]]) -> int:
    total = sum(r[1] for r in requests)
    return round(100 * sum(r[2] for r in requests) / total) if total else 0


def _totals(events: list[Event], seconds: float) -> list[str]:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, _, duration in events:
        by_kind[kind].append(duration)
    lines = [f"events over {seconds:.1f} s (count, total ms, max ms, p99 ms):"]
    for kind, ds in sorted(by_kind.items()):
        ds.sort()
        lines.append(
            f"  {kind:18s} {len(ds):6d} {sum(ds) * 1e3:9.1f} {ds[-1] * 1e3:8.1f} "
            f"{ds[int(len(ds) * 0.99)] * 1e3:8.1f}"
        )
    return lines


if __name__ == "__main__":
    print(summarise(Path(sys.argv[1])))
