"""``dexin demo --script --cluster``: the demo's story holds on the local cluster (issue 16 §2).

Through the command line, over a fresh data directory and a fresh schema of the test database
(``DEXIN_TEST_DATABASE_URL``, else ``postgresql://postgres@127.0.0.1:5432/test``; dropped
afterwards), on free ports, at a small scale: the command starts the cluster (anvil, the
vault's owner, two answer workers on one port, the residents' identity provider), walks the
story with answers at the workers and contributions and cosignatures at the owner, stops the
owner for ``dexin ledger verify`` while the workers go on answering, and stops everything.
Skipped only when PostgreSQL cannot be reached (it can be in CI).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from audit.pg_store import engine_url
from dexin import demo
from dexin.cluster import drop_schema

URL = os.environ.get("DEXIN_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def _reachable() -> bool:
    try:
        engine = create_engine(engine_url(URL))
        try:
            with engine.connect() as c:
                c.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception:
        return False
    return True


pytestmark = pytest.mark.skipif(not _reachable(), reason=f"PostgreSQL is not reachable at {URL}")


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"clstory_{secrets.token_hex(6)}"
    yield name  # the cluster creates it
    drop_schema(URL, name)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def test_the_story_holds_on_a_cluster(tmp_path: Path, schema: str) -> None:
    port, owner_port, ledger_port = _free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEXIN_")}
    env |= {"DEXIN_HOME": str(tmp_path / "home"), "DEXIN_CLUSTER_DATABASE_URL": URL,
            "COLUMNS": "400"}  # fmt: skip
    dexin = str(Path(sys.executable).parent / "dexin")
    argv = [dexin, "demo", "--script", "--cluster", "--scale", "0.002", "--schema", schema,
            "--workers", "2", "--port", str(port), "--owner-port", str(owner_port),
            "--ledger-port", str(ledger_port)]  # fmt: skip
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=540)
    text_out = r.stdout + r.stderr
    assert r.returncode == 0, text_out
    assert "the story holds on the cluster: 18 steps as expected" in text_out
    steps = re.findall(r"^✓\s+(\d+)\. (.*)$", r.stdout, re.M)
    assert [int(n) for n, _ in steps] == list(range(1, 19)), text_out
    said = dict((int(n), line) for n, line in steps)
    answers, owner = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{owner_port}"
    assert f"2 answer workers at {answers}" in r.stdout and f"owner at {owner}" in r.stdout
    expected = {
        1: "pending",
        2: "approved",
        3: "signs in at the identity provider",
        5: "signature and subject binding verified",
        7: "403 consent_withdrawn",
        8: "differential privacy",
        9: "refused: 503 vault_owner_only",
        10: "countersigned receipt",
        11: "threshold 2",
        12: "aggregates 2 BLS signatures into one",
        13: "dexin audit verify while the gateway runs: OK",
        14: "dexin ledger verify",
        15: "with the owner stopped the answer workers still answer from the vault snapshot",
        16: f"owner starts again at {owner}",
        17: "the untouched export verifies",
        18: "verify exits 1 and names entry",
    }
    for n, words in expected.items():
        assert words in said[n], (n, said[n])
    assert "0.00 left" in said[15]  # the second half of the ε, spent while the owner was down
    for p in (port, owner_port, ledger_port):  # everything the command started has stopped
        demo.check_port("127.0.0.1", p)
    assert (tmp_path / "home" / "cluster" / "logs" / "workers.log").exists()
