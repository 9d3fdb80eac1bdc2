"""The token endpoint's use case: authenticate a client, bind its token to a key, issue it.

A bank or a provider (`KEYED_ROLES`) authenticates with a JWT it signs with its registered
key (``private_key_jwt``, `governance.client_keys`) and must send a DPoP proof
(`governance.dpop`): its token is bound to the proof's key (``cnf.jkt``) and is answered
as ``token_type`` ``DPoP``. Client secrets are refused for them. Other machine clients
(officers' CLI, auditors' witnesses, admins) may still use their secret, or an assertion
if they registered a key; a DPoP proof, if they send one, binds their token too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from governance.client_keys import ASSERTION_TYPE, assertion_issuer, verify_assertion
from governance.credentials import KEYED_ROLES, Principal, Role, issue_token
from governance.dpop import verify_proof
from governance.errors import InvalidClient, InvalidDPoPProof, InvalidTokenRequest
from governance.models import Client

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["IssuedToken", "TokenRequest", "issue_client_token"]


@dataclass(frozen=True)
class TokenRequest:
    """A client-credentials token request as received: ``dpop`` holds every ``DPoP``
    header sent (exactly one is valid); ``url`` the token endpoint's URL and ``issuer`` the
    gateway's issuer identifier, both as clients address them (its public base URL)."""

    client_id: str | None
    client_secret: str | None
    assertion_type: str | None
    assertion: str | None
    dpop: tuple[str, ...]
    url: str
    issuer: str


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    token_type: Literal["DPoP", "Bearer"]
    expires_in: int
    principal: Principal


def issue_client_token(services: Services, request: TokenRequest) -> IssuedToken:
    """Authenticate the client and issue its token. Raises `InvalidClient` (the assertion or
    secret does not authenticate an active client; a bank's or provider's secret) and
    `InvalidTokenRequest` (``invalid_request``: no credential, or two; ``invalid_dpop_proof``:
    a keyed client without a valid proof, or any client with an invalid one)."""
    client = _authenticate(services, request)
    role = Role(client.role)
    jkt = _binding(services, request, required=role in KEYED_ROLES)
    principal = Principal(role=role, client_id=client.client_id, jkt=jkt)
    ttl = services.settings.token_ttl
    token = issue_token(services.keys.token_key, principal, ttl)
    return IssuedToken(token, "DPoP" if jkt else "Bearer", ttl, principal)


def _authenticate(services: Services, request: TokenRequest) -> Client:
    if request.assertion is not None and request.client_secret is not None:
        raise InvalidTokenRequest(audit_detail="two_credentials")
    if request.assertion is not None:
        return _by_assertion(services, request)
    if request.client_secret is not None and request.client_id is not None:
        return services.control.authenticate(request.client_id, request.client_secret)
    raise InvalidTokenRequest(audit_detail="no_credential")


def _by_assertion(services: Services, request: TokenRequest) -> Client:
    assert request.assertion is not None
    if request.assertion_type != ASSERTION_TYPE:
        raise InvalidTokenRequest(audit_detail="assertion_type")
    client_id = assertion_issuer(request.assertion)
    if request.client_id is not None and request.client_id != client_id:
        raise InvalidClient(audit_detail="client_id_mismatch")
    client = services.control.active_client(client_id)
    if client is None:
        raise InvalidClient(audit_detail="unknown_client")
    keys = services.control.keys.keys_at(client_id)
    verify_assertion(request.assertion, client_id=client_id, keys=keys, issuer=request.issuer,
                     replay=services.replay)  # fmt: skip
    return client


def _binding(services: Services, request: TokenRequest, *, required: bool) -> str | None:
    """The thumbprint the token is bound to (the DPoP proof's key), or None (no proof, and
    none required)."""
    if not request.dpop and not required:
        return None
    if len(request.dpop) != 1:
        detail = "dpop_missing" if not request.dpop else "dpop_several"
        raise InvalidTokenRequest("invalid_dpop_proof", audit_detail=detail)
    try:
        return verify_proof(request.dpop[0], method="POST", url=request.url,
                            replay=services.replay)  # fmt: skip
    except InvalidDPoPProof as exc:
        raise InvalidTokenRequest("invalid_dpop_proof", audit_detail=exc.audit_detail) from None
