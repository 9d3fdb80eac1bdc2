"""What a log record may carry of the request being handled: its id, and nothing else.

`REQUEST_ID` is set by the gateway's audit middleware for the whole of a request (tasks
and worker threads it starts inherit it) and read by the log formatter (`dexin.logs`), so
every record written while a request is handled names it, and an operator can join the
log with the audit trail (the entry's ``request_id``) without the log holding anything
about the person the request was about.
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["REQUEST_ID"]

REQUEST_ID: ContextVar[str | None] = ContextVar("dexin_request_id", default=None)
