"""Structured logs (issue 16 §3): every record of a request names its id, and no record ever
holds a personal value. The gateway is driven through scores, denials, consents and
sign-ins with every logger of ours at DEBUG, as `dexin serve --log-level debug` would log,
and all of the output is searched for the ID numbers, pseudonyms and names used."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from gateway_support import Actors, TestClient, auth, score_body
from query_gateway.middleware import AuditMiddleware
from starlette.types import Receive, Scope, Send

from dexin.logs import configure
from governance import REQUEST_ID
from governance.audit_trail import AuditReceipt
from governance.credentials import Role

HTML = {"Accept": "text/html"}
OFFICER_NAME = "officer-王秀英"
BANK_NAME = "bank-余姚李建国"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, as `dexin serve` writes it (JSON)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    out = io.StringIO()
    configure("json", "debug", stream=out)
    yield out
    root.handlers[:], root.level = saved
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path, headers=HTML).text
    marker = 'name="csrf" value="'
    return page[page.index(marker) + len(marker) :].split('"', 1)[0]


def test_no_log_record_holds_an_id_number_a_pseudonym_or_a_name(
    actors: Actors, captured: io.StringIO
) -> None:
    ids = actors.world.ids[20:24]
    bank_id, bank = actors.token(Role.BANK, BANK_NAME)
    actors.officer(OFFICER_NAME)  # an officer signs in (enrols a passkey) under a real name
    rid = actors.approved(bank)
    consents = [actors.consent(actors.subject(i), bank_id) for i in ids[:2]]
    answers = [
        actors.http.post("/v1/scores", headers=auth(bank), json=score_body(ids[0], rid, consents[0])),
        actors.http.post("/v1/scores", headers=auth(bank), json=score_body(ids[2], rid, consents[0])),
        actors.http.post("/v1/scores", headers=auth(bank), json=score_body("110101199001011234", rid, consents[1])),
        actors.http.post("/v1/scores", headers=auth("not-a-token"), json=score_body(ids[3], rid, consents[1])),
    ]  # fmt: skip
    assert [r.status_code for r in answers][:2] == [200, 403]
    subject = actors.subject(ids[1])
    withdrawn = actors.http.delete(f"/v1/consents/{consents[1]}", headers=auth(subject))
    assert withdrawn.status_code == 204, withdrawn.text
    for path in (f"/v1/subjects/{ids[0]}/score", f"/v1/scores?id_number={ids[0]}"):
        assert actors.http.get(path, headers=auth(bank)).status_code in (404, 405)  # misuse
    after = actors.http.post(
        "/v1/scores", headers=auth(bank), json=score_body(ids[1], rid, consents[1])
    )
    assert after.status_code == 403
    browser = TestClient(actors.http.app, raise_server_exceptions=False)
    for id_number in (ids[3], "not-an-id-number"):  # a resident's sign-in, and a bad one
        browser.post("/console/login/subject", headers=HTML,
                     data={"id_number": id_number, "csrf": csrf(browser, "/console/login")})  # fmt: skip
    browser.post("/console/login", headers=HTML, data={"username": OFFICER_NAME,
                 "password": "wrong", "code": "000000", "csrf": csrf(browser, "/console/login")})  # fmt: skip
    browser.close()
    logged = captured.getvalue()
    vault = actors.world.vault
    secrets = [*ids, "110101199001011234", OFFICER_NAME, BANK_NAME, "王秀英", "李建国",
               *(vault.subject_pseudonym(i) for i in ids)]  # fmt: skip
    found = [s for s in secrets if s in logged]
    assert not found, f"{len(found)} personal values in the log"
    for line in logged.splitlines():
        assert set(json.loads(line)) >= {"time", "level", "logger", "message", "request_id"}


def test_every_record_of_a_request_names_its_id(captured: io.StringIO) -> None:
    """Records written while a request is handled, by the route and by a thread it starts,
    carry the id the answer's ``Dexin-Request-Id`` header names; outside a request, none."""

    class Kept:
        def append(self, entry: object) -> AuditReceipt:
            return AuditReceipt(0, "00" * 32)

        def close(self) -> None:
            pass

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        import anyio

        logging.getLogger("query_gateway").warning("inside the route")
        await anyio.to_thread.run_sync(logging.getLogger("governance").warning, "in a thread")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    app = AuditMiddleware(route, sink=lambda: Kept())  # type: ignore[arg-type, return-value]
    client = TestClient(app)  # type: ignore[arg-type]  # (no lifespan: a bare route)
    r = client.get("/")
    logging.getLogger("query_gateway").warning("after the request")
    records = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert [x["message"] for x in records][:2] == ["inside the route", "in a thread"]
    assert records[2]["message"].startswith("GET (no route) 200 -")  # the access line
    assert records[3]["message"] == "after the request"
    assert [x["request_id"] for x in records] == [r.headers["dexin-request-id"]] * 3 + [None]
    assert REQUEST_ID.get() is None


def test_an_exception_is_logged_by_type_and_place_never_by_its_message(
    captured: io.StringIO,
) -> None:
    try:
        raise ValueError("invalid ID number 330281199001011234")
    except ValueError:
        logging.getLogger("governance").exception("a refused input")
    record = json.loads(captured.getvalue())
    assert record["error"].startswith("ValueError at test_gateway_logs.py:")
    assert "330281199001011234" not in captured.getvalue()
