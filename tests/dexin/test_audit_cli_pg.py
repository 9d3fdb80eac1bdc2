"""``dexin audit export / verify / prove`` read the PostgreSQL log when it is configured.

With ``DEXIN_AUDIT_DATABASE_URL`` set, the gateway's workers append to PostgreSQL and the data
directory's ``audit/`` keeps only the key and the cosignatures: the commands read the entries
and checkpoints the workers wrote (`dexin.app.open_audit_reader`), in a fresh schema of the
test database (``DEXIN_TEST_DATABASE_URL``, else ``postgresql://postgres@127.0.0.1:5432/test``)
dropped afterwards. A tampered entry is found.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from audit import AuditEntry, LogOptions, PgAuditLog, leaf_hash, verify_inclusion
from audit.checkpoint import SignedCheckpoint
from audit.pg_store import engine_url
from dexin.app import open_audit_log, open_audit_reader
from dexin.cli import app
from dexin.settings import Settings

URL = os.environ.get("DEXIN_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
QUIET = LogOptions(checkpoint_every=10**9, checkpoint_interval=3600)


def _entry(i: int) -> AuditEntry:
    return AuditEntry.create(actor="bank_1", role="bank", action="POST /v1/scores",
                             decision="deny", request_id=f"r{i}", reason="no_consent",
                             computation="morality_credit_score")  # fmt: skip


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    schema = f"clipg_{secrets.token_hex(6)}"
    admin = create_engine(engine_url(URL))
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        env = {
            "DEXIN_HOME": str(tmp_path / "home"),
            "DEXIN_AS_OF": "2026-11-01",
            "DEXIN_MASTER_KEY": "",
            "DEXIN_MASTER_KEY_FILE": "",
            "DEXIN_AUDIT_DATABASE_URL": f"{URL}?options={quote(f'-csearch_path={schema}')}",
            "DEXIN_TEST_SCHEMA": schema,  # for the test's own SQL; dexin does not read it
        }
        code, out = _run(env, "vault", "init")  # verify reads the keyring (the ledger's key)
        assert code == 0, out
        yield env
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _written(env: dict[str, str], count: int) -> SignedCheckpoint:
    """``count`` entries appended by two workers' logs, and a checkpoint of them all."""
    settings = Settings.from_env(env)
    with open_audit_log(settings, QUIET) as a, open_audit_log(settings, QUIET) as b:
        assert isinstance(a, PgAuditLog) and isinstance(b, PgAuditLog)
        for i in range(count):
            (a if i % 2 else b).append(_entry(i))
        signed = a.checkpoint_now()
    assert signed is not None and signed.checkpoint.size == count
    return signed


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout + result.stderr


def test_export_and_verify_read_the_postgresql_log(env: dict[str, str], tmp_path: Path) -> None:
    signed = _written(env, 12)
    assert not (tmp_path / "home" / "audit" / "entries.log").exists()  # no file log at all

    code, out = _run(env, "audit", "export", "--out", str(tmp_path / "export"))
    assert code == 0, out
    assert "exported 12 entries, 1 checkpoints" in out
    lines = (tmp_path / "export" / "entries.jsonl").read_text().splitlines()
    assert len(lines) == 12
    vkey = (tmp_path / "home" / "audit" / "log.vkey").read_text().strip()

    code, out = _run(env, "audit", "verify", "--skip-anchors", "--json", "--log-key", vkey)
    assert code == 0, out
    verdict = json.loads(out[out.index("{") :])
    assert verdict["ok"] is True and verdict["entries"] == 12
    assert verdict["root"] == signed.checkpoint.root.hex()
    code, out = _run(env, "audit", "verify", "--export", str(tmp_path / "export"),
                     "--skip-anchors", "--log-key", vkey)  # fmt: skip
    assert code == 0, out

    code, out = _run(env, "audit", "prove", "--index", "7")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["size"] == 12 and SignedCheckpoint.parse(doc["checkpoint"]) == signed
    proof = [bytes.fromhex(h) for h in doc["proof"]]
    verify_inclusion(leaf_hash(doc["entry"].encode()), 7, 12, proof, signed.checkpoint.root)


def test_verify_finds_an_entry_changed_in_the_database(env: dict[str, str]) -> None:
    _written(env, 6)
    schema = env["DEXIN_TEST_SCHEMA"]
    engine = create_engine(engine_url(URL))
    try:
        with engine.begin() as c:
            c.execute(text(f"SET LOCAL search_path TO {schema}"))
            c.execute(text("UPDATE audit_entries SET payload = convert_to(replace(convert_from("
                           "payload, 'UTF8'), 'no_consent', 'no_consenT'), 'UTF8') "
                           "WHERE idx = 3"))  # fmt: skip
    finally:
        engine.dispose()
    code, out = _run(env, "audit", "verify", "--skip-anchors")
    assert code == 1, out
    assert "FAILED" in out


def test_the_reader_follows_the_setting(env: dict[str, str], tmp_path: Path) -> None:
    _written(env, 3)
    with open_audit_reader(Settings.from_env(env)) as reader:
        assert reader.exists and reader.sizes() == [3] and len(list(reader.entries())) == 3
    file_only = {k: v for k, v in env.items() if k != "DEXIN_AUDIT_DATABASE_URL"}
    with open_audit_reader(Settings.from_env(file_only)) as reader:  # no file log was written
        assert not reader.exists and reader.sizes() == [] and list(reader.entries()) == []
