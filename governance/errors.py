"""The refusals a use case raises: one base class, a machine-readable reason, no HTTP.

Each class is one kind of refusal; ``reason`` is a code from a fixed list (docs/api.md), the
class's own by default, never anything a caller sent, an identifier or a stack trace.
Details meant for operators go to the audit trail through ``audit_detail``. How each class
is answered over HTTP (its RFC 9457 type, status, title and detail) is decided once, at the
edge, in the gateway's table (``query_gateway/problems.py``); errors of the other core
packages (the vault's `InvalidIdNumber`, the ledger's errors, ...) are mapped there too.
"""

from __future__ import annotations

from typing import ClassVar


class GatewayError(Exception):
    """Base of every refusal; ``str(exc)`` is its reason code."""

    default_reason: ClassVar[str] = "internal_error"

    def __init__(self, reason: str | None = None, *, audit_detail: str | None = None) -> None:
        self.reason = reason or self.default_reason
        super().__init__(self.reason)
        self.audit_detail = audit_detail


class Unauthenticated(GatewayError):
    """No valid bearer token or session."""

    default_reason = "unauthenticated"


class InvalidDPoPProof(Unauthenticated):
    """A DPoP-bound token without a valid proof of its key for this request (RFC 9449 §7.1:
    missing, malformed, for another method or URL, stale, replayed, another key's)."""

    default_reason = "invalid_dpop_proof"


class InvalidClient(GatewayError):
    """The client's credential (its signed assertion, or a secret where one is allowed) does
    not authenticate it, or the client is disabled."""

    default_reason = "invalid_client"


class InvalidTokenRequest(GatewayError):
    """A token request that is malformed or whose DPoP proof is invalid (RFC 9449 §5:
    ``invalid_dpop_proof``)."""

    default_reason = "invalid_request"


class SignatureRefused(GatewayError):
    """A provider's contribution that is unsigned, or whose signature or signed statement does
    not match the upload and the provider's registered keys (refused before a row is read)."""

    default_reason = "contribution_unsigned"


class UnsupportedGrant(GatewayError):
    default_reason = "unsupported_grant_type"


class WrongRole(GatewayError):
    """The route's policy does not admit the caller's role."""

    default_reason = "forbidden"


class PolicyDenied(GatewayError):
    """A policy decision: no valid approval, no valid consent, wrong hash or purpose, ..."""

    default_reason = "policy_denied"


class BudgetExhausted(GatewayError):
    default_reason = "budget_exhausted"


class QuotaExhausted(GatewayError):
    """The approval's quota is spent; ``retry_after``: seconds until it expires."""

    default_reason = "quota_exhausted"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = max(1, retry_after)


class RateLimited(GatewayError):
    default_reason = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = max(1, retry_after)


class NotFound(GatewayError):
    """No such resource for this caller (also what a resource of someone else's looks like)."""

    default_reason = "not_found"


class Conflict(GatewayError):
    default_reason = "conflict"


class InvalidRequest(GatewayError):
    """The request does not match its schema; ``errors`` hold locations and types only."""

    default_reason = "invalid_request"

    def __init__(self, errors: list[dict[str, object]] | None = None, reason: str | None = None):
        super().__init__(reason)
        self.errors = errors or []


class ContributionRefused(GatewayError):
    """The contribution was refused as a whole; ``receipt`` is its public receipt."""

    default_reason = "contribution_refused"

    def __init__(self, receipt: dict[str, object]) -> None:
        super().__init__()
        self.receipt = receipt


class PayloadTooLarge(GatewayError):
    default_reason = "payload_too_large"


class UnsupportedMediaType(GatewayError):
    default_reason = "unsupported_media_type"


class MethodNotAllowed(GatewayError):
    default_reason = "method_not_allowed"


class AuditUnavailable(GatewayError):
    """The request could not be recorded in the audit trail, so it was not answered."""

    default_reason = "audit_unavailable"


class ServiceUnavailable(GatewayError):
    """A component the use case needs is unavailable."""

    default_reason = "service_unavailable"
