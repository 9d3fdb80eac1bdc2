"""The subject binding of a signed score (issue 13, finding 8).

A signed score used to name no subject, bank or access request, so a bank could present one
person's signed score as another's. The signed body now carries ``bank``,
``access_request_id`` and ``subject_binding``::

    subject_binding = hex(HMAC-SHA256(key = consent id,
                                      msg = "dexin-subject-binding/v1" LF bank LF
                                            access request id LF ID number))

The bank knows every input (it sent them), so it can check the binding on receipt; a third
party (a court, an auditor) shown the signed body, the ID number and the consent id (which
the audit entry at the body's ``audit.index`` names) recomputes it. The binding reveals
nothing new: the body does not carry the consent id, a random 96-bit value, so whoever holds
only the body cannot test guesses of the ID number against it.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["BINDING_CONTEXT", "subject_binding"]

BINDING_CONTEXT = "dexin-subject-binding/v1"


def subject_binding(*, consent_id: str, bank: str, access_request_id: str, id_number: str) -> str:
    """The binding (lowercase hex) of a score about the holder of ``id_number`` (as the bank
    sent it: 17 digits and a digit or ``X``), answered to ``bank`` under
    ``access_request_id`` and ``consent_id``.

    >>> subject_binding(consent_id="cs_000000000000000000000000", bank="bank_x",
    ...                 access_request_id="ar_000000000000000000000000",
    ...                 id_number="11010519491231002X")
    'db8339cefd28a5f4d78ef78b7a3031adea5e62035c647b7d619cd48ec4f03570'
    """
    message = "\n".join((BINDING_CONTEXT, bank, access_request_id, id_number)).encode()
    return hmac.new(consent_id.encode(), message, hashlib.sha256).hexdigest()
