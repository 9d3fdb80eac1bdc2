"""Providers sign their contributions; the vault countersigns the receipt (issue 17).

Before issue 17 a contribution was anchored by the operator alone: nothing showed that the
rows in the vault were the rows the department sent, or that it sent them. Each attack
below goes through the HTTP API against the real gateway (the unsigned upload, another
key's signature, a statement for another file, table or time), and the auditor's check runs
on the session's real vault and ledger.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dpop_support import ClientKey
from gateway_support import Actors, auth
from joserfc.jwk import ECKey

from dexin_client import ClientKey as BankKey
from dexin_client import DexinClient
from governance import parse_jwks, provider_keys, verify_contributions
from governance.anchoring import unanchored_contributions
from governance.credentials import Role
from governance.signing import verify_detached
from ledger import AnchorKind
from vault.idnumber import check_char

TABLE = "dishonest_debtors"
HEADER = b"record_id,id_number,listed_date,removed_date,amount,case_type\n"


def _rows(tag: str, n: int = 3) -> bytes:
    """``n`` valid listings of one synthetic person (record keys of their own per ``tag``)."""
    first17 = "33029119800315012"
    person = (first17 + check_char(first17)).encode()
    base = 9_000_000_000 + int(hashlib.sha256(tag.encode()).hexdigest()[:6], 16) * 10
    body = b"".join(b"YZX-2025-%010d,%s,2025-01-01,,100.00,contract\n" % (base + i, person)
                    for i in range(n))  # fmt: skip
    return HEADER + body


def _court(actors: Actors) -> ClientKey:
    return actors.keyed(Role.PROVIDER, "court")


def _post(actors: Actors, court: ClientKey, form: dict[str, str], data: bytes) -> Any:
    return actors.http.post("/v1/contributions", headers=auth(court.token), data=form,
                            files={"file": ("d.csv", data, "text/csv")})  # fmt: skip


def _recorded(actors: Actors) -> int:
    return len(actors.world.vault.contributions())


def test_a_signed_contribution_gets_a_countersigned_anchored_receipt(actors: Actors) -> None:
    court = _court(actors)
    data = _rows("ok")
    form = court.contribution(TABLE, data)
    r = _post(actors, court, form, data)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["origin"] == "provider" and receipt["accepted"] == 3
    document = receipt["receipt_document"].encode()
    verify_detached(receipt["receipt_signature"], document, actors.http.get("/v1/keys").json())
    doc = json.loads(document)
    assert doc["merkle_root"] == receipt["merkle_root"] and doc["origin"] == "provider"
    assert doc["statement_sha256"] == hashlib.sha256(form["statement"].encode()).hexdigest()
    assert doc["signature_sha256"] == hashlib.sha256(form["signature"].encode()).hexdigest()
    assert doc["signer_kid"] == court.key.thumbprint()
    anchored = actors.world.ledger.verify_anchor(
        bytes.fromhex(receipt["merkle_root"]), kind=AnchorKind.CONTRIBUTION, size=3,
        metadata_digest=hashlib.sha256(document).digest(),
    )  # fmt: skip
    assert anchored.block_number > 0


def test_the_providers_client_signs_and_checks_the_receipt(actors: Actors, tmp_path: Path) -> None:
    """dexin_client (its own JOSE on `cryptography`) against the gateway (joserfc)."""
    key = BankKey.generate()
    made = actors.control.create_client(Role.PROVIDER, "court", parse_jwks(key.public_jwks()))
    path = tmp_path / "listings.csv"
    path.write_bytes(_rows("client"))
    provider = DexinClient("http://testserver", made.client_id, key=key.registered(made.client_id, "court"),
                           http=actors.http)  # fmt: skip
    signed = provider.contribute(TABLE, path)
    assert (
        signed.body["status"] == "accepted" and json.loads(signed.document)["origin"] == "provider"
    )


def test_an_unsigned_contribution_is_refused_before_a_row_is_read(actors: Actors) -> None:
    """A file whose header alone would be recorded as refused (a prohibited column) is not
    even recorded when unsigned: the gateway never opened it."""
    court = _court(actors)
    before = _recorded(actors)
    data = b"religion,x\n1,2\n"
    r = actors.http.post("/v1/contributions", headers=auth(court.token), data={"table": TABLE},
                         files={"file": ("d.csv", data, "text/csv")})  # fmt: skip
    assert (r.status_code, r.json()["reason"]) == (422, "contribution_unsigned")
    assert r.json()["type"] == "urn:dexin:problem:signature-refused"
    assert _recorded(actors) == before


def _wrongly_signed(
    court: ClientKey, other: ClientKey, data: bytes
) -> Iterator[tuple[str, dict[str, str], str]]:
    now = time.time()
    yield "another key", other.contribution(TABLE, data), "contribution_signature_invalid"
    forged = ClientKey(court.client_id, ECKey.generate_key("P-256"), name="court")
    yield "an unregistered key", forged.contribution(TABLE, data), "contribution_signature_invalid"
    yield (
        "another file",
        court.contribution(TABLE, _rows("other")),
        "contribution_statement_mismatch",
    )
    yield (
        "another table",
        court.contribution("tax_arrears", data) | {"table": TABLE},
        "contribution_statement_mismatch",
    )
    yield (
        "another provider",
        court.contribution(TABLE, data, provider="tax_bureau"),
        "contribution_statement_mismatch",
    )
    stale = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3 * 3600))
    yield (
        "three hours old",
        court.contribution(TABLE, data, submitted_at=stale),
        "contribution_statement_mismatch",
    )
    yield (
        "no rows stated",
        court.contribution(TABLE, data, rows=None),
        "contribution_statement_invalid",
    )
    good = court.contribution(TABLE, data)
    altered = good["statement"].replace('"rows": 3', '"rows": 2')
    yield "altered after signing", good | {"statement": altered}, "contribution_signature_invalid"
    attached = good["signature"].split(".")
    yield (
        "not detached",
        good | {"signature": attached[0] + ".e30." + attached[2]},
        "contribution_signature_invalid",
    )


def test_a_wrongly_signed_contribution_is_refused(actors: Actors) -> None:
    court, other = _court(actors), actors.keyed(Role.PROVIDER, "court")
    data = _rows("bad")
    before = _recorded(actors)
    for name, form, reason in _wrongly_signed(court, other, data):
        r = _post(actors, court, form, data)
        assert (r.status_code, r.json()["reason"]) == (422, reason), name
    assert _recorded(actors) == before  # nothing was read, nothing recorded


def test_a_file_with_other_rows_than_stated_is_refused_and_recorded(actors: Actors) -> None:
    court = _court(actors)
    data = _rows("count")
    r = _post(actors, court, court.contribution(TABLE, data, rows=99), data)
    assert (r.status_code, r.json()["type"]) == (422, "urn:dexin:problem:contribution-refused")
    receipt = r.json()["receipt"]
    assert receipt["status"] == "refused" and receipt["origin"] == "provider"


@contextmanager
def _tampered(actors: Actors, contribution_id: str, attestation: str) -> Iterator[None]:
    """The operator rewrites what the vault kept as the provider's statement (restored after)."""
    vault = actors.world.vault
    table = "p_court.contributions"
    (kept,) = vault.con.execute(f"SELECT attestation FROM {table} WHERE contribution_id = ?",
                                [contribution_id]).fetchone()  # fmt: skip
    vault.con.execute(f"UPDATE {table} SET attestation = ? WHERE contribution_id = ?",
                      [attestation, contribution_id])  # fmt: skip
    try:
        yield
    finally:
        vault.con.execute(f"UPDATE {table} SET attestation = ? WHERE contribution_id = ?",
                          [kept, contribution_id])  # fmt: skip


