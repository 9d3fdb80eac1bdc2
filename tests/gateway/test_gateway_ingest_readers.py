"""Pages that only read never wait for an ingest: while a provider's large contribution is
being ingested (the gateway's writers' lock held), the officer's registry and the auditor's
page answer at once, and the receipt appears once the ingest is done."""

from __future__ import annotations

import threading
import time

from gateway_support import Actors, auth, signed

from governance.credentials import Role
from vault.idnumber import check_char

ROWS = 150_000


def _large_contribution() -> bytes:
    """Rows the vault checks one by one and rejects (an amount that is not a number), so the
    ingest takes seconds and leaves the session's vault as it was."""
    first17 = "33029119800315011"
    person = (first17 + check_char(first17)).encode()
    rows = b"".join(b"YZX-2025-%010d,%s,2025-01-01,,not-a-number,contract\n" % (i, person)
                    for i in range(ROWS))  # fmt: skip
    return b"record_id,id_number,listed_date,removed_date,amount,case_type\n" + rows


def test_officer_and_auditor_pages_answer_during_an_ingest(actors: Actors) -> None:
    gw = actors.http.app.state.gateway  # type: ignore[attr-defined]
    _, court = actors.token(Role.PROVIDER, "court")
    _, officer = actors.token(Role.OFFICER, "reader")
    _, auditor = actors.token(Role.AUDITOR, "reader")
    data = _large_contribution()
    answers: list[int] = []

    def submit() -> None:
        r = actors.http.post("/v1/contributions", headers=auth(court),
                             data=signed(court, "dishonest_debtors", data),
                             files={"file": ("big.csv", data, "text/csv")})  # fmt: skip
        answers.append(r.status_code)

    ingest = threading.Thread(target=submit)
    ingest.start()
    deadline = time.monotonic() + 60
    while not gw.ingest_lock.locked():  # the upload is in; the ingest has begun
        assert ingest.is_alive() and time.monotonic() < deadline, "no ingest began"
        time.sleep(0.01)
    pages = [actors.http.get("/console/officer/registry", headers=auth(officer)),
             actors.http.get("/console/auditor", headers=auth(auditor))]  # fmt: skip
    still_ingesting = gw.ingest_lock.locked()
    ingest.join(timeout=300)
    assert [p.status_code for p in pages] == [200, 200]
    assert still_ingesting, "the pages answered only once the ingest was over"
    assert answers == [201]
    registry = actors.http.get("/console/officer/registry", headers=auth(officer))
    assert f"{ROWS}" in registry.text or f"{ROWS:,}" in registry.text
