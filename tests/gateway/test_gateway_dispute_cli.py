"""`dexin provider correct | repair | decide`: a provider's correction, repair and decision on
an application are signed with its own key from the command line (another process, as a
provider's machine would be), accepted and verifiable afterwards; its repair is a leaf of
the anchored dispute log binding its signature (issue 18)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from gateway_support import Actors, admin_cli, auth, dexin_cli, served_on_port

from governance import (
    answer_signature_problems,
    provider_keys,
    repair_signature_problems,
    verify_contributions,
)
from governance.db import open_engine
from governance.row_change_audit import (
    anchored_changes,
    recorded_changes,
    row_change_findings,
    vault_changes,
)
from vault import StoredRecord, row_changes, subject_records

PENALTIES = "administrative_penalties"
AMONG = slice(600, 900)  # residents no other test of the session's world uses


@pytest.fixture
def served(actors: Actors) -> Iterator[str]:
    with served_on_port(actors) as url:
        yield url


def _key(actors: Actors, directory: Path) -> str:
    made = admin_cli(actors, "create-client", "--role", "provider", "--name", "market_regulation",
                     "--generate-key", str(directory), "--json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    return str(json.loads(made.stdout)["key_file"])


def _penalties(actors: Actors) -> Iterator[tuple[str, StoredRecord]]:
    vault = actors.world.vault
    for id_number in actors.world.ids[AMONG]:
        for r in subject_records(vault, vault.subject_pseudonym(id_number)):
            if (r.ref.table, r.provider, r.status) == (PENALTIES, "market_regulation", "counts"):
                yield id_number, r


def _correction(actors: Actors, record: StoredRecord, path: Path) -> Path:
    """The penalty's source row as its provider holds it, made minor, as a CSV file."""
    source = (
        Path(actors.world.settings.home).parent / "data/market_regulation" / f"{PENALTIES}.parquet"
    )
    [row] = [x for x in pq.read_table(source).to_pylist() if x["record_id"] == record.key]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(
        {k: "" if v is None else str(v) for k, v in (row | {"severity": "minor"}).items()}
    )
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_a_provider_corrects_with_a_signed_contribution_from_the_command_line(
    actors: Actors, served: str, tmp_path: Path
) -> None:
    key = _key(actors, tmp_path / "keys")
    id_number, record = next(
        (i, r) for i, r in _penalties(actors) if r.values["severity"] in ("general", "serious")
    )
    body = {"record": record.ref.model_dump(), "reason": "处罚等级有误"}
    filed = actors.http.post("/v1/me/disputes", json=body, headers=auth(actors.subject(id_number)))
    assert filed.status_code == 201, filed.text
    dispute = filed.json()["id"]

    fixed = dexin_cli("provider", "correct", dispute, "--table", PENALTIES,
                      str(_correction(actors, record, tmp_path / "fix.csv")), "--gateway", served,
                      "--key", key, "--json")  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr
    answer = json.loads(fixed.stdout)
    correction = answer["contribution"]["contribution_id"]
    assert answer["dispute"]["outcome"] == "corrected" and answer["contribution"]["anchor"]
    kept = json.loads(actors.world.vault.contribution(correction)["attestation"])
    assert json.loads(kept["statement"])["dispute"] == dispute  # signed by the CLI's key
    keys = provider_keys(actors.control)
    [verdict] = [v for v in verify_contributions(actors.world.ledger, actors.world.vault, keys=keys)
                 if v.contribution_id == correction]  # fmt: skip
    assert (verdict.origin, verdict.ok) == ("provider", True), verdict.problems
    engine = open_engine(actors.world.database_url, schema=actors.world.schema)
    try:
        _, problems = answer_signature_problems(engine, keys)
    finally:
        engine.dispose()
    assert [p for p in problems if dispute in p] == []


def test_a_repair_from_the_command_line_is_a_leaf_of_the_anchored_log(
    actors: Actors, served: str, tmp_path: Path
) -> None:
    key = _key(actors, tmp_path / "keys")
    as_of = actors.world.vault.as_of
    _, record = next((i, r) for i, r in _penalties(actors)
                     if r.repairable_from is not None and r.repairable_from <= as_of)  # fmt: skip
    ref = record.ref
    done = dexin_cli("provider", "repair", "--table", ref.table, "--contribution",
                     ref.contribution_id, "--row", str(ref.row), "--repaired-on",
                     as_of.isoformat(), "--gateway", served, "--key", key, "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    repair = json.loads(done.stdout)["id"]
    engine = open_engine(actors.world.database_url, schema=actors.world.schema)
    try:
        chain = list(actors.world.ledger.events(0))
        [logged] = [c for c in anchored_changes(engine, chain) if c.reference == repair]
        count, findings = row_change_findings(engine, chain, recorded_changes(engine))
        in_vault = vault_changes(row_changes(actors.world.vault))  # what the vault records
        stored, against_vault = row_change_findings(engine, chain, in_vault)
        _, unsigned = repair_signature_problems(engine, provider_keys(actors.control))
    finally:
        engine.dispose()
    assert (logged.change, logged.row, logged.effective) == ("repaired", ref.row, as_of)
    assert count >= 1 and findings == []
    assert repair in {c.reference for c in in_vault} and stored >= 1 and against_vault == []
    assert [p for p in unsigned if repair in p] == []  # signed by the CLI's key, verifiable


def test_a_provider_decides_an_application_signed_from_the_command_line(
    actors: Actors, served: str, tmp_path: Path
) -> None:
    key = _key(actors, tmp_path / "keys")
    as_of = actors.world.vault.as_of
    id_number, record = [(i, r) for i, r in _penalties(actors)
                         if r.repairable_from is not None and r.repairable_from <= as_of][-1]  # fmt: skip
    body = {"record": record.ref.model_dump(), "reason": "罚款已缴清"}
    applied = actors.http.post("/v1/me/repairs", json=body, headers=auth(actors.subject(id_number)))
    assert applied.status_code == 201, applied.text
    repair = applied.json()["id"]
    done = dexin_cli("provider", "decide", repair, "refused", "--note", "材料不足",
                     "--gateway", served, "--key", key, "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "refused"
    engine = open_engine(actors.world.database_url, schema=actors.world.schema)
    try:
        checked, problems = repair_signature_problems(engine, provider_keys(actors.control))
    finally:
        engine.dispose()
    assert checked >= 1 and [p for p in problems if repair in p] == []
