"""One writer per signing key across processes (issue 16 §2): the vault's owner and the answer
workers sign ledger writes with the gateway's one account, each process with its own
connection to the node. `Ledger.share_signing` with a PostgreSQL advisory lock
(`governance.advisory_lock`) makes them take turns from nonce to receipt; without it two
processes pick the same nonce and writes fail (the race below, run without the lock, lost
writes in each of 5 runs on this machine; not kept as a test, since a race that happens not
to collide would make it flaky).

Two ledgers opened on the same keys (as two processes would) over one anvil, two threads
each, anchoring with the same account. Needs PostgreSQL (the lock's home); skipped only when
it cannot be reached.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from governance import advisory_lock, open_engine
from ledger import AnchorKind, Ledger, LedgerConfig, Role, open_ledger
from ledger.testing import UNSAFE_ANVIL_DEV_KEY

PG_URL = os.environ.get("DEXIN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
WRITES = 5  # per thread
SECRET = os.urandom(32)  # both "processes" unlock the same key store


def _reachable() -> bool:
    engine = open_engine(PG_URL)
    try:
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


pytestmark = pytest.mark.skipif(not _reachable(), reason=f"PostgreSQL is not reachable at {PG_URL}")


def _two_processes(tmp_path: Path, url: str) -> list[Ledger]:
    config = LedgerConfig(backend="jsonrpc", rpc_url=url, data_dir=tmp_path / "ledger",
                          key_secret=SECRET, funding_key=UNSAFE_ANVIL_DEV_KEY,
                          request_timeout=5.0)  # fmt: skip
    first = open_ledger(config)
    first.ensure_account("gateway", Role.GATEWAY)
    return [first, open_ledger(config)]  # the second joins the recorded deployment


def _race(ledgers: list[Ledger]) -> tuple[list[BaseException], list[bytes]]:
    errors: list[BaseException] = []
    roots = [[os.urandom(32) for _ in range(WRITES)] for _ in range(2 * len(ledgers))]

    def write(ledger: Ledger, mine: list[bytes]) -> None:
        try:
            for root in mine:
                ledger.anchor(AnchorKind.AUDIT_LOG, root, 1, bytes(32), signer="gateway")
        except BaseException as exc:  # collected and asserted by the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(ledgers[i % len(ledgers)], r))
               for i, r in enumerate(roots)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, [root for r in roots for root in r]


def test_processes_sharing_a_key_take_turns(tmp_path: Path, anvil_url: str) -> None:
    engine = open_engine(PG_URL)
    ledgers = _two_processes(tmp_path, anvil_url)
    try:
        for ledger in ledgers:
            ledger.share_signing(lambda address: advisory_lock(engine, f"ledger:{address}"))
        errors, roots = _race(ledgers)
        assert errors == []
        for root in roots:
            assert ledgers[1].get_anchor(root).size == 1
    finally:
        for ledger in ledgers:
            ledger.close()
        engine.dispose()


def test_a_command_beside_the_cluster_waits_for_the_accounts_lock(
    tmp_path: Path, anvil_url: str
) -> None:
    """`dexin audit anchor` run by hand beside a cluster (`_owned_ledger` holds its ledger in
    `dexin.app.ledger_signing_shared`, as the owner and the workers share theirs): its write
    waits while another process holds the account."""
    from dexin.app import ledger_signing_shared
    from dexin.settings import Settings

    settings = Settings.from_env({"DEXIN_HOME": str(tmp_path / "home"), "DEXIN_LEDGER": "jsonrpc",
                                  "DEXIN_LEDGER_RPC_URL": anvil_url, "DATABASE_URL": PG_URL})  # fmt: skip
    engine = open_engine(PG_URL)
    ledger, other = _two_processes(tmp_path, anvil_url)
    other.close()
    try:
        with ledger_signing_shared(settings, ledger):
            address = ledger.identity("gateway").address
            done = threading.Event()

            def write() -> None:
                ledger.anchor(AnchorKind.AUDIT_LOG, os.urandom(32), 1, bytes(32), signer="gateway")
                done.set()

            with advisory_lock(engine, f"ledger:{address}"):  # another process signing
                thread = threading.Thread(target=write)
                thread.start()
                assert not done.wait(1.5)
            assert done.wait(30)
            thread.join()
    finally:
        ledger.close()
        engine.dispose()


def test_a_control_plane_on_sqlite_shares_nothing(tmp_path: Path, anvil_url: str) -> None:
    """One process owns a SQLite control plane: a JSON-RPC ledger beside it takes no lock."""
    from dexin.app import ledger_signing_shared
    from dexin.settings import Settings

    ledger, other = _two_processes(tmp_path, anvil_url)
    other.close()
    try:
        settings = Settings.from_env({"DEXIN_HOME": str(tmp_path / "home"),
                                      "DEXIN_LEDGER": "jsonrpc"})  # fmt: skip
        assert settings.gateway.database_url.startswith("sqlite")
        engine = open_engine(PG_URL)
        address = ledger.identity("gateway").address
        with ledger_signing_shared(settings, ledger), advisory_lock(engine, f"ledger:{address}"):
            # not waited for: no lock shared
            ledger.anchor(AnchorKind.AUDIT_LOG, os.urandom(32), 1, bytes(32), signer="gateway")
        engine.dispose()
    finally:
        ledger.close()
