"""An officer-held software authenticator: a P-256 key in a 0600 file that makes real
WebAuthn registrations and assertions.

For officers who vote from a script (``dexin officer vote --key FILE``): it produces exactly
what a browser's passkey produces — authenticator data (RP ID hash, flags, a sign counter),
client data JSON (type, challenge, origin) and an ES256 signature over
``authenticatorData || SHA-256(clientDataJSON)`` — so the gateway and the ledger contract
verify it by the same code path as a passkey. The flags claim user presence and
verification; for a software key that means "whoever can read this file", nothing more
(docs/threat-model.md says so). The file holds the private key, the credential id, the
relying party and origin it was registered for, the officer's client id and the counter;
the counter is written back (atomically) before each assertion leaves, so a crash never
reuses one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ledger import SignedDecision, challenge_of

FLAG_UP, FLAG_UV, FLAG_AT = 0x01, 0x04, 0x40
AAGUID = bytes(16)  # "none" attestation: no authenticator model is claimed
COSE_ES256 = {1: 2, 3: -7, -1: 1}  # kty EC2, alg ES256, crv P-256


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SoftwareKey:
    """The authenticator's state (what the key file holds)."""

    private_key: ec.EllipticCurvePrivateKey
    credential_id: bytes
    rp_id: str
    origin: str
    client_id: str
    sign_count: int = 0

    @classmethod
    def generate(cls, rp_id: str, origin: str, client_id: str) -> SoftwareKey:
        return cls(ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(32), rp_id,
                   origin, client_id)  # fmt: skip

    def registration(self, challenge: bytes) -> dict[str, Any]:
        """The ``PublicKeyCredential`` JSON of a registration ("none" attestation)."""
        client_data = _client_data("webauthn.create", challenge, self.origin)
        auth_data = self._auth_data(FLAG_UP | FLAG_UV | FLAG_AT, self._attested())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        response = {"clientDataJSON": b64url(client_data),
                    "attestationObject": b64url(attestation), "transports": ["internal"]}  # fmt: skip
        return self._credential(response)

    def assertion(self, challenge: bytes) -> tuple[SoftwareKey, dict[str, Any]]:
        """(the key with its counter advanced, the ``PublicKeyCredential`` JSON of an
        assertion over ``challenge``)."""
        advanced = replace(self, sign_count=self.sign_count + 1)
        client_data = _client_data("webauthn.get", challenge, self.origin)
        auth_data = advanced._auth_data(FLAG_UP | FLAG_UV, b"")
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        response = {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature), "userHandle": None}  # fmt: skip
        return advanced, self._credential(response)

    def public_xy(self) -> tuple[bytes, bytes]:
        numbers = self.private_key.public_key().public_numbers()
        return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")

    def _attested(self) -> bytes:
        x, y = self.public_xy()
        cose = cbor2.dumps(COSE_ES256 | {-2: x, -3: y})
        cred = self.credential_id
        return AAGUID + len(cred).to_bytes(2, "big") + cred + cose

    def _auth_data(self, flags: int, extra: bytes) -> bytes:
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + self.sign_count.to_bytes(4, "big") + extra

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        cid = b64url(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key", "response": response,
                "clientExtensionResults": {}, "authenticatorAttachment": "platform"}  # fmt: skip


def signed_decision(credential: dict[str, Any]) -> SignedDecision:
    """The ledger's view of an assertion's ``PublicKeyCredential`` JSON."""
    response = credential["response"]
    return SignedDecision(
        credential_id=unb64url(credential["rawId"]),
        authenticator_data=unb64url(response["authenticatorData"]),
        client_data_json=unb64url(response["clientDataJSON"]),
        signature=unb64url(response["signature"]),
    )


