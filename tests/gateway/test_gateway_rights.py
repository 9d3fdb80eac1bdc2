"""Residents' rights through the HTTP API (issue 18, parts 1, 3 and 4): the credit report
and its count, statements returned with a bank's score, a human review and its clock, banks'
attestations. Clocks are moved by injecting the gateway's rights clock, never by waiting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from gateway_support import Actors, auth, score_body

from audit import SignedCheckpoint, leaf_hash, verify_inclusion
from dexin.app import load_or_create_log_key
from governance.credentials import Role
from governance.record_use import model_spec, used_rows
from vault import subject_records


@dataclass
class Resident:
    id_number: str
    subject: str
    token: str
    used: dict[str, object]  # a negative record the score uses (its ref)
    unused: dict[str, object] | None  # a record that is not negative, if any


def _resident(actors: Actors, start: int) -> Resident:
    """A resident (not used by other tests) with a negative record the score uses."""
    vault = actors.world.vault
    spec = model_spec(vault)
    for id_number in actors.world.ids[start:]:
        subject = vault.subject_pseudonym(id_number)
        used = used_rows(vault, spec, subject)
        records = subject_records(vault, subject)
        negative = [r for r in records if r.negative and _key(r) in used]
        if negative:
            plain = next(
                (r for r in records if not r.negative and r.ref.table != "residents"), None
            )
            return Resident(id_number, subject, actors.subject(id_number),
                            negative[0].ref.model_dump(), plain.ref.model_dump() if plain else None)  # fmt: skip
    raise AssertionError("no resident with a used negative record in the tiny world")


def _key(r: object) -> tuple[str, str, int]:
    ref = r.ref  # type: ignore[attr-defined]
    return ref.table, ref.contribution_id, ref.row


@pytest.fixture
def clock(actors: Actors) -> Iterator[list[dt.datetime]]:
    """The gateway's rights clock, set by the test (``clock[0]``); restored afterwards."""
    rights = actors.http.app.state.gateway.rights  # type: ignore[attr-defined]
    now = [dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)]
    rights.clock = lambda: now[0]
    yield now
    rights.clock = lambda: dt.datetime.now(dt.UTC)


def _bank_score(actors: Actors, resident: Resident) -> dict[str, object]:
    bank, token = actors.token(Role.BANK)
    rid = actors.approved(token)
    consent = actors.consent(resident.token, bank)
    r = actors.http.post("/v1/scores", json=score_body(resident.id_number, rid, consent),
                         headers=auth(token))  # fmt: skip
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    body["_token"] = token
    return body


def test_two_free_reports_a_year_then_counted_never_refused(actors: Actors, clock: list) -> None:
    resident = _resident(actors, 600)
    issued = [actors.http.get("/v1/me/report", headers=auth(resident.token)) for _ in range(3)]
    assert [r.status_code for r in issued] == [200, 200, 200]
    issues = [r.json()["issue"] for r in issued]
    assert [(i["number"], i["free"], i["free_left"]) for i in issues] == [
        (1, True, 1), (2, True, 0), (3, False, 0)]  # fmt: skip
    clock[0] = dt.datetime(2027, 12, 31, 16, 0, tzinfo=dt.UTC)  # 2028-01-01 00:00 in Beijing
    fresh = actors.http.get("/v1/me/report", headers=auth(resident.token)).json()["issue"]
    assert (fresh["year"], fresh["number"], fresh["free"]) == (2028, 1, True)
    assert len(fresh["id"]) > 3 and resident.subject not in issued[0].text
    assert resident.id_number not in issued[0].text


def test_the_report_lists_every_record_with_its_use(actors: Actors) -> None:
    resident = _resident(actors, 620)
    doc = actors.http.get("/v1/me/report", headers=auth(resident.token)).json()
    records = {(t["table"], r["record"]["contribution_id"], r["record"]["row"]): r
               for t in doc["tables"] for r in t["records"]}  # fmt: skip
    used = resident.used
    line = records[(used["table"], used["contribution_id"], used["row"])]
    assert line["negative"] and line["used"] and line["status"] == "counts"
    assert "subject" not in line["values"] and "id_number" not in line["values"]
    assert doc["score"]["model"] == "wuweitu@1"
    assert doc["history"] == []  # this world released no model (the demo's does: e2e)


