"""Providers submit contributions through the gateway and get the vault's receipt."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from gateway_support import Actors, auth, signed

from governance.credentials import Role


def _csv(tmp_path: Path, actors: Actors, rows: int) -> bytes:
    source = pq.read_table(
        Path(actors.world.settings.home).parent / "data/court/dishonest_debtors.parquet"
    )
    path = tmp_path / "dd.csv"
    import pyarrow.csv as pacsv

    pacsv.write_csv(source.slice(0, rows), path)
    return path.read_bytes()


def test_a_provider_submits_and_gets_an_anchored_receipt(actors: Actors, tmp_path: Path) -> None:
    _, court = actors.token(Role.PROVIDER, "court")
    data = _csv(tmp_path, actors, 5)
    broken = data + b"not,a,valid,row\n"
    run = "SELECT computed_at FROM derived.score_run"
    (before,) = actors.world.vault.query(run)
    r = actors.http.post(
        "/v1/contributions",
        headers=auth(court),
        data=signed(court, "dishonest_debtors", broken),
        files={"file": ("dishonest_debtors.csv", broken, "text/csv")},
    )
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert (receipt["accepted"], receipt["rejected"], receipt["status"]) == (5, 1, "accepted")
    assert receipt["anchor"] and receipt["rejections"][0]["row"] == 6
    # the features are materialised again after the ingest: the next score sees the listing
    source = pq.read_table(
        Path(actors.world.settings.home).parent / "data/court/dishonest_debtors.parquet"
    )
    vault = actors.world.vault
    for id_number in source.column("id_number").to_pylist()[:5]:
        row = vault.lookup("features", "subject", vault.subject_pseudonym(id_number))
        assert row is not None and row["n_dishonest_debtors"] >= 1
    # and the population is scored again with them: persons (the view over the features) and
    # households alike, under a new run
    (after,) = vault.query(run)
    assert after > before
    households = vault.query("SELECT DISTINCT computed_at FROM derived.household_scores")
    assert households == [after]
    again = actors.http.post(
        "/v1/contributions",
        headers=auth(court),
        data=signed(court, "dishonest_debtors", broken),
        files={"file": ("x.csv", broken, "text/csv")},
    )
    assert again.json()["already_loaded"] is True


def test_a_provider_only_submits_its_own_tables(actors: Actors, tmp_path: Path) -> None:
    _, court = actors.token(Role.PROVIDER, "court")
    r = actors.http.post(
        "/v1/contributions",
        headers=auth(court),
        data=signed(court, "residents", b"a,b\n1,2\n"),
        files={"file": ("r.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert (r.status_code, r.json()["reason"]) == (404, "table_not_contributed_by_provider")
    r = actors.http.post(
        "/v1/contributions",
        headers=auth(court),
        data={"table": "dishonest_debtors"},
        files={"file": ("r.txt", b"a,b\n", "text/plain")},
    )
    assert (r.status_code, r.json()["reason"]) == (422, "unsupported_file_type")
    r = actors.http.post(
        "/v1/contributions",
        headers=auth(court),
        data=signed(court, "dishonest_debtors", b"religion,x\n1,2\n"),
        files={"file": ("r.csv", b"religion,x\n1,2\n", "text/csv")},
    )
    assert (r.status_code, r.json()["type"]) == (422, "urn:dexin:problem:contribution-refused")
    assert r.json()["receipt"]["status"] == "refused"