def save(key: SoftwareKey, path: Path) -> None:
    """Write the key file (0600, atomically; its folder is created 0700 if missing)."""
    pem = key.private_key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())  # fmt: skip
    doc = {"version": 1, "private_key": pem.decode("ascii"), "credential_id": b64url(key.credential_id),
           "rp_id": key.rp_id, "origin": key.origin, "client_id": key.client_id,
           "sign_count": key.sign_count}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: Path) -> SoftwareKey:
    """Read a key file; ValueError if it is not one, or others may read it."""
    if path.stat().st_mode & 0o077:
        raise ValueError(f"{path} is readable by others: chmod 600 it")
    doc = json.loads(path.read_text(encoding="utf-8"))
    private = serialization.load_pem_private_key(doc["private_key"].encode(), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold a P-256 key")
    return SoftwareKey(private, unb64url(doc["credential_id"]), doc["rp_id"], doc["origin"],
                       doc["client_id"], int(doc["sign_count"]))  # fmt: skip


def _client_data(kind: str, challenge: bytes, origin: str) -> bytes:
    doc = {"type": kind, "challenge": b64url(challenge), "origin": origin, "crossOrigin": False}
    return json.dumps(doc, separators=(",", ":")).encode()


class OfficerClientError(Exception):
    """The gateway refused a step; ``reason`` is its machine code (or the HTTP status)."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step} refused: {reason}")
        self.step = step
        self.reason = reason


def origin_of(http: Any) -> str:
    """The origin of the gateway an HTTP client talks to (scheme://host[:port])."""
    url = http.base_url
    return f"{url.scheme}://{url.netloc.decode() if isinstance(url.netloc, bytes) else url.netloc}"


def enrol(http: Any, invite: str) -> SoftwareKey:
    """Register a fresh software key for the officer invited by ``invite`` (the token) with
    the gateway ``http`` talks to (an ``httpx.Client`` with its ``base_url``)."""
    started = _post(http, "enrolment", "/v1/officers/enrolment/options", {"invite": invite})
    origin = origin_of(http)
    rp_id = started["options"]["rp"]["id"]
    officer = started["options"]["user"]["name"]
    key = SoftwareKey.generate(rp_id, origin, officer)
    credential = key.registration(unb64url(started["options"]["challenge"]))
    body = {"invite": invite, "ceremony": started["ceremony"], "credential": credential}
    _post(http, "enrolment", "/v1/officers/enrolment", body)
    return key


def sign_decision(http: Any, key: SoftwareKey, token: str, request_id: str,
                  decision: str) -> tuple[SoftwareKey, dict[str, Any], dict[str, str]]:  # fmt: skip
    """Ask what to sign for ``decision`` (approve, reject, revoke), check that the challenge
    is the digest of the document shown and names this decision, and sign it. Returns (the
    key with its counter advanced, the assertion JSON, the signed document)."""
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/v1/access-requests/{request_id}/decision-options"
    found = _post(http, "decision", path, {"decision": decision}, headers)
    document, challenge = found["document"], unb64url(found["options"]["challenge"])
    if challenge_of(document) != challenge or document.get("decision") != decision:
        raise OfficerClientError("decision", "challenge_mismatch")
    advanced, assertion = key.assertion(challenge)
    return advanced, assertion, document


def decide(http: Any, key: SoftwareKey, token: str, request_id: str,
           decision: str) -> tuple[SoftwareKey, Any]:  # fmt: skip
    """Sign and send ``decision``; (the key with its counter advanced, the HTTP response)."""
    advanced, assertion, _ = sign_decision(http, key, token, request_id, decision)
    headers = {"Authorization": f"Bearer {token}"}
    body: dict[str, Any] = {"assertion": assertion}
    path = f"/v1/access-requests/{request_id}/revoke"
    if decision != "revoke":
        path, body["decision"] = f"/v1/access-requests/{request_id}/votes", decision
    return advanced, http.post(path, json=body, headers=headers)


def _post(http: Any, step: str, path: str, body: dict[str, Any],
          headers: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    r = http.post(path, json=body, headers=headers or {})
    if r.status_code >= 300:
        reason = r.json().get("reason") if "json" in r.headers.get("content-type", "") else None
        raise OfficerClientError(step, str(reason or r.status_code))
    doc: dict[str, Any] = r.json()
    return doc


def decide_with_file(http: Any, path: Path, secret: str, request_id: str,
                     decision: str) -> tuple[dict[str, str], str]:  # fmt: skip
    """`dexin officer vote`: load the key file, get the officer's token with its client
    secret, sign and send ``decision``; the counter is saved before the assertion leaves.
    Returns (the signed document, the request's status after it)."""
    key = load(path)
    form = {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret}
    r = http.post("/v1/oauth/token", data=form)
    if r.status_code != 200:
        raise OfficerClientError("token", str(r.json().get("reason") or r.status_code))
    token = r.json()["access_token"]
    advanced, assertion, document = sign_decision(http, key, token, request_id, decision)
    save(advanced, path)  # a counter is never used twice, even if the send fails
    headers = {"Authorization": f"Bearer {token}"}
    body: dict[str, Any] = {"assertion": assertion}
    path_of = f"/v1/access-requests/{request_id}/revoke"
    if decision != "revoke":
        path_of, body["decision"] = f"/v1/access-requests/{request_id}/votes", decision
    sent = http.post(path_of, json=body, headers=headers)
    if sent.status_code != 200:
        raise OfficerClientError("decision", str(sent.json().get("reason") or sent.status_code))
    return document, str(sent.json()["status"])
