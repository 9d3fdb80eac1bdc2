"""How a serving process logs: one line a record, JSON or text, naming the request.

`configure` replaces the root logger's handlers with one on standard error (uvicorn is
then run with ``log_config=None`` so it keeps them). Every record written while a request
is handled carries its id (`governance.REQUEST_ID`, set by the audit middleware), so an
operator can join a log line to the request's audit entry.

What a record never carries: an exception's message or a traceback's values (a message
can hold the input that caused it: an ID number, a name); only the exception's type and
where it was raised. Our own messages name codes and ids, never a person. Third-party
libraries log at WARNING and above only: at INFO SQLAlchemy would log every statement's
parameters (pseudonyms among them).

The JSON formatter is the standard library's ``json`` over a fixed set of fields, not
python-json-logger: the record's extra attributes are exactly what must not pass through
unexamined, and twenty lines keep the list closed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import traceback
from types import TracebackType
from typing import TextIO

from governance import REQUEST_ID

__all__ = ["JsonFormatter", "TextFormatter", "configure"]

# our packages log at the level asked for; everything else at WARNING and above
OURS = ("dexin", "governance", "query_gateway", "audit", "vault", "ledger", "credit_model",
        "uvicorn")  # fmt: skip


def configure(fmt: str, level: str = "warning", stream: TextIO | None = None) -> logging.Handler:
    """Log every record to ``stream`` (standard error) in ``fmt`` (``json`` | ``text``);
    our packages at ``level``, third-party ones at WARNING. Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in OURS:
        logging.getLogger(name).setLevel(level.upper())
    return handler


def _time(record: logging.LogRecord) -> str:
    stamp = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _where(exc_info: tuple[type[BaseException], BaseException, TracebackType | None]) -> str:
    """The exception's type and the frames it passed (file:line function): no message."""
    kind, _, tb = exc_info
    frames = traceback.extract_tb(tb)[-8:]
    path = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames[::-1])
    return f"{kind.__name__}" + (f" at {path}" if path else "")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, thread, error."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
            "thread": record.threadName,
        }
        if record.exc_info and record.exc_info[0] is not None:
            doc["error"] = _where(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger [request id] message`` (and the error's type and frames)."""

    def format(self, record: logging.LogRecord) -> str:
        rid = REQUEST_ID.get() or "-"
        line = f"{_time(record)} {record.levelname:<7} {record.name} [{rid}] {record.getMessage()}"
        if record.exc_info and record.exc_info[0] is not None:
            line += f" ({_where(record.exc_info)})"
        return line
