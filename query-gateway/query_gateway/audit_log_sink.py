"""`MerkleAuditSink`: the audit issue's Merkle log (`audit.log.AuditLog`) as an `AuditSink`.

Entries are validated by `audit.entry.AuditEntry` (a field that looks like an ID number is
refused); any refusal or I/O failure is an `AuditAppendError`, so the request is not answered.
`append_async` queues the entry and awaits its group commit on the event loop (the log's
flusher thread resolves a future), so an answer waits for durability without holding a
worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import asdict

from audit.entry import AuditEntry as LogEntry
from audit.errors import AuditError
from audit.log import AuditLog
from audit.reader import LogReader
from query_gateway.audit_sink import AuditAppendError, AuditEntry, AuditReceipt


class MerkleAuditSink:
    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def append(self, entry: AuditEntry) -> AuditReceipt:
        try:
            receipt = self.log.append(LogEntry(**asdict(entry)))
        except (AuditError, OSError) as exc:
            raise AuditAppendError(type(exc).__name__) from None
        return AuditReceipt(receipt.index, receipt.leaf_hash.hex())

    async def append_async(self, entry: AuditEntry) -> AuditReceipt:
        try:
            pending = self.log.submit(LogEntry(**asdict(entry)))
        except (AuditError, OSError) as exc:
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
            raise AuditAppendError(type(exc).__name__) from None
        return AuditReceipt(receipt.index, receipt.leaf_hash.hex())

    def entry(self, index: int) -> bytes:
        """The exact leaf data of durable entry ``index``."""
        return self.log.entry(index)

    def entries(self) -> Iterator[bytes]:
        """Every durable entry's leaf data, in order (a snapshot read beside the writer)."""
        with LogReader(self.log.directory) as reader:
            yield from reader.entries()

    def close(self) -> None:
        self.log.close()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
