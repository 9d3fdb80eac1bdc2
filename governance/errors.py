"""The gateway's errors: one base class, a fixed public message per class, fields not strings.

Each error maps once, at the edge (`problems.py`), to an RFC 9457 problem document whose
``type`` is ``urn:dexin:problem:<code>``. ``reason`` is a machine-readable code from a fixed
list (docs/api.md); nothing a caller sent, no identifier and no stack trace is ever echoed.
Details meant for operators go to the audit trail through ``audit_detail``.
"""

from __future__ import annotations

from typing import ClassVar

PROBLEM_BASE = "urn:dexin:problem:"


class GatewayError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    detail: ClassVar[str] = "The request could not be completed."

    def __init__(self, reason: str | None = None, *, audit_detail: str | None = None) -> None:
        super().__init__(self.title)
        self.reason = reason or self.code.replace("-", "_")
        self.audit_detail = audit_detail

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.code


class Unauthenticated(GatewayError):
    status, code, title = 401, "unauthenticated", "Authentication required"
    detail = "Present a valid bearer token (POST /v1/oauth/token)."


class InvalidDPoPProof(Unauthenticated):
    """A DPoP-bound token without a valid proof of its key for this request (RFC 9449 §7.1:
    missing, malformed, for another method or URL, stale, replayed, another key's)."""

    status, code, title = 401, "invalid-dpop-proof", "Invalid DPoP proof"
    detail = "A DPoP-bound token needs a valid DPoP proof of its key for this request (RFC 9449)."


class InvalidTokenRequest(GatewayError):
    """A token request that is malformed or whose DPoP proof is invalid (RFC 9449 §5:
    ``invalid_dpop_proof``)."""

    status, code, title = 400, "invalid-token-request", "Invalid token request"
    detail = "The token request is malformed or its DPoP proof is invalid; see reason."

    def __init__(self, reason: str | None = None, *, audit_detail: str | None = None) -> None:
        super().__init__(reason or "invalid_request", audit_detail=audit_detail)


class SignatureRefused(GatewayError):
    """A provider's contribution that is unsigned, or whose signature or signed statement does
    not match the upload and the provider's registered keys (refused before a row is read)."""

    status, code, title = 422, "signature-refused", "Contribution signature refused"
    detail = ("The contribution must be signed by the provider's registered key over exactly "
              "this upload; see reason.")


class InvalidClient(GatewayError):
    status, code, title = 401, "invalid-client", "Client authentication failed"
    detail = "The client id or secret is wrong, or the client is disabled."


class UnsupportedGrant(GatewayError):
    status, code, title = 400, "unsupported-grant-type", "Unsupported grant type"
    detail = "Only grant_type=client_credentials is supported."


class WrongRole(GatewayError):
    status, code, title = 403, "forbidden", "Not allowed for this role"
    detail = "This route's policy does not allow the caller's role."


class PolicyDenied(GatewayError):
    """A policy decision: no valid approval, no valid consent, wrong hash or purpose, ..."""

    status, code, title = 403, "policy-denied", "Refused by policy"
    detail = "The request is not covered by a valid approval and consent; see reason."


class BudgetExhausted(GatewayError):
    status, code, title = 403, "budget-exhausted", "Privacy budget exhausted"
    detail = "This approval's privacy budget cannot pay for the query."


class QuotaExhausted(GatewayError):
    status, code, title = 429, "quota-exhausted", "Quota exhausted"
    detail = "This approval's quota is spent; a new approval is needed."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = max(1, retry_after)


class RateLimited(GatewayError):
    status, code, title = 429, "rate-limited", "Too many requests"
    detail = "Slow down and retry after the number of seconds in Retry-After."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = max(1, retry_after)


class NotFound(GatewayError):
    status, code, title = 404, "not-found", "Not found"
    detail = "No such resource for this caller."


class Conflict(GatewayError):
    status, code, title = 409, "conflict", "Conflicting state"
    detail = "The resource is not in a state that allows this; see reason."


class InvalidRequest(GatewayError):
    status, code, title = 422, "invalid-request", "Invalid request"
    detail = "The request does not match the schema; see errors (locations only)."

    def __init__(self, errors: list[dict[str, object]] | None = None, reason: str | None = None):
        super().__init__(reason)
        self.errors = errors or []


class InvalidIdNumber(GatewayError):
    status, code, title = 422, "invalid-id-number", "Invalid ID number"
    detail = "The ID number is malformed (length, characters, date or check digit)."


class ContributionRefused(GatewayError):
    status, code, title = 422, "contribution-refused", "Contribution refused"
    detail = "The contribution was refused as a whole; see the receipt."

    def __init__(self, receipt: dict[str, object]) -> None:
        super().__init__()
        self.receipt = receipt


class PayloadTooLarge(GatewayError):
    status, code, title = 413, "payload-too-large", "Request body too large"
    detail = "The request body exceeds the size limit."


class UnsupportedMediaType(GatewayError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"
    detail = "Send application/json (or the form/multipart type the route documents)."


class MethodNotAllowed(GatewayError):
    status, code, title = 405, "method-not-allowed", "Method not allowed"
    detail = "This route does not accept that method."


class AuditUnavailable(GatewayError):
    status, code, title = 503, "audit-unavailable", "Audit trail unavailable"
    detail = "The request could not be recorded in the audit trail, so it was not answered."


class ServiceUnavailable(GatewayError):
    status, code, title = 503, "service-unavailable", "Service unavailable"
    detail = "A component the gateway needs is unavailable; retry later."
