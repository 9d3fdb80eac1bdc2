"""Disputes (征信业管理条例 第二十五条) and credit repair through the HTTP API (issue 18,
parts 2 and 5), on a world of their own (late disputes would fail every other module's
``dexin audit verify``). Clocks are moved by injecting the dispute desk's ``now``, never by
waiting: a dispute opened 25 days ago (by the desk's clock) is overdue today.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pyotp
import pytest
from dpop_support import ClientKey
from gateway_support import Actors, TestClient, World, auth, open_world, score_body
from joserfc import jws
from joserfc.jwk import ECKey
from query_gateway.app import create_app
from query_gateway.routes.disputes import CONSOLE_FORM_MAX
from sqlalchemy import select
from starlette.formparsers import MultiPartParser
from typer.testing import CliRunner

from audit import LogReader, decode_entry
from dexin import audit_cli
from governance import (
    answer_signature_problems,
    provider_keys,
    repair_signature_problems,
    verify_contributions,
)
from governance.accounts import ConsoleAccounts
from governance.control import ControlPlane
from governance.credentials import Role
from governance.db import open_engine, session_factory
from governance.dispute_log import METADATA
from governance.dispute_models import DisputeEvent, Repair
from ledger import AnchorKind
from vault import StoredRecord, check_contribution, subject_records

PDF = b"%PDF-1.4\n% a receipt the resident kept, SECRET-MARKER-7731\n%%EOF\n"
PENALTIES = "administrative_penalties"


@dataclass
class Flow:
    world: World
    http: TestClient
    actors: Actors
    bank: str  # token
    provider: str  # token of market_regulation
    approval: str
    provider_key: ClientKey  # market_regulation's own key (it signs its answers)


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with open_world(tmp_path_factory.mktemp("disputes")) as world:
        app = create_app(world.with_gateway(dispute_sweep=0.0), world.components())
        engine = open_engine(world.database_url, schema=world.schema)
        with TestClient(app, raise_server_exceptions=False) as http:
            actors = Actors(http, ControlPlane(session_factory(engine)), world)
            _, bank = actors.token(Role.BANK, "bank")
            key = actors.keyed(Role.PROVIDER, "market_regulation")
            yield Flow(world, http, actors, bank, key.token, actors.approved(bank), key)
        engine.dispose()


@pytest.fixture
def clock(flow: Flow) -> Iterator[list[dt.datetime]]:
    """The dispute desk's clock, set by the test (``clock[0]``); restored afterwards."""
    desk = flow.http.app.state.gateway.disputes  # type: ignore[attr-defined]
    now = [dt.datetime.now(dt.UTC)]
    desk.now = lambda: now[0]
    yield now
    desk.now = lambda: dt.datetime.now(dt.UTC)


@dataclass
class Resident:
    id_number: str
    token: str
    penalty: StoredRecord  # a penalty that counts in their score


_taken: set[str] = set()
_ONE_PENALTY = f"""
    SELECT p.subject FROM src.{PENALTIES} p JOIN src.residents r USING (subject)
    WHERE r.birth_year <= 2000 AND p.subject IN (SELECT subject FROM src.traffic_violations)
    GROUP BY p.subject HAVING count(*) = 1 ORDER BY p.subject"""


def _resident(flow: Flow, ok: Any = lambda r: True) -> Resident:
    """A resident no other test of the module used, scored, with exactly one penalty that
    counts (and ``ok``) and another source (traffic), so they stay scored without it."""
    vault = flow.world.vault
    ids = _ids(flow)
    for (subject,) in vault.query(_ONE_PENALTY):
        if subject not in ids or ids[subject] in _taken:
            continue
        [penalty] = [r for r in subject_records(vault, subject)
                     if r.ref.table == PENALTIES and r.status == "counts"]  # fmt: skip
        if ok(penalty):
            _taken.add(ids[subject])
            return Resident(ids[subject], flow.actors.subject(ids[subject]), penalty)
    raise AssertionError("no such resident in the tiny world")


_pseudonyms: dict[str, str] = {}


def _ids(flow: Flow) -> dict[str, str]:
    """Pseudonym → ID number of every resident (test-side knowledge), computed once."""
    if not _pseudonyms:
        vault = flow.world.vault
        _pseudonyms.update({vault.subject_pseudonym(i): i for i in flow.world.ids})
    return _pseudonyms


def _score(flow: Flow, r: Resident) -> dict[str, Any]:
    bank_id = flow.actors.control.active_client
    consent = _consent(flow, r)
    body = score_body(r.id_number, flow.approval, consent)
    answer = flow.http.post("/v1/scores", headers=auth(flow.bank), json=body)
    assert answer.status_code == 200, (answer.text, bank_id)
    return dict(answer.json())


_consents: dict[str, str] = {}


def _consent(flow: Flow, r: Resident) -> str:
    if r.id_number not in _consents:
        bank_id = next(c.client_id for c in flow.actors.control.clients() if c.name == "bank")
        _consents[r.id_number] = flow.actors.consent(r.token, bank_id)
    return _consents[r.id_number]


def _ref(record: StoredRecord) -> dict[str, Any]:
    return record.ref.model_dump()


def _file(flow: Flow, r: Resident, **extra: Any) -> Any:
    body = {"record": _ref(r.penalty), "reason": "此处罚已被撤销 / the penalty was revoked"}
    return flow.http.post("/v1/me/disputes", headers=auth(r.token), json=body | extra)


