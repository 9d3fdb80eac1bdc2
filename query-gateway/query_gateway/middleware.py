"""Two ASGI layers around the application: audit before answer, and bounded bodies.

`AuditMiddleware` holds each response back until the request's audit entry is durable: a
route that needs the entry's position in its answer (scores) appends it itself and marks
the request audited; for every other request, allowed or denied, the middleware appends
it. If the append fails the caller gets a 503 problem and nothing of the answer. An
unexpected exception becomes a bare 500 problem (audited as well), never a stack trace.

`BodyLimitMiddleware` refuses a body above the limit from its Content-Length, or once the
bytes received exceed it (chunked uploads), with 413.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audit import AuditEntry
from governance import (
    REQUEST_ID,
    AuditAppendError,
    AuditSink,
    AuditUnavailable,
    GatewayError,
    Metrics,
    PayloadTooLarge,
    append_durably,
    make_entry,
    new_id,
)
from query_gateway.problems import problem_response, reason_of

log = logging.getLogger("query_gateway")


class AuditMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        sink: Callable[[], AuditSink],
        metrics: Callable[[], Metrics] | None = None,
    ) -> None:
        self.app = app
        self.sink = sink
        self.metrics = metrics  # answers and denials counted once released (issue 16)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_id("req", 10)
        bound = REQUEST_ID.set(request_id)  # every log record of this request names it
        try:
            await self._answer(scope, receive, send, request_id)
        finally:
            REQUEST_ID.reset(bound)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["audit"] = {"actor": "anonymous", "role": "anonymous"}
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, hold)
        except Exception as exc:  # never leak it; audit it like any other answer
            log.error(
                "unexpected %s on %s %s (request %s)",
                type(exc).__name__,
                scope.get("method"),
                _route(scope),  # the template: a raw path can hold what a caller typed
                request_id,
            )
            state["audit"]["reason"] = "internal_error"
            messages = _messages(GatewayError(), request_id)
        if not state.get("audited"):
            try:
                await append_durably(self.sink(), _entry(scope, state, messages, request_id))
            except (AuditAppendError, OSError):
                state["audit"]["reason"] = "audit_unavailable"
                messages = _messages(AuditUnavailable(), request_id)
        for message in messages:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"dexin-request-id", request_id.encode()))
            await send(message)
        self._answered(scope, state, messages, time.perf_counter() - started)

    def _answered(
        self, scope: Scope, state: dict[str, Any], messages: list[Message], seconds: float
    ) -> None:
        """Count the answer (issue 16) and log it: method, route template, status, reason
        (never the raw path, a body or anything the audit context holds)."""
        status = next(m["status"] for m in messages if m["type"] == "http.response.start")
        if self.metrics is not None:
            self.metrics().answered(state["audit"], status < 400, seconds)
        log.info("%s %s %d %s %.1f ms", scope.get("method", "?"), _route(scope), status,
                 state["audit"].get("reason") or "-", seconds * 1e3)  # fmt: skip


def _messages(error: Exception, request_id: str) -> list[Message]:
    response = problem_response(error, request_id)
    return [
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        },
        {"type": "http.response.body", "body": response.body, "more_body": False},
    ]


def _entry(scope: Scope, state: dict[str, Any], messages: list[Message], rid: str) -> AuditEntry:
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    audit = state["audit"]
    allowed = status < 400
    return make_entry(
        audit,
        action=f"{scope.get('method', '?')} {_route(scope)}",
        decision="allow" if allowed else "deny",
        request_id=rid,
        reason=audit.get("reason") if not allowed else None,
        result_digest=hashlib.sha256(body).hexdigest() if allowed else None,
    )


def _route(scope: Scope) -> str:
    """The route template (``/v1/access-requests/{id}``), never the raw path's values."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(no route)"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int, upload_limit: int, upload_paths: set[str]):
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope.get("path") in self.upload_paths else self.limit
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _send_problem(send, PayloadTooLarge(), scope)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge()
            return message

        await self.app(scope, counting, send)


async def _send_problem(send: Send, error: Exception, scope: Scope) -> None:
    state = scope.setdefault("state", {})
    state.setdefault("audit", {})["reason"] = reason_of(error)
    for message in _messages(error, state.get("request_id", "-")):
        await send(message)
