"""`Metrics`: what an operator of a gateway watches, in Prometheus's format (issue 16 §3).

One `Metrics` per gateway process (`Services.metrics`), on a registry of its own, never
prometheus_client's global one: two gateways in one test process count apart. `dexin
serve` serves the registry on an operator port (``DEXIN_METRICS_PORT``), never on the
public app.

The answer path only increments counters and observes histograms (a microsecond or two
each, children cached per label set). What needs reading state — the log's size, the
latest checkpoint, the anchoring lag, the control plane's snapshots, the ledger's health
— is read when Prometheus scrapes, on the metrics server's thread (`watch`).

Labels are bounded by construction: computations come from the catalogue, reasons are the
fixed machine codes, decisions ``allow`` | ``deny``, statuses a round's few. No label or
value ever carries an identifier of a person, a client, a request or a consent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["Metrics", "Watched"]

# seconds: an answer takes milliseconds; a stalled one hundreds
REQUEST_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
ROUND_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)
LEDGER_CHECK_SECONDS = 10.0  # a scrape asks the ledger at most this often


class Metrics:
    """The gateway's instruments on a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._answers = Counter("dexin_answers", "Requests answered, by computation, "
                                "decision and the denial's reason code",
                                ["computation", "decision", "reason"], registry=r)  # fmt: skip
        self._request_seconds = Histogram("dexin_request_seconds", "Time from a request's "
                                          "arrival to its answer being released, seconds",
                                          buckets=REQUEST_BUCKETS, registry=r)  # fmt: skip
        self.audit_commit_seconds = Histogram(
            "dexin_audit_commit_seconds",
            "Time an answer waited for its audit entry to become durable (group commit)",
            buckets=COMMIT_BUCKETS, registry=r,
        )  # fmt: skip
        self._audit_failures = Counter("dexin_audit_append_failures", "Audit entries that "
                                       "could not be made durable (the request was refused)",
                                       ["error"], registry=r)  # fmt: skip
        self._rounds = Counter("dexin_witness_rounds", "Witnessing rounds, by outcome",
                               ["status"], registry=r)  # fmt: skip
        self.round_seconds = Histogram("dexin_witness_round_seconds", "Duration of a "
                                       "witnessing round", buckets=ROUND_BUCKETS, registry=r)  # fmt: skip
        self._quota = Counter("dexin_quota_spent", "Quota units spent, by computation",
                              ["computation"], registry=r)  # fmt: skip
        self._epsilon = Counter("dexin_epsilon_spent", "Privacy budget (ε) spent, by "
                                "computation", ["computation"], registry=r)  # fmt: skip
        self._snapshot_loads = Counter("dexin_snapshot_loads", "Approvals and consents read "
                                       "from the database into the answer path's snapshots",
                                       ["kind"], registry=r)  # fmt: skip
        self._children: dict[tuple[str, str, str], Any] = {}
        self._last_round = 0.0

    # -- the answer path (cheap) --------------------------------------------------------------

    def answered(self, context: Mapping[str, Any], allowed: bool, seconds: float) -> None:
        """One request answered: its computation and, if denied, its reason code (both from
        the audit context the request filled)."""
        key = (
            str(context.get("computation") or "none"),
            "allow" if allowed else "deny",
            "none" if allowed else str(context.get("reason") or "unspecified"),
        )
        child = self._children.get(key)
        if child is None:  # labels() takes a lock and builds a tuple: once per label set
            child = self._children.setdefault(key, self._answers.labels(*key))
        child.inc()
        self._request_seconds.observe(seconds)

    def audit_failed(self, error: BaseException) -> None:
        self._audit_failures.labels(type(error).__name__).inc()

    def quota_spent(self, computation: str) -> None:
        self._quota.labels(computation).inc()

    def epsilon_spent(self, computation: str, epsilon: float) -> None:
        self._epsilon.labels(computation).inc(epsilon)

    def snapshot_loaded(self, kind: str) -> None:
        self._snapshot_loads.labels(kind).inc()

    # -- background work ----------------------------------------------------------------------

    def round_done(self, status: str, seconds: float) -> None:
        """A witnessing round ended: ``anchored``, ``waiting`` or ``failed``."""
        self._rounds.labels(status).inc()
        self.round_seconds.observe(seconds)
        self._last_round = time.time()

    def watch(self, watched: Watched) -> None:
        """Read ``watched`` at every scrape (log, checkpoints, anchoring, snapshots, ledger)."""
        self.registry.register(_StateCollector(watched, self))

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format (what /metrics serves)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class _Log(Protocol):
    @property
    def size(self) -> int: ...
    def latest_checkpoint(self) -> Any: ...
    def checkpoints(self) -> Any: ...


