"""Answers a bank may retry: the ``Idempotency-Key`` header of ``POST /v1/scores`` and ``POST
/v1/aggregates`` (`governance.idempotency`), handled once for both routes.

Without the header a request is answered as always. With it, the first request claims the
key, is answered and audited, and its exact bytes and signature are kept; a retry with the
same key and body gets them again (``Idempotent-Replayed: true``) after its own audit
entry, and spends nothing. A refused or failed request releases its key.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

import anyio
from fastapi import Request, Response
from sqlalchemy.exc import SQLAlchemyError

from governance import (
    SIGNATURE_HEADER,
    Principal,
    StoredAnswer,
    audit_answer,
    audit_replay,
    fingerprint,
    idempotency_key,
)
from query_gateway.gateway import Services

log = logging.getLogger("query_gateway")

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_DOC = {
    "parameters": [{
        "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
        "description": "Retry safely: a retry with the same key and body within 24 hours gets "
                       "the same signed answer and spends nothing (docs/api.md).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,64}$"},
    }]
}  # fmt: skip


def signed_response(body: bytes, signature: str | None, *, replayed: bool = False) -> Response:
    headers = {SIGNATURE_HEADER: signature} if signature else {}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return Response(body, media_type="application/json", headers=headers)


async def answer_once(
    request: Request,
    gw: Services,
    who: Principal,
    *,
    action: str,
    body: str,
    access_request_id: str,
    kind: Literal["subject", "aggregate"],
    answer: Callable[[], Awaitable[Response]],
    replayed: Mapping[str, Any] | None = None,
) -> Response:
    """``answer()``, or the answer kept for this request's ``Idempotency-Key`` (its audit
    entry also records ``replayed``: what the original's recorded, e.g. its parameters,
    checked when the original was answered: the body is the same)."""
    key = idempotency_key(request.headers.get(IDEMPOTENCY_HEADER))
    if key is None:
        return await answer()
    client = who.client_id
    assert client is not None
    store = gw.control.answers
    stored = await anyio.to_thread.run_sync(store.claim, client, key, fingerprint(action, body))
    if stored is not None:
        request.state.audit.update(replayed or {})
        await audit_replay(gw, who, stored, access_request_id=access_request_id, kind=kind,
                           context=request.state.audit, action=action,
                           request_id=request.state.request_id)  # fmt: skip
        request.state.audited = True
        return signed_response(stored.body, stored.signature, replayed=True)
    try:
        response = await _answered(request, gw, action, answer)
    except Exception:
        await anyio.to_thread.run_sync(store.release, client, key)
        raise
    kept = StoredAnswer(bytes(response.body), response.headers.get(SIGNATURE_HEADER))
    try:
        await anyio.to_thread.run_sync(store.keep, client, key, kept)
    except SQLAlchemyError:  # answered and audited all the same; the claim lapses in 60 s
        log.warning("an idempotent answer could not be kept (request %s)", request.state.request_id)
    return response


async def _answered(
    request: Request, gw: Services, action: str, answer: Callable[[], Awaitable[Response]]
) -> Response:
    """The answer, its audit entry durable before it is kept (a route that did not audit
    it itself, as the score route does, has it appended here)."""
    response = await answer()
    if not getattr(request.state, "audited", False):
        await audit_answer(gw, request.state.audit, action=action,
                           request_id=request.state.request_id, body=bytes(response.body))  # fmt: skip
        request.state.audited = True
    return response