def _problems(actors: Actors, contribution_id: str) -> list[str]:
    keys = provider_keys(actors.control)
    verdicts = verify_contributions(actors.world.ledger, actors.world.vault, keys=keys)
    return next(v.problems for v in verdicts if v.contribution_id == contribution_id)


def test_the_auditor_checks_each_signature_against_the_key_of_its_time(actors: Actors) -> None:
    court = _court(actors)
    data = _rows("audit")
    first = court.contribution(TABLE, data)
    cid = _post(actors, court, first, data).json()["contribution_id"]
    assert _problems(actors, cid) == []
    assert actors.control.keys.retire(court.client_id, court.key.thumbprint())
    assert _problems(actors, cid) == []  # retired since: it was registered then
    # the operator claims the provider sent another statement: it cannot sign one
    forged = json.loads(first["statement"]) | {"rows": 2}
    claim = json.dumps({"statement": json.dumps(forged), "signature": first["signature"],
                        "kid": court.key.thumbprint()})  # fmt: skip
    with _tampered(actors, cid, claim):
        problems = _problems(actors, cid)
        assert any("no key registered for the provider then verifies it" in p for p in problems)
        assert any(p.startswith("anchor:") for p in problems)  # and the anchor binds the original
        assert unanchored_contributions(actors.world.ledger, actors.world.vault,
                                        provider_keys(actors.control))  # fmt: skip
    assert _problems(actors, cid) == []


def test_a_genuine_statement_of_another_submission_does_not_fit(actors: Actors) -> None:
    """Swapping in the provider's own signature over another file is caught by the anchor
    (it binds the digests of exactly the statement and signature received)."""
    court = _court(actors)
    data, other = _rows("swap-a"), _rows("swap-b")
    cid = _post(actors, court, court.contribution(TABLE, data), data).json()["contribution_id"]
    elsewhere = court.contribution(TABLE, other)
    claim = json.dumps({"statement": elsewhere["statement"], "signature": elsewhere["signature"],
                        "kid": court.key.thumbprint()})  # fmt: skip
    with _tampered(actors, cid, claim):
        problems = _problems(actors, cid)
        assert any("does not name this record's file" in p for p in problems)
        assert any(p.startswith("anchor:") for p in problems)


def test_an_operator_load_is_recorded_as_such(actors: Actors) -> None:
    """The session's first load (vault.ingest_file, as `dexin vault ingest` does) is no
    provider's: its receipts say origin operator and it carries no statement."""
    loaded = [c for c in actors.world.vault.contributions() if c["provider"] == "public_security"]
    assert loaded and all(c["origin"] == "operator" and c["attestation"] is None for c in loaded)
