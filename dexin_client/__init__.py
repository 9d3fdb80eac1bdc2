"""A Python client for banks (and other clients) of the Dexin query gateway.

    client = DexinClient("http://127.0.0.1:8000", client_id, client_secret)
    request = client.request_access("morality_credit_score", purpose="credit_assessment",
                                    valid_until="2027-06-30T00:00:00Z", quota=1000)
    # ... officers approve; the applicant consents and hands over the consent id ...
    score = client.score(id_number, purpose="credit_assessment",
                         access_request_id=request["id"], consent_id=consent_id)

`score` verifies the response's detached JWS against the gateway's published JWKS before
returning (`SignatureError` otherwise), then that the signed body is about what was asked:
this bank, this access request and this ID number (`subject_binding`; `BindingError`
otherwise), and returns the body with its signature, so the bank can keep both and prove
later what it was told. Errors are `GatewayProblem` carrying the RFC 9457 fields.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "BindingError",
    "DexinClient",
    "GatewayProblem",
    "SignatureError",
    "SignedAnswer",
    "check_binding",
    "subject_binding",
    "verify_detached",
]

SIGNATURE_HEADER = "Dexin-Signature"
BINDING_CONTEXT = "dexin-subject-binding/v1"


class SignatureError(Exception):
    """An answer whose detached JWS does not verify against the gateway's published keys."""


def verify_detached(jws: str, body: bytes, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify a detached EdDSA JWS (RFC 7515 Appendix F, RFC 8037) over ``body`` with the
    key it names in ``jwks``; returns its header. Written here, not imported from the
    server: a bank runs this package on its own. Raises `SignatureError`."""
    try:
        header_b64, payload, signature_b64 = jws.split(".")
        header = json.loads(_b64url_decode(header_b64))
        signature = _b64url_decode(signature_b64)
    except ValueError:
        raise SignatureError("malformed detached JWS") from None
    if payload or header.get("alg") != "EdDSA":
        raise SignatureError("not a detached EdDSA JWS")
    jwk = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if jwk is None or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise SignatureError("unknown key")
    signed = f"{header_b64}.{_b64url(body)}".encode()
    try:
        Ed25519PublicKey.from_public_bytes(_b64url_decode(jwk["x"])).verify(signature, signed)
    except (InvalidSignature, ValueError):
        raise SignatureError("signature does not verify") from None
    return dict(header)


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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class GatewayProblem(Exception):
    """An RFC 9457 problem answered by the gateway."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('title', '')} ({problem.get('reason', '')})")
        self.status = status
        self.type = str(problem.get("type", "about:blank"))
        self.reason = problem.get("reason")
        self.retry_after: int | None = None
        self.problem = problem


@dataclass(frozen=True)
class SignedAnswer:
    body: dict[str, Any]
    raw: bytes
    signature: str


class DexinClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._id = client_id
        self._secret = client_secret
        self._token: str | None = None
        self._expires = 0.0
        self._jwks: dict[str, Any] | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DexinClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- calls ------------------------------------------------------------------------------

    def computations(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v1/computations").json())

    def computation_hash(self, computation: str) -> str:
        return next(str(c["hash"]) for c in self.computations() if c["id"] == computation)

    def request_access(self, computation: str, **terms: Any) -> dict[str, Any]:
        body = {"computation": computation, "computation_hash": self.computation_hash(computation)}
        return dict(self._call("POST", "/v1/access-requests", json=body | terms).json())

    def access_request(self, request_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/access-requests/{request_id}").json())

    def score(
        self, id_number: str, *, purpose: str, access_request_id: str, consent_id: str
    ) -> SignedAnswer:
        r = self._call(
            "POST",
            "/v1/scores",
            json={
                "id_number": id_number,
                "purpose": purpose,
                "access_request_id": access_request_id,
                "consent_id": consent_id,
            },
        )
        signature = r.headers.get(SIGNATURE_HEADER, "")
        self.verify(signature, r.content)
        body = dict(r.json())
        check_binding(body, bank=self._id, access_request_id=access_request_id,
                      consent_id=consent_id, id_number=id_number)  # fmt: skip
        return SignedAnswer(body, r.content, signature)

    def aggregate(
        self,
        computation: str,
        access_request_id: str,
        *,
        epsilon: float = 0.1,
        parameters: dict[str, str] | None = None,
        preview: bool = False,
    ) -> dict[str, Any]:
        body = {
            "computation": computation,
            "access_request_id": access_request_id,
            "epsilon": epsilon,
            "parameters": parameters or {},
            "preview": preview,
        }
        return dict(self._call("POST", "/v1/aggregates", json=body).json())

    # -- witnesses --------------------------------------------------------------------------

    def checkpoint_to_cosign(self) -> str | None:
        """The signed checkpoint note the gateway collects cosignatures for (None if none)."""
        r = self._http.get("/v1/audit/cosignatures/checkpoint")
        if r.status_code == 404:
            return None
        return self._checked(r).text

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        params = {"old": old, "new": new}
        doc = self._call("GET", "/v1/audit/proofs/consistency", params=params).json()
        return [bytes.fromhex(h) for h in doc["proof"]]

    def submit_cosignature(self, document: dict[str, object]) -> dict[str, Any]:
        return dict(self._call("POST", "/v1/audit/cosignatures", json=document).json())

    def register_witness(self, document: dict[str, object]) -> dict[str, Any]:
        """Add a witness to the ledger's set (an admin client); returns the new set."""
        return dict(self._call("POST", "/v1/audit/witnesses", json=document).json())

    def verify(self, signature: str, body: bytes) -> None:
        """Raise `SignatureError` unless ``signature`` is the gateway's over ``body``."""
        try:
            verify_detached(signature, body, self.jwks())
        except SignatureError:
            self._jwks = None  # keys may have rotated: fetch once more
            verify_detached(signature, body, self.jwks())

    def jwks(self) -> dict[str, Any]:
        if self._jwks is None:
            self._jwks = dict(self._checked(self._http.get("/v1/keys")).json())
        return self._jwks

    # -- plumbing ---------------------------------------------------------------------------

    def _bearer(self) -> str:
        if self._token is None or time.monotonic() > self._expires - 30:
            r = self._checked(
                self._http.post(
                    "/v1/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self._id,
                        "client_secret": self._secret,
                    },
                )
            )
            doc = r.json()
            self._token = str(doc["access_token"])
            self._expires = time.monotonic() + float(doc["expires_in"])
        return self._token

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._bearer()}"}
        return self._checked(self._http.request(method, path, headers=headers, **kw))

    @staticmethod
    def _checked(r: httpx.Response) -> httpx.Response:
        if r.status_code < 400:
            return r
        try:
            problem = dict(r.json())
        except ValueError:
            problem = {"title": "non-JSON error"}
        error = GatewayProblem(r.status_code, problem)
        retry = r.headers.get("Retry-After")
        error.retry_after = int(retry) if retry and retry.isdigit() else None
        raise error
