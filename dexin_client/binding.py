"""What a signed score must say about whom it answers (``subject_binding``, docs/api.md)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from dexin_client._jose import SignatureError

__all__ = ["BINDING_CONTEXT", "BindingError", "check_binding", "subject_binding"]

BINDING_CONTEXT = "dexin-subject-binding/v1"


class BindingError(SignatureError):
    """A signed score that is not about what was asked (another bank, access request or
    person): keep it as evidence, never use it."""


def subject_binding(*, consent_id: str, bank: str, access_request_id: str, id_number: str) -> str:
    """HMAC-SHA256, keyed by the consent id, over ``dexin-subject-binding/v1`` LF bank LF
    access request id LF ID number (hex): what a signed score's ``subject_binding`` must be
    (docs/api.md). Written here, not imported from the server."""
    message = "\n".join((BINDING_CONTEXT, bank, access_request_id, id_number)).encode()
    return hmac.new(consent_id.encode(), message, hashlib.sha256).hexdigest()


def check_binding(
    body: dict[str, Any], *, bank: str, access_request_id: str, consent_id: str, id_number: str
) -> None:
    """Raise `BindingError` unless the signed ``body`` names ``bank`` and
    ``access_request_id`` and binds the holder of ``id_number`` under ``consent_id``. A
    third party (a court shown the body, the ID number and the consent id) runs the same."""
    expected = subject_binding(consent_id=consent_id, bank=bank,
                               access_request_id=access_request_id, id_number=id_number)  # fmt: skip
    if body.get("bank") != bank or body.get("access_request_id") != access_request_id:
        raise BindingError("the answer names another bank or access request")
    if not hmac.compare_digest(str(body.get("subject_binding", "")), expected):
        raise BindingError("the answer is about another person")