def _correction(flow: Flow, r: Resident, **changes: str) -> bytes:
    """The disputed penalty's source row as its provider holds it, changed, as a CSV."""
    source = (
        Path(flow.world.settings.home).parent / "data/market_regulation" / f"{PENALTIES}.parquet"
    )
    rows = [row for row in pq.read_table(source).to_pylist() if row["record_id"] == r.penalty.key]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerow({k: "" if v is None else str(v) for k, v in (rows[0] | changes).items()})
    return out.getvalue().encode()


def _correct(flow: Flow, dispute: str, content: bytes, form: dict[str, str] | None = None) -> Any:
    """The correction, signed by the provider over exactly this file (its statement naming
    the dispute), unless ``form`` says otherwise."""
    form = form or flow.provider_key.contribution(PENALTIES, content, dispute=dispute)
    return flow.http.post(f"/v1/corrections?dispute={dispute}", headers=auth(flow.provider),
                          data=form, files={"file": ("fix.csv", content, "text/csv")})  # fmt: skip


def signed_answer(key: ClientKey, dispute: str, outcome: str, note: str = "",
                  at: dt.datetime | None = None) -> dict[str, str]:  # fmt: skip
    """The body of a provider's answer with its detached JWS over the canonical answer (the
    test's own JOSE: joserfc, and JSON with sorted keys for RFC 8785's ASCII objects)."""
    when = (at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    statement = {"v": 1, "client_id": key.client_id, "dispute": dispute, "outcome": outcome,
                 "answered_at": when, "note_sha256": hashlib.sha256(note.encode()).hexdigest()}  # fmt: skip
    raw = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    header = {"alg": key.alg, "kid": key.key.thumbprint(), "typ": "dexin-dispute-answer+jws"}
    head, _, sig = jws.serialize_compact(header, raw, key.key, algorithms=[key.alg]).split(".")
    return {"outcome": outcome, "note": note, "answered_at": when, "signature": f"{head}..{sig}"}


def _answer(flow: Flow, dispute: str, outcome: str, note: str = "", **kw: Any) -> Any:
    body = signed_answer(flow.provider_key, dispute, outcome, note, **kw)
    return flow.http.post(f"/v1/disputes/{dispute}/answer", headers=auth(flow.provider), json=body)


# -- the workflow: filed, marked, answered by correction ----------------------------------------


def test_a_dispute_marks_every_score_until_a_correction_answers_it(flow: Flow) -> None:
    r = _resident(flow, lambda p: p.values["severity"] in ("general", "serious"))
    before = _score(flow, r)
    assert before["disputed"] is False
    pdf = {"name": "撤销决定.pdf", "media_type": "application/pdf",
           "content": base64.b64encode(PDF).decode()}  # fmt: skip
    filed = _file(flow, r, attachment=pdf)
    assert filed.status_code == 201, filed.text
    dispute = filed.json()
    assert (dispute["status"], dispute["days_left"], dispute["attachment"]["size"]) == (
        "open",
        19,
        len(PDF),
    )
    due = dt.datetime.fromisoformat(dispute["due_at"]) - dt.datetime.fromisoformat(
        dispute["received_at"]
    )
    assert due == dt.timedelta(days=20)
    assert _score(flow, r)["disputed"] is True  # marked at once, in the next bank answer
    report = flow.http.get("/v1/me/report", headers=auth(r.token)).json()  # and in the report
    [line] = [x for t in report["tables"] for x in t["records"] if x["record"] == _ref(r.penalty)]
    assert line["disputed"] is True and report["score"]["disputed"] is True

    inbox = flow.http.get("/v1/disputes", headers=auth(flow.provider)).json()
    mine = next(d for d in inbox if d["id"] == dispute["id"])
    assert mine["reason"] is None and mine["record_key"] == r.penalty.key  # the list: no texts
    detail = flow.http.get(f"/v1/disputes/{dispute['id']}", headers=auth(flow.provider)).json()
    assert detail["reason"].startswith("此处罚已被撤销") and detail["days_left"] == 19
    sent = flow.http.get(f"/v1/disputes/{dispute['id']}/attachment", headers=auth(flow.provider))
    assert sent.content == PDF and sent.headers["content-disposition"] == "attachment"

    fixed = _correct(flow, dispute["id"], _correction(flow, r, severity="minor"))
    assert fixed.status_code == 201, fixed.text
    answer, receipt = fixed.json()["dispute"], fixed.json()["contribution"]
    assert (answer["status"], answer["outcome"], answer["late"]) == ("answered", "corrected", False)
    assert answer["correction"] == receipt["contribution_id"] and receipt["anchor"]
    anchor = flow.world.ledger.get_anchor(bytes.fromhex(receipt["merkle_root"]))
    assert (anchor.kind, anchor.size) == (AnchorKind.CONTRIBUTION, 1)

    after = _score(flow, r)
    assert after["disputed"] is False
    assert after["dimensions"]["law_abiding"] > before["dimensions"]["law_abiding"]
    assert after["morality_points"] > before["morality_points"]
    for cid in (r.penalty.ref.contribution_id, receipt["contribution_id"]):  # both still verify
        assert list(check_contribution(flow.world.vault, cid).problems()) == []
    shown = flow.http.get("/v1/me/disputes", headers=auth(r.token)).json()
    assert [(d["id"], d["outcome"]) for d in shown] == [(dispute["id"], "corrected")]


def test_a_correction_that_does_not_restate_the_record_answers_nothing(flow: Flow) -> None:
    r = _resident(flow)
    dispute = _file(flow, r).json()["id"]
    other = _correction(flow, r, record_id="X-" + r.penalty.key[2:], severity="minor")
    refused = _correct(flow, dispute, other)
    assert refused.status_code == 422 and refused.json()["reason"] == "contribution_refused"
    assert refused.json()["receipt"]["refusal"] == "correction_must_restate_the_record"
    form = flow.provider_key.contribution("criminal_judgments", b"a\n1\n", dispute=dispute)
    wrong_table = flow.http.post(f"/v1/corrections?dispute={dispute}", headers=auth(flow.provider),
                                 data=form, files={"file": ("f.csv", b"a\n1\n", "text/csv")})  # fmt: skip
    assert wrong_table.status_code == 422 and wrong_table.json()["reason"] == "wrong_table"
    state = flow.http.get(f"/v1/disputes/{dispute}", headers=auth(flow.provider)).json()
    assert state["status"] == "open" and _score(flow, r)["disputed"] is True


# -- the provider proves its own answer ---------------------------------------------------------


def _forger(flow: Flow) -> ClientKey:
    """A key the provider never registered, claiming to be it."""
    mine = flow.provider_key
    return ClientKey(mine.client_id, ECKey.generate_key("P-256"), name=mine.name)


def test_a_correction_is_signed_by_its_provider_or_refused(flow: Flow) -> None:
    r = _resident(flow, lambda p: p.values["severity"] in ("general", "serious"))
    dispute = _file(flow, r).json()["id"]
    content = _correction(flow, r, severity="minor")
    stored = len(flow.world.vault.contributions())
    for form, reason in (
        ({"table": PENALTIES}, "contribution_unsigned"),
        (_forger(flow).contribution(PENALTIES, content, dispute=dispute),
         "contribution_signature_invalid"),
        (flow.provider_key.contribution(PENALTIES, content), "contribution_statement_mismatch"),
        (flow.provider_key.contribution(PENALTIES, content + b"\n", dispute=dispute),
         "contribution_statement_mismatch"),
    ):  # fmt: skip
        refused = _correct(flow, dispute, content, form)
        assert (refused.status_code, refused.json()["reason"]) == (422, reason), refused.text
        assert refused.json()["type"] == "urn:dexin:problem:signature-refused"
    assert len(flow.world.vault.contributions()) == stored  # refused before a row was read
    assert (
        flow.http.get(f"/v1/disputes/{dispute}", headers=auth(flow.provider)).json()["status"]
        == "open"
    )

    fixed = _correct(flow, dispute, content)
    assert fixed.status_code == 201, fixed.text
    correction = fixed.json()["contribution"]["contribution_id"]
    keys = provider_keys(flow.actors.control)
    [verdict] = [v for v in verify_contributions(flow.world.ledger, flow.world.vault, keys=keys)
                 if v.contribution_id == correction]  # fmt: skip
    assert (verdict.origin, verdict.ok, verdict.problems) == ("provider", True, [])
    kept = json.loads(flow.world.vault.contribution(correction)["attestation"])
    assert json.loads(kept["statement"])["dispute"] == dispute
    answered = _log_entry(flow, dispute, "answered")
    assert answered["signature_sha256"] == hashlib.sha256(kept["signature"].encode()).hexdigest()
    assert _answer_problems(flow, dispute) == []


def test_an_answer_is_signed_by_its_provider_or_refused(flow: Flow) -> None:
    r = _resident(flow)
    dispute = _file(flow, r).json()["id"]
    path = f"/v1/disputes/{dispute}/answer"
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    swapped = signed_answer(flow.provider_key, dispute, "confirmed") | {"outcome": "deleted"}
    for body, reason in (
        ({"outcome": "confirmed"}, "answer_unsigned"),
        (signed_answer(_forger(flow), dispute, "confirmed"), "answer_signature_invalid"),
        (swapped, "answer_signature_invalid"),
        (signed_answer(flow.provider_key, dispute, "confirmed", "一", ) | {"note": "二"},
         "answer_signature_invalid"),
        (signed_answer(flow.provider_key, dispute, "confirmed", at=two_hours_ago),
         "answer_statement_mismatch"),
    ):  # fmt: skip
        refused = flow.http.post(path, headers=auth(flow.provider), json=body)
        assert (refused.status_code, refused.json()["reason"]) == (422, reason), refused.text
    vault = flow.world.vault
    assert any(x.ref == r.penalty.ref for x in subject_records(vault, r.penalty.subject))
    assert (
        flow.http.get(f"/v1/disputes/{dispute}", headers=auth(flow.provider)).json()["status"]
        == "open"
    )

    ok = _answer(flow, dispute, "confirmed", "经核查无误")
    assert ok.status_code == 200, ok.text
    assert _log_entry(flow, dispute, "answered")["signer_kid"] == flow.provider_key.key.thumbprint()
    assert _answer_problems(flow, dispute) == []


def _log_entry(flow: Flow, reference: str, event: str) -> dict[str, Any]:
    """The last leaf of the dispute log of ``event`` for ``reference``, as stored."""
    engine = open_engine(flow.world.database_url, schema=flow.world.schema)
    try:
        with session_factory(engine)() as s:
            q = select(DisputeEvent.entry).where(DisputeEvent.dispute_id == reference,
                                                 DisputeEvent.event == event)  # fmt: skip
            entries = list(s.scalars(q.order_by(DisputeEvent.seq)))
    finally:
        engine.dispose()
    assert entries, (reference, event)
    return dict(json.loads(entries[-1]))


def _answer_problems(flow: Flow, dispute: str) -> list[str]:
    engine = open_engine(flow.world.database_url, schema=flow.world.schema)
    try:
        _, problems = answer_signature_problems(engine, provider_keys(flow.actors.control))
    finally:
        engine.dispose()
    return [p for p in problems if dispute in p]


# -- who may do what ---------------------------------------------------------------------------


def test_a_resident_disputes_only_their_own_records_once(flow: Flow) -> None:
    r, other = _resident(flow), _resident(flow)
    theirs = {"record": _ref(other.penalty), "reason": "not mine"}
    r_other = flow.http.post("/v1/me/disputes", headers=auth(r.token), json=theirs)
    assert r_other.status_code == 404 and r_other.json()["reason"] == "record_not_found"
    assert _file(flow, r).status_code == 201
    again = _file(flow, r)
    assert again.status_code == 409 and again.json()["reason"] == "dispute_already_open"


def test_another_provider_neither_sees_nor_answers_a_dispute(flow: Flow) -> None:
    r = _resident(flow)
    dispute = _file(flow, r).json()["id"]
    _, stranger = flow.actors.token(Role.PROVIDER, "urban_management")
    assert all(
        d["id"] != dispute for d in flow.http.get("/v1/disputes", headers=auth(stranger)).json()
    )
    for method, path, body in (("GET", f"/v1/disputes/{dispute}", None),
                               ("GET", f"/v1/disputes/{dispute}/attachment", None),
                               ("POST", f"/v1/disputes/{dispute}/answer", {"outcome": "deleted"})):  # fmt: skip
        answered = flow.http.request(method, path, headers=auth(stranger), json=body)
        assert answered.status_code == 404, (path, answered.text)
        assert answered.json()["reason"] == "dispute_not_found"


def test_an_attachment_is_bounded_checked_and_sealed_at_rest(flow: Flow) -> None:
    r = _resident(flow)
    limit = flow.world.settings.gateway.dispute_attachment_max
    big = {"name": "a.pdf", "media_type": "application/pdf",
           "content": base64.b64encode(b"%PDF-" + b"x" * limit).decode()}  # fmt: skip
    too_big = _file(flow, r, attachment=big)
    assert too_big.status_code == 413
    lying = {"name": "a.png", "media_type": "image/png", "content": base64.b64encode(PDF).decode()}
    assert _file(flow, r, attachment=lying).json()["reason"] == "attachment_invalid"
    text = {"name": "note.txt", "media_type": "text/plain",
            "content": base64.b64encode(b"SECRET-MARKER-7731 in a note").decode()}  # fmt: skip
    assert _file(flow, r, attachment=text, reason="SECRET-MARKER-7731 why").status_code == 201
    database = Path(flow.world.database_url.split("///", 1)[-1])
    if database.exists():  # SQLite: nothing of the reason or the file is stored in clear
        stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        assert b"SECRET-MARKER-7731" not in stored


def test_the_provider_confirms_or_deletes_and_the_officers_confirm_a_score(flow: Flow) -> None:
    kept, gone = _resident(flow), _resident(flow)
    first, second = _file(flow, kept).json()["id"], _file(flow, gone).json()["id"]
    ok = _answer(flow, first, "confirmed", "经核查无误")
    assert ok.status_code == 200 and ok.json()["outcome"] == "confirmed"
    again = _answer(flow, first, "deleted")
    assert again.status_code == 409 and again.json()["reason"] == "dispute_already_answered"
    deleted = _answer(flow, second, "deleted", "已删除")
    assert deleted.json()["outcome"] == "deleted"
    vault = flow.world.vault
    left = subject_records(vault, vault.subject_pseudonym(gone.id_number))
    assert all(x.ref != gone.penalty.ref for x in left)
    assert list(check_contribution(vault, gone.penalty.ref.contribution_id).problems()) == []
    change = _log_entry(flow, second, "row_changed")  # the deletion is a leaf of its own
    assert (change["change"], change["contribution"], change["row"]) == (
        "deleted",
        gone.penalty.ref.contribution_id,
        gone.penalty.ref.row,
    )

    score_dispute = flow.http.post("/v1/me/disputes", headers=auth(kept.token),
                                   json={"reason": "我的评分有误"}).json()["id"]  # fmt: skip
    provider = _answer(flow, score_dispute, "confirmed")
    assert provider.status_code == 404  # a score's dispute is the officers'
    officer = flow.actors.token(Role.OFFICER)[1]
    confirmed = flow.http.post(f"/v1/disputes/{score_dispute}/answer", headers=auth(officer),
                               json={"outcome": "confirmed", "note": "评分按发布的模型计算"})  # fmt: skip
    assert confirmed.status_code == 200 and confirmed.json()["outcome"] == "confirmed"
    mine = flow.http.get("/v1/me/disputes", headers=auth(kept.token)).json()
    assert {d["note"] for d in mine} == {"经核查无误", "评分按发布的模型计算"}


# -- the clock: escalation, and the auditor's verdict ------------------------------------------


def _entries(flow: Flow, action: str) -> list[Any]:
    with LogReader(flow.world.settings.audit_dir) as reader:
        found = [decode_entry(raw)[1] for raw in reader.entries()]
    return [e for e in found if e.action == action]


def _verify(flow: Flow) -> Any:
    settings = flow.world.settings
    env = {"DEXIN_HOME": str(settings.home), "DEXIN_MASTER_KEY": settings.master_key_hex,
           "DATABASE_URL": flow.world.database_env()}  # fmt: skip
    flow.http.app.state.gateway.audit.log.checkpoint_now()  # type: ignore[attr-defined]
    return CliRunner().invoke(audit_cli.app, ["verify", "--skip-anchors", "--json"], env=env)


def test_a_dispute_left_past_20_days_is_escalated_and_named_by_the_verifier(
    flow: Flow, clock: list[dt.datetime]
) -> None:
    never, late = _resident(flow), _resident(flow)
    real = clock[0]
    clock[0] = real - dt.timedelta(days=25)
    unanswered, answered = _file(flow, never).json()["id"], _file(flow, late).json()["id"]
    clock[0] = real - dt.timedelta(days=19)  # on the clock: nothing is escalated yet
    officer = flow.actors.token(Role.OFFICER)[1]
    states = {
        d["id"]: d["status"] for d in flow.http.get("/v1/disputes", headers=auth(officer)).json()
    }
    assert states[unanswered] == states[answered] == "open"

    clock[0] = real  # 25 days after: past the deadline
    listed = flow.http.get("/v1/disputes", headers=auth(officer)).json()
    states = {d["id"]: (d["status"], d["days_left"]) for d in listed}
    assert states[unanswered] == states[answered] == ("escalated", -5)
    escalations = _entries(flow, "escalate dispute")
    assert {json.loads(e.parameters)["dispute"] for e in escalations} >= {unanswered, answered}
    late_answer = _answer(flow, answered, "confirmed", at=real)
    assert late_answer.json()["late"] is True

    result = _verify(flow)
    assert result.exit_code == 1, result.output
    problem = json.loads(result.stdout)["problem"]
    assert problem["check"] == "dispute-deadline" and problem["actual"].startswith("2 of ")
    assert (
        f"dispute {unanswered} (administrative_penalties of market_regulation)" in problem["detail"]
    )
    assert "not answered by its deadline" in problem["detail"]
    assert f"dispute {answered} " in problem["detail"] and "after its deadline" in problem["detail"]


def test_the_dispute_log_is_anchored_after_every_event(flow: Flow) -> None:
    r = _resident(flow)
    _file(flow, r)
    desk = flow.http.app.state.gateway.disputes  # type: ignore[attr-defined]
    size, root = desk.log.state()
    anchor = flow.world.ledger.get_anchor(root)
    assert (anchor.kind, anchor.size, anchor.metadata_digest) == (
        AnchorKind.CONSENT_LOG,
        size,
        METADATA,
    )


# -- credit repair -----------------------------------------------------------------------------


def _repairable(day: dt.date) -> Any:
    """A penalty repairable on ``day`` whose window is still open through tomorrow: a repair
    filed without a date takes today's (the clock's), which may lie after the as-of day."""
    last = max(day, dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)
    return lambda p: (
        p.repairable_from is not None
        and p.repairable_from <= day
        and (p.lapses_on is None or p.lapses_on > last)
    )


def signed_repair(key: ClientKey, *, repair: str | None = None,
                  record: dict[str, Any] | None = None, decision: str = "granted",
                  repaired_on: str | None = None, note: str = "",
                  at: dt.datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """A provider's repair (or decision) body with its detached JWS over the canonical repair
    statement (the test's own JOSE, like `signed_answer`)."""
    when = (at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    statement = {"v": 1, "client_id": key.client_id, "repair": repair, "record": record,
                 "decision": decision, "repaired_on": repaired_on, "signed_at": when,
                 "note_sha256": hashlib.sha256(note.encode()).hexdigest()}  # fmt: skip
    raw = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    header = {"alg": key.alg, "kid": key.key.thumbprint(), "typ": "dexin-credit-repair+jws"}
    head, _, sig = jws.serialize_compact(header, raw, key.key, algorithms=[key.alg]).split(".")
    return {"repaired_on": repaired_on, "note": note, "signed_at": when,
            "signature": f"{head}..{sig}"}  # fmt: skip


def _repair(flow: Flow, record: dict[str, Any], repaired_on: str | None = None,
            note: str = "") -> Any:  # fmt: skip
    body = {"record": record, **signed_repair(flow.provider_key, record=record,
                                              repaired_on=repaired_on, note=note)}  # fmt: skip
    return flow.http.post("/v1/repairs", headers=auth(flow.provider), json=body)


def _decide(flow: Flow, repair: str, decision: str, repaired_on: str | None = None,
            note: str = "") -> Any:  # fmt: skip
    body = {"decision": decision, **signed_repair(flow.provider_key, repair=repair,
                                                  decision=decision, repaired_on=repaired_on,
                                                  note=note)}  # fmt: skip
    return flow.http.post(f"/v1/repairs/{repair}/decision", headers=auth(flow.provider),
                          json=body)  # fmt: skip


def _repair_problems(flow: Flow, repair: str) -> list[str]:
    engine = open_engine(flow.world.database_url, schema=flow.world.schema)
    try:
        _, problems = repair_signature_problems(engine, provider_keys(flow.actors.control))
    finally:
        engine.dispose()
    return [p for p in problems if repair in p]


def test_a_repair_changes_the_score_from_its_date(flow: Flow) -> None:
    as_of = flow.world.vault.as_of
    now, later = _resident(flow, _repairable(as_of)), _resident(flow, _repairable(as_of))
    before_now, before_later = _score(flow, now), _score(flow, later)
    for r, day in ((now, as_of), (later, as_of + dt.timedelta(days=1))):
        filed = _repair(flow, _ref(r.penalty), day.isoformat(), "已履行完毕")
        assert filed.status_code == 201, filed.text
        assert (filed.json()["status"], filed.json()["origin"]) == ("granted", "provider")
    repaired = _score(flow, now)
    assert repaired["morality_points"] > before_now["morality_points"]
    assert ("RP01", "note") in {(c["code"], c["kind"]) for c in repaired["reason_codes"]}
    not_yet = _score(flow, later)  # repaired from tomorrow: on the as-of day it still counts
    assert not_yet["morality_points"] == before_later["morality_points"]
    assert "RP01" not in {c["code"] for c in not_yet["reason_codes"]}
    mine = flow.http.get("/v1/me/repairs", headers=auth(now.token)).json()
    assert [(x["status"], x["repaired_on"]) for x in mine] == [("granted", as_of.isoformat())]
    change = _log_entry(flow, mine[0]["id"], "row_changed")  # a leaf of the anchored log
    assert (change["change"], change["row"], change["effective"]) == (
        "repaired",
        now.penalty.ref.row,
        as_of.isoformat(),
    )
    desk = flow.http.app.state.gateway.disputes  # type: ignore[attr-defined]
    size, root = desk.log.state()
    assert flow.world.ledger.get_anchor(root).size == size


def test_a_resident_applies_after_the_minimum_and_the_provider_decides(
    flow: Flow, clock: list[dt.datetime]
) -> None:
    as_of = flow.world.vault.as_of
    r = _resident(flow, _repairable(as_of))
    body = {"record": _ref(r.penalty), "reason": "罚款已缴清，已整改"}
    assert r.penalty.repairable_from is not None
    clock[0] = dt.datetime.combine(r.penalty.repairable_from, dt.time(), dt.UTC) - dt.timedelta(
        days=1
    )
    early = flow.http.post("/v1/me/repairs", headers=auth(r.token), json=body)
    assert early.status_code == 409 and early.json()["reason"] == "repair_before_minimum"
    clock[0] = dt.datetime.combine(as_of, dt.time(12), dt.UTC)
    applied = flow.http.post("/v1/me/repairs", headers=auth(r.token), json=body)
    assert applied.status_code == 201 and applied.json()["status"] == "pending"
    pending = flow.http.get("/v1/repairs", headers=auth(flow.provider)).json()
    assert any(x["id"] == applied.json()["id"] and x["reason"] == body["reason"] for x in pending)
    before = _score(flow, r)
    clock[0] = dt.datetime.now(dt.UTC)  # the provider signs and decides now, from the as-of day
    decided = _decide(flow, applied.json()["id"], "granted", as_of.isoformat())
    assert decided.status_code == 200 and decided.json()["repaired_on"] == as_of.isoformat()
    assert _score(flow, r)["morality_points"] > before["morality_points"]


def test_a_repair_is_signed_by_its_provider_or_refused(flow: Flow) -> None:
    as_of = flow.world.vault.as_of
    r, other = _resident(flow, _repairable(as_of)), _resident(flow, _repairable(as_of))
    record, on, key = _ref(r.penalty), as_of.isoformat(), flow.provider_key
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    day_before = (as_of - dt.timedelta(days=1)).isoformat()
    for signed, reason in (
        ({"repaired_on": on}, "repair_unsigned"),
        (signed_repair(_forger(flow), record=record, repaired_on=on), "repair_signature_invalid"),
        (signed_repair(key, record=_ref(other.penalty), repaired_on=on),
         "repair_signature_invalid"),
        (signed_repair(key, record=record, repaired_on=on) | {"repaired_on": day_before},
         "repair_signature_invalid"),
        (signed_repair(key, record=record, repaired_on=on, note="一") | {"note": "二"},
         "repair_signature_invalid"),
        (signed_repair(key, record=record, repaired_on=on, at=two_hours_ago),
         "repair_statement_mismatch"),
    ):  # fmt: skip
        refused = flow.http.post("/v1/repairs", headers=auth(flow.provider),
                                 json={"record": record, **signed})  # fmt: skip
        assert (refused.status_code, refused.json()["reason"]) == (422, reason), refused.text
        assert refused.json()["type"] == "urn:dexin:problem:signature-refused"
    vault = flow.world.vault
    assert [x.repaired_on for x in subject_records(vault, r.penalty.subject)
            if x.ref == r.penalty.ref] == [None]  # fmt: skip
    assert flow.http.get("/v1/me/repairs", headers=auth(r.token)).json() == []

    filed = _repair(flow, record, on, "已整改")
    assert filed.status_code == 201, filed.text
    repair = filed.json()["id"]
    kept = json.loads(_stored_repair(flow, repair).attestation or "{}")
    assert json.loads(kept["statement"])["record"] == record
    change = _log_entry(flow, repair, "row_changed")
    assert change["signer_kid"] == kept["kid"] == key.key.thumbprint()
    assert change["signature_sha256"] == hashlib.sha256(kept["signature"].encode()).hexdigest()
    assert _repair_problems(flow, repair) == []

    # the decision on a resident's application is signed too, naming that application
    applied = flow.http.post("/v1/me/repairs", headers=auth(other.token),
                             json={"record": _ref(other.penalty), "reason": "已整改"})  # fmt: skip
    assert applied.status_code == 201, applied.text
    application = applied.json()["id"]
    path = f"/v1/repairs/{application}/decision"
    for body, reason in (
        ({"decision": "refused"}, "repair_unsigned"),
        ({"decision": "refused", **signed_repair(key, repair=repair, decision="refused")},
         "repair_signature_invalid"),
        ({"decision": "refused", **signed_repair(key, repair=application)},
         "repair_signature_invalid"),
        ({"decision": "refused",
          **signed_repair(_forger(flow), repair=application, decision="refused")},
         "repair_signature_invalid"),
    ):  # fmt: skip
        refused = flow.http.post(path, headers=auth(flow.provider), json=body)
        assert (refused.status_code, refused.json()["reason"]) == (422, reason), refused.text
    assert _stored_repair(flow, application).status == "pending"
    decided = _decide(flow, application, "refused", note="材料不足")
    assert decided.status_code == 200 and decided.json()["status"] == "refused", decided.text
    assert _repair_problems(flow, application) == []


def _stored_repair(flow: Flow, repair: str) -> Repair:
    engine = open_engine(flow.world.database_url, schema=flow.world.schema)
    try:
        with session_factory(engine)() as s:
            row = s.get(Repair, repair)
    finally:
        engine.dispose()
    assert row is not None
    return row


# -- the console -------------------------------------------------------------------------------

HTML = {"accept": "text/html"}


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path, headers=HTML).text)
    assert found
    return found.group(1)


@pytest.fixture
def browser(flow: Flow) -> Iterator[TestClient]:
    """A cookie jar of its own on the running app (no second lifespan)."""
    client = TestClient(flow.http.app, raise_server_exceptions=False)
    yield client
    client.close()


def test_a_resident_disputes_from_the_console_with_a_file(flow: Flow, browser: TestClient) -> None:
    r = _resident(flow)
    signed = browser.post("/console/login/subject", headers=HTML,
                          data={"id_number": r.id_number, "csrf": _csrf(browser, "/console/login")})  # fmt: skip
    assert signed.status_code == 200
    page = browser.get("/console/me/disputes", headers=HTML)
    value = f"{r.penalty.ref.table}:{r.penalty.ref.contribution_id}:{r.penalty.ref.row}"
    assert f'value="{value}"' in page.text and r.id_number not in page.text
    form = {
        "record": value,
        "reason": "不是我的记录",
        "csrf": _csrf(browser, "/console/me/disputes"),
    }
    filed = browser.post("/console/me/disputes", data=form, headers=HTML,
                         files={"attachment": ("receipt.pdf", PDF, "application/pdf")})  # fmt: skip
    assert filed.status_code == 200 and 'data-status="open"' in filed.text
    assert "异议中" in filed.text  # the record's mark, on the page the redirect shows
    assert 'id="score-disputed"' in browser.get("/console/me", headers=HTML).text
    [mine] = flow.http.get("/v1/me/disputes", headers=auth(r.token)).json()
    assert mine["attachment"] == {"name": "receipt.pdf", "media_type": "application/pdf",
                                  "size": len(PDF)}  # fmt: skip


def test_the_console_form_keeps_the_file_in_memory(flow: Flow, browser: TestClient) -> None:
    """Starlette spools a form's file to a temporary file (in clear) beyond its spool size:
    the console's dispute form is bounded below it, and a larger body is refused."""
    assert MultiPartParser.spool_max_size >= CONSOLE_FORM_MAX
    r = _resident(flow)
    browser.post("/console/login/subject", headers=HTML,
                 data={"id_number": r.id_number, "csrf": _csrf(browser, "/console/login")})  # fmt: skip
    form = {"reason": "x", "csrf": _csrf(browser, "/console/me/disputes")}
    big = b"%PDF-" + b"x" * CONSOLE_FORM_MAX
    refused = browser.post("/console/me/disputes", data=form,
                           files={"attachment": ("big.pdf", big, "application/pdf")})  # fmt: skip
    assert refused.status_code == 413
    assert flow.http.get("/v1/me/disputes", headers=auth(r.token)).json() == []


def test_the_officers_dashboard_shows_every_clock(flow: Flow, browser: TestClient) -> None:
    _, officer = flow.actors.token(Role.OFFICER)
    page = browser.get("/console/officer/disputes", headers=HTML | auth(officer))
    assert page.status_code == 200 and 'id="all-disputes"' in page.text
    listed = flow.http.get("/v1/disputes", headers=auth(officer)).json()
    assert f'id="count-open">{sum(d["status"] == "open" for d in listed)}<' in page.text
    for d in listed:
        assert f'id="dispute-{d["id"]}" data-status="{d["status"]}"' in page.text


def test_a_resident_applies_for_repair_from_the_console(flow: Flow, browser: TestClient) -> None:
    r = _resident(flow, _repairable(flow.world.vault.as_of))
    browser.post("/console/login/subject", headers=HTML,
                 data={"id_number": r.id_number, "csrf": _csrf(browser, "/console/login")})  # fmt: skip
    value = f"{r.penalty.ref.table}:{r.penalty.ref.contribution_id}:{r.penalty.ref.row}"
    page = browser.get("/console/me/disputes", headers=HTML)
    assert f'<option value="{value}">' in page.text.split('id="repair-record"')[1]
    form = {"record": value, "reason": "已整改完毕", "csrf": _csrf(browser, "/console/me/disputes")}
    applied = browser.post("/console/me/repairs", data=form, headers=HTML)
    assert applied.status_code == 200 and 'data-status="pending"' in applied.text
    [mine] = flow.http.get("/v1/me/repairs", headers=auth(r.token)).json()
    assert (mine["status"], mine["reason"], mine["origin"]) == ("pending", "已整改完毕", "resident")


def test_a_providers_staff_see_its_inbox_with_the_clocks_and_answer_with_its_key(
    flow: Flow, browser: TestClient, clock: list[dt.datetime]
) -> None:
    """A console account bound to the provider's client (role provider_staff) reads the
    provider's disputes and nothing else, and the page says how to answer with its key."""
    r, now = _resident(flow), clock[0]
    clock[0] = now - dt.timedelta(days=3)
    mine = _file(flow, r).json()["id"]
    clock[0] = now
    app = flow.http.app
    accounts = ConsoleAccounts(app.state.console_settings.console_accounts,  # type: ignore[attr-defined]
                               app.state.gateway.keys.token_key)  # type: ignore[attr-defined]  # fmt: skip
    secret = accounts.create("mr-staff", Role.PROVIDER_STAFF, flow.provider_key.client_id,
                             "staff password 123")  # fmt: skip
    form = {"username": "mr-staff", "password": "staff password 123",
            "code": pyotp.TOTP(secret).now(), "csrf": _csrf(browser, "/console/login")}  # fmt: skip
    signed = browser.post("/console/login", data=form, follow_redirects=False)
    assert signed.headers["location"] == "/console/provider/disputes", signed.text
    page = browser.get("/console/provider/disputes", headers=HTML)
    assert page.status_code == 200 and "异议收件箱" in page.text
    row = page.text.split(f'id="dispute-{mine}" data-status="open"')[1].split("</tr>")[0]
    assert '<td class="days-left">17</td>' in row and r.penalty.key in row
    assert f"dexin provider answer {mine} confirmed --gateway http://testserver" in page.text
    assert f"dexin provider correct {mine} --table {PENALTIES}" in page.text
    assert r.id_number not in page.text and r.penalty.subject not in page.text
    theirs = {d["id"] for d in flow.http.get("/v1/disputes", headers=auth(flow.provider)).json()}
    shown = set(re.findall(r'id="dispute-(dsp_[0-9a-f]{24})"', page.text))
    assert shown == theirs  # only the provider's own disputes
    assert "Dispute inbox" in browser.get("/console/provider/disputes?lang=en", headers=HTML).text
    for elsewhere in ("/console/officer/disputes", "/console/me/disputes"):
        assert browser.get(elsewhere, headers=HTML).status_code == 403
    _, stranger = flow.actors.token(Role.PROVIDER, "urban_management")  # a client, not staff
    assert flow.http.get("/console/provider/disputes", headers=auth(stranger)).status_code == 403


# -- the auditor: every repair and deletion is in the anchored log ----------------------------


def test_the_verifier_names_a_repair_missing_from_the_anchored_log(flow: Flow) -> None:
    """A granted repair whose leaf is taken out of the stored log (as an operator hiding it
    would) is named by ``dexin audit verify``; the log is put back afterwards."""
    r = _resident(flow, _repairable(flow.world.vault.as_of))
    filed = _repair(flow, _ref(r.penalty), note="已整改")
    assert filed.status_code == 201, filed.text
    repair = filed.json()["id"]
    before = _verify(flow)
    assert before.exit_code == 0 or json.loads(before.stdout)["problem"]["check"] != "row-change"

    engine = open_engine(flow.world.database_url, schema=flow.world.schema)
    try:
        with session_factory(engine).begin() as s:
            leaf = s.scalars(select(DisputeEvent).where(DisputeEvent.dispute_id == repair)).one()
            kept = {c: getattr(leaf, c) for c in ("seq", "dispute_id", "event", "entry",
                                                  "leaf_hash", "anchor", "at")}  # fmt: skip
            s.delete(leaf)
        result = _verify(flow)
    finally:
        with session_factory(engine).begin() as s:
            s.add(DisputeEvent(**kept))
        engine.dispose()
    assert result.exit_code == 1, result.output
    problem = json.loads(result.stdout)["problem"]
    assert problem["check"] == "row-change"
    assert f"repair {repair} ({PENALTIES} of market_regulation" in problem["detail"]
    assert "is not in the anchored dispute log" in problem["detail"]


def test_the_verifier_names_a_repair_whose_stored_signature_was_tampered(flow: Flow) -> None:
    """A repair's kept statement changed afterwards (its date moved) no longer verifies:
    ``dexin audit verify`` names it (``repair-signature``); the row is put back afterwards."""
    r = _resident(flow, _repairable(flow.world.vault.as_of))
    filed = _repair(flow, _ref(r.penalty), note="已整改")
    assert filed.status_code == 201, filed.text
    repair = filed.json()["id"]
    engine = open_engine(flow.world.database_url, schema=flow.world.schema)
    try:
        with session_factory(engine).begin() as s:
            row = s.get(Repair, repair)
            assert row is not None and row.attestation is not None
            kept = row.attestation
            doc = json.loads(kept)
            statement = json.loads(doc["statement"])
            statement["note_sha256"] = hashlib.sha256(b"another note").hexdigest()
            doc["statement"] = json.dumps(statement, sort_keys=True, separators=(",", ":"))
            row.attestation = json.dumps(doc)
        result = _verify(flow)
    finally:
        with session_factory(engine).begin() as s:
            restored = s.get(Repair, repair)
            assert restored is not None
            restored.attestation = kept
        engine.dispose()
    assert result.exit_code == 1, result.output
    problem = json.loads(result.stdout)["problem"]
    assert problem["check"] == "repair-signature", problem
    assert f"repair {repair}: no key registered for the provider then verifies" in problem["detail"]
    assert _repair_problems(flow, repair) == []