def test_each_access_in_the_report_carries_a_proof_a_third_party_checks(actors: Actors) -> None:
    resident = _resident(actors, 640)
    answer = _bank_score(actors, resident)
    doc = actors.http.get("/v1/me/report", headers=auth(resident.token)).json()
    access = next(a for a in doc["accesses"] if a["audit_index"] == answer["audit"]["index"])  # type: ignore[index]
    proof = access["proof"]
    signed = SignedCheckpoint.parse(proof["checkpoint"])
    signed.verify(load_or_create_log_key(actors.world.settings).verifier())
    leaf = leaf_hash(proof["entry"].encode())
    assert leaf.hex() == proof["leaf_hash"] == answer["audit"]["leaf_hash"]  # type: ignore[index]
    verify_inclusion(leaf, proof["index"], signed.checkpoint.size,
                     [bytes.fromhex(h) for h in proof["proof"]], signed.checkpoint.root)  # fmt: skip
    assert proof["entry"].count(resident.subject) == 1  # the resident's own entry, by pseudonym


def test_a_statement_is_returned_with_the_next_score_that_uses_the_record(
    actors: Actors,
) -> None:
    resident = _resident(actors, 660)
    body = {"record": resident.used, "text": "该罚款已于次月缴清，系误解规定所致。",
            "short": "罚款已缴清"}  # fmt: skip
    r = actors.http.post("/v1/me/statements", json=body, headers=auth(resident.token))
    assert r.status_code == 201, r.text
    made = r.json()
    answer = _bank_score(actors, resident)
    assert answer["statements"] == [
        {"table": resident.used["table"], "dimension": "law_abiding", "statement": "罚款已缴清",
         "made_on": made["created_at"][:10]}
    ]  # fmt: skip
    assert answer["review_pending"] is False
    doc = actors.http.get("/v1/me/report", headers=auth(resident.token)).json()
    shown = [r for t in doc["tables"] for r in t["records"] if r["statement"]]
    assert [s["statement"] for s in shown] == [body["text"]]
    gone = actors.http.delete(f"/v1/me/statements/{made['id']}", headers=auth(resident.token))
    assert gone.status_code == 204
    assert _bank_score(actors, resident)["statements"] == []


def test_a_statement_is_refused_on_what_is_not_the_residents_negative_record(
    actors: Actors,
) -> None:
    resident, other = _resident(actors, 680), _resident(actors, 700)
    base = {"text": "说明", "short": "说明"}

    def post(token: str, record: object, **extra: str) -> tuple[int, str]:
        r = actors.http.post("/v1/me/statements", json={**base, "record": record, **extra},
                             headers=auth(token))  # fmt: skip
        return r.status_code, r.json().get("reason", "")

    assert post(other.token, resident.used) == (404, "unknown_record")  # another's record
    if resident.unused is not None:
        assert post(resident.token, resident.unused) == (409, "record_not_negative")
    named = post(resident.token, resident.used, text=f"我的身份证号 {resident.id_number}")
    assert named == (422, "statement_names_an_id_number")
    missing = {**resident.used, "row": 999999}
    assert post(resident.token, missing) == (404, "unknown_record")


