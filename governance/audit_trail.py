"""The audit trail as the gateway uses it: every access appended *before* it is answered.

`AuditSink` is the narrow interface (`append` returns only once the entry is durable, with
its position, or raises `AuditAppendError`: the request is then not answered);
`AuditTrail` is its one implementation, over the Merkle log (`audit.MerkleLog`: the file log
or the PostgreSQL one). Entries
are `audit.entry.AuditEntry` values, validated when built: a field that looks like an ID
number is refused, which is an `AuditAppendError` too (fail closed).

`append_async` queues the entry and awaits its group commit on the event loop (the log's
flusher thread resolves a future), so an answer waits for durability without holding a
worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import anyio

from audit import AuditEntry, AuditError, Decision, MerkleLog
from governance.metrics import Metrics

__all__ = [
    "AuditAppendError",
    "AuditReceipt",
    "AuditSink",
    "AuditTrail",
    "append_durably",
    "make_entry",
]


class AuditAppendError(Exception):
    """The entry is not durable (or was refused); the request it records must not be answered."""


@dataclass(frozen=True)
class AuditReceipt:
    """Where the entry sits in the log and the RFC 6962 leaf hash of its exact bytes (hex)."""

    index: int
    leaf_hash: str


class AuditSink(Protocol):
    def append(self, entry: AuditEntry) -> AuditReceipt: ...
    def close(self) -> None: ...


# "parameters": the computation's parameters as a dict of strings (an aggregate's; the entry
# records their canonical JSON, format version 2)
CONTEXT_FIELDS = ("computation", "purpose", "access_request", "consent", "subject", "parameters")


def make_entry(
    context: Mapping[str, Any],
    *,
    action: str,
    decision: Decision,
    request_id: str,
    reason: str | None = None,
    result_digest: str | None = None,
) -> AuditEntry:
    """The entry of one request, stamped now, from what its handling noted in ``context``
    (``actor``, ``role`` and the `CONTEXT_FIELDS` it reached). A refused field is an
    `AuditAppendError`, so the request is answered 503, never 500."""
    try:
        return AuditEntry.create(
            actor=context["actor"],
            role=context["role"],
            action=action,
            decision=decision,
            request_id=request_id,
            reason=reason,
            result_digest=result_digest,
            **{name: context.get(name) for name in CONTEXT_FIELDS},
        )
    except AuditError as exc:
        raise AuditAppendError(type(exc).__name__) from None


async def append_durably(sink: AuditSink, entry: AuditEntry) -> AuditReceipt:
    """Append from the event loop: awaited on the loop if the sink can (``append_async``),
    else in a worker thread. Raises what ``append`` raises."""
    native = getattr(sink, "append_async", None)
    if native is not None:
        receipt: AuditReceipt = await native(entry)
        return receipt
    return await anyio.to_thread.run_sync(sink.append, entry)


class AuditTrail:
    """`AuditSink` over the Merkle log; also reads entries back ("who accessed me")."""

    def __init__(self, log: MerkleLog[Any], metrics: Metrics | None = None) -> None:
        self.log = log
        self.metrics = metrics or Metrics()  # commit latency, failures
        self._on_durable: list[Callable[[int, AuditEntry], None]] = []

    def on_durable(self, callback: Callable[[int, AuditEntry], None]) -> None:
        """Call ``callback(index, entry)`` for every entry this trail appends, once durable
        (before its append returns; it must not raise): feeds `governance.accesses`."""
        self._on_durable.append(callback)

    def _durable(self, index: int, entry: AuditEntry) -> None:
        for callback in self._on_durable:
            callback(index, entry)

    def append(self, entry: AuditEntry) -> AuditReceipt:
        started = time.perf_counter()
        try:
            receipt = self.log.append(entry)
        except (AuditError, OSError) as exc:
            self.metrics.audit_failed(exc)
            raise AuditAppendError(type(exc).__name__) from None
        self.metrics.audit_commit_seconds.observe(time.perf_counter() - started)
        self._durable(receipt.index, entry)
        return AuditReceipt(receipt.index, receipt.leaf_hash.hex())

    async def append_async(self, entry: AuditEntry) -> AuditReceipt:
        started = time.perf_counter()
        try:
            pending = self.log.submit(entry)
        except (AuditError, OSError) as exc:
            self.metrics.audit_failed(exc)
            raise AuditAppendError(type(exc).__name__) from None
        loop = asyncio.get_running_loop()
        durable: asyncio.Future[None] = loop.create_future()

        def wake() -> None:  # on the log's flusher thread: it must never raise there
            with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
                loop.call_soon_threadsafe(_resolve, durable)

        pending.batch.add_done_callback(wake)
        await durable
        try:
            receipt = self.log.receipt(pending)
        except AuditError as exc:
            self.metrics.audit_failed(exc)
            raise AuditAppendError(type(exc).__name__) from None
        self.metrics.audit_commit_seconds.observe(time.perf_counter() - started)
        self._durable(receipt.index, entry)
        return AuditReceipt(receipt.index, receipt.leaf_hash.hex())

    def entry(self, index: int) -> bytes:
        """The exact leaf data of durable entry ``index``."""
        return self.log.entry(index)

    def size(self) -> int:
        """How many entries the log holds now, from every process that appends to it."""
        return self.log.size

    def entries(self) -> Iterator[bytes]:
        """Every durable entry's leaf data, in order (a snapshot read beside the writer)."""
        with self.log.reader() as reader:
            yield from reader.entries()

    def close(self) -> None:
        self.log.close()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
