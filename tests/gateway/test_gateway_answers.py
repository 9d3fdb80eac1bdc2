"""Score answers: only declared outputs, signatures checked with the published JWKS."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from gateway_support import Actors, admin_cli, auth, score_body
from jwcrypto import jwk, jws

from governance.credentials import Role
from governance.signing import SignatureError, b64url_decode, verify_detached
from governance.signing_keys import RECHECK_SECONDS, SigningKeys

ENVELOPE = {
    "bank",
    "access_request_id",
    "subject_binding",
    "request_id",
    "audit",
    "statements",
    "review_pending",
    "disputed",
}  # the residents' rights (issue 18)
SCORE_KEYS = ENVELOPE | {
    "computation",
    "computation_version",
    "unit",
    "dimensions",
    "morality_points",
    "morality_code",
    "credit_line",
    "reason_codes",
    "model",
    "computed_at",
    "coverage",
    "no_score_reason",
}


def _scored(actors: Actors, computation: str, idx: int) -> tuple[bytes, str, dict[str, str]]:
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank, computation)
    id_number = actors.world.ids[idx]
    consent = actors.consent(actors.subject(id_number), bank_id, computations=[computation])
    r = actors.http.post(
        "/v1/scores",
        headers=auth(bank),
        json=score_body(id_number, rid, consent),
    )
    assert r.status_code == 200, r.text
    assert id_number not in r.text
    return r.content, r.headers["Dexin-Signature"], {"id_number": id_number}


def test_a_score_has_exactly_the_declared_outputs(actors: Actors) -> None:
    raw, _, known = _scored(actors, "morality_credit_score", 20)
    body = json.loads(raw)
    assert set(body) == SCORE_KEYS
    assert set(body["dimensions"]) == {
        "moral_review",
        "law_abiding",
        "honesty",
        "volunteering",
        "virtue",
    }
    assert len(body["reason_codes"]) <= 4
    assert all(set(r) == {"code", "dimension", "kind", "en", "zh"} for r in body["reason_codes"])
    assert body["coverage"]["tables_total"] > 0
    assert body["model"].startswith("wuweitu") and body["unit"] == "person"
    pseudonym = actors.world.vault.subject_pseudonym(known["id_number"])
    assert "subject" not in body and pseudonym not in raw.decode() and "household" not in body


def test_a_profile_has_no_credit_line(actors: Actors) -> None:
    body = json.loads(_scored(actors, "dimension_profile", 21)[0])
    assert set(body) == ENVELOPE | {
        "computation",
        "computation_version",
        "unit",
        "dimensions",
        "model",
        "computed_at",
        "no_score_reason",
    }


def test_a_household_score(actors: Actors) -> None:
    body = json.loads(_scored(actors, "household_credit_score", 22)[0])
    assert body["unit"] == "household" and body["model"].startswith("wuweitu")
    assert set(body) == SCORE_KEYS | {"members_used", "members_left_out"}
    assert body["members_used"] == 1  # only the applicant consented


def test_the_signature_verifies_with_the_published_jwks_and_an_independent_library(
    actors: Actors,
) -> None:
    raw, signature, _ = _scored(actors, "morality_credit_score", 23)
    keys = actors.http.get("/v1/keys").json()
    header = verify_detached(signature, raw, keys)
    assert header["alg"] == "EdDSA"
    key = jwk.JWK(**keys["keys"][0])
    token = jws.JWS()
    token.deserialize(signature)
    token.verify(key, detached_payload=raw)  # jwcrypto: RFC 7515 Appendix F
    flipped = raw.replace(b'"computation"', b'"computatioN"', 1)
    with pytest.raises(SignatureError):
        verify_detached(signature, flipped, keys)
    with pytest.raises(jws.InvalidJWSSignature):
        token.verify(key, detached_payload=flipped)
    with pytest.raises(SignatureError):
        verify_detached(signature, raw, {"keys": []})


def test_a_malformed_id_number_is_refused_without_echo(actors: Actors) -> None:
    _, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    bad = actors.world.ids[24][:17] + ("0" if actors.world.ids[24][17] != "0" else "1")
    r = actors.http.post(
        "/v1/scores",
        headers=auth(bank),
        json=score_body(bad, rid, "cs_" + "0a" * 12),
    )
    assert (r.status_code, r.json()["type"]) == (422, "urn:dexin:problem:invalid-id-number")
    assert bad not in r.text
    r = actors.http.post(
        "/v1/scores",
        headers=auth(bank),
        json=score_body("12345", rid, "cs_" + "0a" * 12),
    )
    assert r.status_code == 422 and "12345" not in r.text


def test_an_unscored_subject_gets_an_explicit_no_score_reason(actors: Actors) -> None:
    from vault.idnumber import check_char

    first17 = "33029919900101123"
    stranger = first17 + check_char(first17)
    bank_id, bank = actors.token(Role.BANK)
    rid = actors.approved(bank)
    consent = actors.consent(actors.subject(stranger), bank_id)
    r = actors.http.post(
        "/v1/scores",
        headers=auth(bank),
        json=score_body(stranger, rid, consent),
    )
    assert r.status_code == 200
    assert (r.json()["no_score_reason"], r.json()["credit_line"]) == ("not_scored", None)
    assert r.json()["dimensions"] is None


def test_the_signing_key_rotates_while_the_gateway_runs(actors: Actors) -> None:
    raw0, sig0, _ = _scored(actors, "morality_credit_score", 24)
    kid0 = json.loads(b64url_decode(sig0.split(".")[0]))["kid"]
    rotated = admin_cli(actors, "rotate-signing-key", "--json")  # another process, like an operator
    assert rotated.returncode == 0, rotated.stderr
    kid1 = json.loads(rotated.stdout)["kid"]
    assert kid1 != kid0
    time.sleep(RECHECK_SECONDS + 0.2)  # the gateway looks at the key file once a second
    raw1, sig1, _ = _scored(actors, "morality_credit_score", 25)
    assert json.loads(b64url_decode(sig1.split(".")[0]))["kid"] == kid1
    keys = actors.http.get("/v1/keys").json()
    assert [k["kid"] for k in keys["keys"]][:2] == [kid1, kid0]  # newest first, old kept
    assert verify_detached(sig0, raw0, keys)["kid"] == kid0  # a kept answer still verifies
    assert verify_detached(sig1, raw1, keys)["kid"] == kid1
    with pytest.raises(SignatureError):  # a new answer under the old key's name fails
        verify_detached(sig1.replace(sig1.split(".")[0], sig0.split(".")[0]), raw1, keys)


def test_a_damaged_key_file_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "signing-keys.json").write_text('{"current": 3, "epochs": [{"epoch": 0}]}')
    with pytest.raises(ValueError, match=r"signing-keys\.json"):
        SigningKeys(b"\x01" * 32, tmp_path)
    assert SigningKeys(b"\x01" * 32, tmp_path / "fresh").jwks()["keys"][0]["kid"]