class _Witnessing(Protocol):
    def anchored_size(self) -> int: ...


class _Ledger(Protocol):
    def status(self) -> Any: ...


@dataclass
class Watched:
    """What a scrape reads; any part may be missing (a test's in-memory audit sink has no
    log, a gateway without the Merkle log has no witnessing)."""

    log: _Log | None = None
    witnessing: _Witnessing | None = None
    ledger: _Ledger | None = None
    snapshots: Callable[[], Mapping[str, tuple[int, float]]] | None = None


class _StateCollector(Collector):
    """Gauges read from the running components when Prometheus scrapes."""

    def __init__(self, watched: Watched, metrics: Metrics) -> None:
        self._w = watched
        self._metrics = metrics
        self._ledger: tuple[float, float, float] | None = None  # (checked at, up, height)
        self._ledger_lock = threading.Lock()

    def collect(self) -> Iterable[Metric]:
        yield from self._log()
        yield from self._anchoring()
        yield from self._snapshots()
        yield from self._ledger_health()
        if self._metrics._last_round:
            yield _gauge("dexin_witness_last_round_timestamp_seconds",
                         "When the last witnessing round ended (Unix time)",
                         self._metrics._last_round)  # fmt: skip

    def _log(self) -> Iterable[Metric]:
        log = self._w.log
        if log is None:
            return
        yield _gauge("dexin_audit_log_entries", "Durable entries in the audit log", log.size)
        latest = log.latest_checkpoint()
        if latest is None:
            return
        size = latest.checkpoint.size
        yield _gauge("dexin_audit_checkpoint_entries", "Size of the latest signed checkpoint", size)
        yield _gauge("dexin_audit_checkpoint_age_seconds", "Seconds since the latest checkpoint "
                     "was signed", _age(log.checkpoints().path(size)))  # fmt: skip

    def _anchoring(self) -> Iterable[Metric]:
        log, witnessing = self._w.log, self._w.witnessing
        if log is None or witnessing is None:
            return
        anchored = witnessing.anchored_size()
        history = log.checkpoints()
        waiting = [n for n in history.sizes() if n > anchored]
        yield _gauge("dexin_anchored_entries", "Size of the newest checkpoint anchored on the "
                     "ledger with its witnesses' cosignatures", anchored)  # fmt: skip
        yield _gauge("dexin_anchoring_lag_entries", "Checkpointed entries not yet anchored",
                     max(waiting, default=anchored) - anchored)  # fmt: skip
        yield _gauge("dexin_anchoring_lag_seconds", "Age of the oldest checkpoint not yet "
                     "anchored (0: all anchored)",
                     _age(history.path(waiting[0])) if waiting else 0.0)  # fmt: skip

    def _snapshots(self) -> Iterable[Metric]:
        if self._w.snapshots is None:
            return
        count = GaugeMetricFamily("dexin_snapshots", "Approvals and consents the answer path "
                                  "holds in memory", labels=["kind"])  # fmt: skip
        age = GaugeMetricFamily("dexin_snapshot_oldest_age_seconds", "Age of the oldest "
                                "snapshot the answer path trusts (changes written behind the "
                                "gateway's back are unseen this long)", labels=["kind"])  # fmt: skip
        for kind, (n, oldest) in sorted(self._w.snapshots().items()):
            count.add_metric([kind], n)
            age.add_metric([kind], oldest)
        yield count
        yield age

    def _ledger_health(self) -> Iterable[Metric]:
        if self._w.ledger is None:
            return
        up, height = self._ledger_status()
        yield _gauge("dexin_ledger_up", "1 if the ledger answered its last health check", up)
        if up:
            yield _gauge("dexin_ledger_height", "The ledger's latest block number", height)

    def _ledger_status(self) -> tuple[float, float]:
        """(up, height), asked at most every LEDGER_CHECK_SECONDS: on the embedded chain the
        call runs EVM code in this process, which must not become a periodic stall."""
        with self._ledger_lock:
            now = time.monotonic()
            if self._ledger is None or now - self._ledger[0] >= LEDGER_CHECK_SECONDS:
                self._ledger = (now, *_ask(self._w.ledger))
            return self._ledger[1], self._ledger[2]


def _ask(ledger: _Ledger | None) -> tuple[float, float]:
    try:
        return 1.0, float(ledger.status().height) if ledger is not None else 0.0
    except Exception:  # unreachable, refused, closed: the gauge says so; details in its logs
        return 0.0, 0.0


def _age(path: Any) -> float:
    try:
        return max(0.0, time.time() - float(path.stat().st_mtime))
    except OSError:
        return 0.0


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
