"""`DexinClient`: a bank's (or provider's, or auditor's) session with the gateway.

A bank or provider authenticates with its own key (`ClientKey`): a client assertion at the
token endpoint (``private_key_jwt``) and a DPoP proof with the token request and with every
call, so its token is bound to its key and useless to anyone else. Other clients (an
auditor's witness) may authenticate with their secret.

Scores and aggregates are sent with an ``Idempotency-Key``: a call that fails on the way
(a timeout, a dropped connection, a 503) is retried with the same key and a fresh proof, and
the gateway answers a retry with the very answer it signed the first time, spending nothing
twice. Signed answers are verified before they are returned (`SignatureError`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from dexin_client._jose import SignatureError, verify_detached
from dexin_client.binding import check_binding
from dexin_client.contributions import (
    SignedReceipt,
    prepare_contribution,
    signed_answer,
    signed_repair,
    verified_receipt,
)
from dexin_client.keys import ClientKey

__all__ = ["DexinClient", "GatewayProblem", "SignedAnswer"]

SIGNATURE_HEADER = "Dexin-Signature"
TOKEN_PATH = "/v1/oauth/token"
METADATA_PATH = "/.well-known/oauth-authorization-server"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RETRIED = (502, 503, 504)


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
        client_secret: str | None = None,
        *,
        key: ClientKey | None = None,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
        retries: int = 2,
    ) -> None:
        """``key``: a bank's or provider's own key (then ``client_secret`` is not used);
        ``retries``: how often an idempotent call is sent again after a transport error or
        a 502/503/504."""
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._id = client_id
        self._secret = client_secret
        self._key = key.registered(client_id, key.name) if key is not None else None
        self._retries = retries
        self._token: str | None = None
        self._expires = 0.0
        self._jwks: dict[str, Any] | None = None
        self._issuer: str | None = None

    @classmethod
    def from_key_file(cls, base_url: str, path: Path, **kw: Any) -> DexinClient:
        """A client for the bank or provider whose key file (0600) is at ``path``."""
        key = ClientKey.load(path)
        return cls(base_url, key.client_id, key=key, **kw)

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
        self,
        id_number: str,
        *,
        purpose: str,
        access_request_id: str,
        consent_id: str,
        idempotency_key: str | None = None,
    ) -> SignedAnswer:
        """The signed score, verified (signature, then that it is about this bank, access
        request and ID number: `check_binding`). Retried with one ``idempotency_key``."""
        body = {"id_number": id_number, "purpose": purpose,
                "access_request_id": access_request_id, "consent_id": consent_id}  # fmt: skip
        answer = self._signed("POST", "/v1/scores", body, idempotency_key)
        check_binding(answer.body, bank=self._id, access_request_id=access_request_id,
                      consent_id=consent_id, id_number=id_number)  # fmt: skip
        return answer

    def aggregate(
        self,
        computation: str,
        access_request_id: str,
        *,
        epsilon: float = 0.1,
        parameters: dict[str, str] | None = None,
        preview: bool = False,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """An approved aggregate (its signature verified); retried with one key."""
        body = {"computation": computation, "access_request_id": access_request_id,
                "epsilon": epsilon, "parameters": parameters or {}, "preview": preview}  # fmt: skip
        return self._signed("POST", "/v1/aggregates", body, idempotency_key).body

    def contribute(
        self, table: str, path: Path, *, rows: int | None = None, submission_id: str | None = None
    ) -> SignedReceipt:
        """Submit a contribution signed with the provider's key; returns the receipt once
        the gateway's signature over it verifies and it names exactly what was signed."""
        if self._key is None:
            raise ValueError("a provider signs its contributions: create the client with its key")
        prepared = prepare_contribution(self._key, table, path, rows=rows,
                                        submission_id=submission_id)  # fmt: skip
        with path.open("rb") as f:
            files = {"file": (path.name, f, "application/octet-stream")}
            r = self._call("POST", "/v1/contributions", data=prepared.form(), files=files)
        return verified_receipt(r.json(), prepared, self.jwks())

    # -- a provider's disputes and repairs (issue 18) ---------------------------------------

    def disputes(self) -> list[dict[str, Any]]:
        """The provider's inbox: the disputes of its records, open first, with their clocks."""
        return list(self._call("GET", "/v1/disputes").json())

    def dispute(self, dispute_id: str) -> dict[str, Any]:
        """One dispute with the resident's reason."""
        return dict(self._call("GET", f"/v1/disputes/{dispute_id}").json())

    def dispute_attachment(self, dispute_id: str) -> tuple[str, bytes]:
        """The file sent with a dispute: its media type and bytes."""
        r = self._call("GET", f"/v1/disputes/{dispute_id}/attachment")
        return r.headers.get("content-type", ""), r.content

    def answer_dispute(self, dispute_id: str, outcome: str, note: str = "") -> dict[str, Any]:
        """Confirm the disputed record (``confirmed``) or delete it (``deleted``), the answer
        signed with the provider's key."""
        body = signed_answer(self._provider_key(), dispute_id, outcome, note)
        return dict(self._call("POST", f"/v1/disputes/{dispute_id}/answer", json=body).json())

    def correct_dispute(self, dispute_id: str, table: str, path: Path) -> dict[str, Any]:
        """Answer by a correcting contribution (``path``: one row restating the record),
        signed with the provider's key like any contribution, its statement naming the
        dispute; the dispute as answered and the correcting contribution's receipt."""
        prepared = prepare_contribution(self._provider_key(), table, path, dispute=dispute_id)
        with path.open("rb") as f:
            files = {"file": (path.name, f, "application/octet-stream")}
            r = self._call("POST", "/v1/corrections", params={"dispute": dispute_id},
                           data=prepared.form(), files=files)  # fmt: skip
        return dict(r.json())

    def _provider_key(self) -> ClientKey:
        if self._key is None:
            raise ValueError("a provider signs its answers: create the client with its key")
        return self._key

    def repairs(self) -> list[dict[str, Any]]:
        """The provider's repairs and the residents' applications, pending first."""
        return list(self._call("GET", "/v1/repairs").json())

    def file_repair(
        self, record: dict[str, Any], repaired_on: str | None = None, note: str = ""
    ) -> dict[str, Any]:
        """Repair a record (``table``, ``contribution_id``, ``row``) from a date."""
        record = {k: record[k] for k in ("table", "contribution_id", "row")}
        body = {"record": record, **signed_repair(self._provider_key(), repair=None,
                                                  record=record, decision="granted",
                                                  repaired_on=repaired_on, note=note)}  # fmt: skip
        return dict(self._call("POST", "/v1/repairs", json=body).json())

    def decide_repair(
        self, repair_id: str, decision: str, repaired_on: str | None = None, note: str = ""
    ) -> dict[str, Any]:
        """Grant (from a date, default today) or refuse a resident's application."""
        on = repaired_on if decision == "granted" else None
        body = {"decision": decision, **signed_repair(self._provider_key(), repair=repair_id,
                                                      record=None, decision=decision,
                                                      repaired_on=on, note=note)}  # fmt: skip
        return dict(self._call("POST", f"/v1/repairs/{repair_id}/decision", json=body).json())

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

    def _signed(
        self, method: str, path: str, body: dict[str, Any], idempotency_key: str | None
    ) -> SignedAnswer:
        key = idempotency_key or str(uuid.uuid4())
        r = self._call(method, path, json=body, headers={"Idempotency-Key": key},
                       retries=self._retries)  # fmt: skip
        signature = r.headers.get(SIGNATURE_HEADER, "")
        self.verify(signature, r.content)
        return SignedAnswer(dict(r.json()), r.content, signature)

    def issuer(self) -> str:
        """The gateway's issuer identifier (its metadata, RFC 8414): client assertions name
        it as their audience."""
        if self._issuer is None:
            doc = self._checked(self._http.get(METADATA_PATH)).json()
            self._issuer = str(doc["issuer"])
        return self._issuer

    def access_token(self) -> str:
        """A valid access token (a new one 30 s before this one expires); bound to the
        client's key when it has one (then every request needs a fresh proof)."""
        return self._access_token()

    def _access_token(self) -> str:
        if self._token is None or time.monotonic() > self._expires - 30:
            r = self._checked(self._request_token())
            doc = r.json()
            self._token = str(doc["access_token"])
            self._expires = time.monotonic() + float(doc["expires_in"])
        return self._token

    def _request_token(self) -> httpx.Response:
        if self._key is None:
            form = {"grant_type": "client_credentials", "client_id": self._id,
                    "client_secret": self._secret or ""}  # fmt: skip
            return self._http.post(TOKEN_PATH, data=form)
        form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self._key.assertion(self.issuer())}  # fmt: skip
        url = str(self._http.build_request("POST", TOKEN_PATH).url)
        return self._http.post(
            TOKEN_PATH, data=form, headers={"DPoP": self._key.proof("POST", url)}
        )

    def _call(self, method: str, path: str, *, retries: int = 0, **kw: Any) -> httpx.Response:
        """Send, with a fresh proof each time; retried ``retries`` times on a transport
        error or 502/503/504 (only for calls that are idempotent: those with a key)."""
        for attempt in range(retries + 1):
            request = self._http.build_request(method, path, **kw)
            self._authorise(request)
            try:
                r = self._http.send(request)
            except httpx.TransportError:
                if attempt == retries:
                    raise
                continue
            if r.status_code not in RETRIED or attempt == retries:
                return self._checked(r)
        raise AssertionError("unreachable")

    def _authorise(self, request: httpx.Request) -> None:
        token = self._access_token()
        if self._key is None:
            request.headers["Authorization"] = f"Bearer {token}"
            return
        request.headers["Authorization"] = f"DPoP {token}"
        request.headers["DPoP"] = self._key.proof(request.method, str(request.url), token)

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