def test_a_review_is_requested_flagged_to_banks_and_decided_on_its_clock(
    actors: Actors, clock: list
) -> None:
    resident = _resident(actors, 720)
    officer = actors.token(Role.OFFICER)[1]
    asked = actors.http.post("/v1/me/reviews", json={"ask": "为何诚信维度偏低？"},
                             headers=auth(resident.token))  # fmt: skip
    assert asked.status_code == 201, asked.text
    review = asked.json()
    assert review["due_at"].startswith("2027-03-16T08:00")  # 15 days by the injected clock
    again = actors.http.post("/v1/me/reviews", json={"ask": "again"}, headers=auth(resident.token))
    assert (again.status_code, again.json()["reason"]) == (409, "review_already_open")
    assert _bank_score(actors, resident)["review_pending"] is True
    queue = actors.http.get("/v1/reviews", headers=auth(officer)).json()
    assert review["id"] in [q["id"] for q in queue]
    case = actors.http.get(f"/v1/reviews/{review['id']}", headers=auth(officer))
    assert case.status_code == 200 and case.json()["features"] and case.json()["records"]
    assert resident.subject not in case.text and resident.id_number not in case.text
    clock[0] += dt.timedelta(days=16)  # decided a day late
    decided = actors.http.post(f"/v1/reviews/{review['id']}/outcome", headers=auth(officer),
                               json={"outcome": "upheld", "note": "评分依据核实无误"})  # fmt: skip
    assert decided.status_code == 200 and decided.json()["late"] is True
    twice = actors.http.post(f"/v1/reviews/{review['id']}/outcome", headers=auth(officer),
                             json={"outcome": "noted", "note": "x"})  # fmt: skip
    assert (twice.status_code, twice.json()["reason"]) == (409, "review_already_decided")
    assert _bank_score(actors, resident)["review_pending"] is False
    auditor = actors.token(Role.AUDITOR)[1]
    clocks = actors.http.get("/v1/rights/clocks", headers=auth(auditor)).json()
    mine = next(c for c in clocks["reviews"] if c["id"] == review["id"])
    assert mine["late"] is True and mine["status"] == "upheld"


def test_a_correction_names_its_dispute(actors: Actors) -> None:
    resident = _resident(actors, 740)
    officer = actors.token(Role.OFFICER)[1]
    review = actors.http.post("/v1/me/reviews", json={"ask": "请复核"},
                              headers=auth(resident.token)).json()  # fmt: skip
    url = f"/v1/reviews/{review['id']}/outcome"
    bare = actors.http.post(url, headers=auth(officer), json={"outcome": "corrected", "note": "x"})
    assert (bare.status_code, bare.json()["reason"]) == (422, "dispute_required")
    done = actors.http.post(url, headers=auth(officer), json={
        "outcome": "corrected", "note": "经异议更正", "dispute": "dp_0123456789abcdef01234567"})  # fmt: skip
    assert done.status_code == 200 and done.json()["dispute"].startswith("dp_")


def test_a_bank_attests_a_human_decision_on_its_own_score_only(actors: Actors) -> None:
    resident = _resident(actors, 760)
    answer = _bank_score(actors, resident)
    body = {"audit_index": answer["audit"]["index"], "request_id": answer["request_id"],  # type: ignore[index]
            "outcome": "approved", "reviewer_role": "loan_officer",
            "decided_at": "2026-11-02T09:00:00Z"}  # fmt: skip
    other = actors.token(Role.BANK)[1]
    foreign = actors.http.post("/v1/decisions/attestations", json=body, headers=auth(other))
    assert (foreign.status_code, foreign.json()["reason"]) == (404, "unknown_score_entry")
    own = str(answer["_token"])
    made = actors.http.post("/v1/decisions/attestations", json=body, headers=auth(own))
    assert made.status_code == 201, made.text
    again = actors.http.post("/v1/decisions/attestations", json=body, headers=auth(own))
    assert (again.status_code, again.json()["reason"]) == (409, "already_attested")
    doc = actors.http.get("/v1/me/report", headers=auth(resident.token)).json()
    assert [a["audit_index"] for a in doc["attestations"]] == [body["audit_index"]]


def test_the_cli_client_downloads_the_pdf_and_asks_for_a_review(actors: Actors) -> None:
    """`dexin rights …` speaks through `dexin.rights_client`; here against the served app.
    The only PDF of the gateway suite: Chromium prints it once."""
    from dexin.rights_client import RightsRefused, ask_review, decide_review, report

    resident = _resident(actors, 780)
    pdf = report(actors.http, resident.token, pdf=True)
    assert pdf.startswith(b"%PDF-") and b"NotoSansCJK" in pdf  # the CJK font, embedded
    assert resident.id_number.encode() not in pdf
    review = ask_review(actors.http, resident.token, "请人工复核")
    with pytest.raises(RightsRefused) as refused:
        ask_review(actors.http, resident.token, "再次申请")
    assert refused.value.reason == "review_already_open"
    officer = actors.token(Role.OFFICER)[1]
    done = decide_review(actors.http, officer, review["id"], "noted", "已说明评分依据", None)
    assert done["status"] == "noted"
