"""``dexin cluster up``: the consortium's answer path on one machine, without containers.

The same topology as ``docker-compose.yml`` (issue 16 §2), each part a process of its own:

- the ledger: anvil (from npm) in place of the Besu validators, Prague rules, its state kept
  in ``$DEXIN_HOME/cluster/anvil-state.json`` so a restart resumes the same chain;
- PostgreSQL: the machine's server (``--database-url``), one schema for the control plane,
  the audit log and the state the workers share (quotas, ε, rate buckets, used ids);
- the vault's owner: ``dexin serve`` over the data directory, the one process that opens the
  vault, ingests, anchors and runs the witnessing rounds; it publishes the vault snapshot;
- the answer workers: ``dexin serve --worker --workers N`` on the public port, uvicorn's
  supervisor with N processes that read the published snapshot (and a new one in place of any
  that dies);
- a witness: ``dexin audit witness --follow`` cosigning the owner's checkpoints;
- the residents' identity provider (oidc-provider, npm), as in ``make demo``.

The data directory is built the first time as ``make demo`` builds it (a synthetic Yuyao,
ingested, anchored, scored, the demo's identities), on the JSON-RPC ledger and PostgreSQL.
`Cluster` is a context manager that starts everything, waits until each part answers and
stops them in reverse order; its methods stop and start single parts (the failure tests and
``dexin demo --script --cluster`` use them).

The funding key is anvil's public development key: this topology is for one machine only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
from rich.console import Console

from dexin import demo, demo_idp
from dexin.settings import Settings

__all__ = ["Cluster", "ClusterConfig", "ClusterFailed", "drop_schema"]

READY_SECONDS = 180.0  # a worker loads the snapshot's features before it answers
ANVIL_DEV_FUNDING_KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


class ClusterFailed(Exception):
    """A part of the cluster did not start or did not answer in time."""


@dataclass(frozen=True)
class ClusterConfig:
    """Where the cluster keeps its state and listens. ``database_url`` is the PostgreSQL
    server; ``schema`` the schema created there for this cluster (kept between runs)."""

    home: Path
    database_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    schema: str = "dexin_cluster"
    workers: int = 3
    host: str = "127.0.0.1"
    port: int = 8100  # the answer workers: banks, residents, officers, auditors
    owner_port: int = 8101  # the vault's owner: contributions, anchoring, witnessing
    ledger_port: int = 8545
    scale: float = 0.01
    seed: int = 1
    witness_interval: float = 5.0
    follow_witnesses: bool = True  # False: no follower (the story cosigns through the API)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def owner_url(self) -> str:
        return f"http://{self.host}:{self.owner_port}"

    @property
    def ledger_url(self) -> str:
        return f"http://{self.host}:{self.ledger_port}"

    def schema_url(self) -> str:
        """``database_url`` with the cluster's schema as the search path."""
        joiner = "&" if "?" in self.database_url else "?"
        return f"{self.database_url}{joiner}options={quote(f'-csearch_path={self.schema}')}"


class Cluster:
    """The running topology (see the module docstring)."""

    def __init__(self, config: ClusterConfig, console: Console | None = None) -> None:
        self.config = config
        self.console = console or Console(stderr=True)
        self.env = self._environment()
        self.settings = Settings.from_env(self.env)
        self.ledger: subprocess.Popen[bytes] | None = None
        self.owner: subprocess.Popen[bytes] | None = None
        self.pool: subprocess.Popen[bytes] | None = None
        self._pool_size = 0
        self.people: dict[str, Any] = {}
        self._stack = ExitStack()
        self._served_env: dict[str, str] = {}

    # -- the parts ---------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        c = self.config
        url = c.schema_url()
        return (
            dict(os.environ)
            | {
                "DEXIN_HOME": str(c.home),
                "DEXIN_LEDGER": "jsonrpc",
                "DEXIN_LEDGER_RPC_URL": c.ledger_url,
                "DEXIN_LEDGER_FUNDING_KEY": ANVIL_DEV_FUNDING_KEY,
                "DATABASE_URL": url,
                "DEXIN_AUDIT_DATABASE_URL": url,
                "DEXIN_VAULT_SNAPSHOTS": "1",
                "DEXIN_WITNESS_INTERVAL": f"{c.witness_interval:g}",
            }
            | c.extra_env
        )

    def _log(self, name: str) -> Any:
        folder = self.config.home / "cluster" / "logs"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self._stack.enter_context((folder / f"{name}.log").open("ab"))

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self._log(name)
        return subprocess.Popen(argv, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True)  # fmt: skip

    def start_ledger(self) -> None:
        """anvil on ``ledger_port``, resuming the chain kept under the data directory."""
        from ledger.anvil import anvil_binary

        demo.check_port(self.config.host, self.config.ledger_port)
        state = self.config.home / "cluster" / "anvil-state.json"
        state.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        argv = [str(anvil_binary()), "--host", self.config.host, "--port",
                str(self.config.ledger_port), "--hardfork", "prague", "--state", str(state),
                "--state-interval", "1", "--silent"]  # fmt: skip
        self.ledger = self._spawn("anvil", argv, self.env)
        _wait(lambda: _rpc_ready(self.config.ledger_url), self.ledger, "the ledger node (anvil)")

    def stop_ledger(self) -> None:
        """Stop anvil (SIGTERM: it writes its state first)."""
        _stop(self.ledger, signal.SIGTERM)
        self.ledger = None

    def start_owner(self) -> None:
        """``dexin serve`` on ``owner_port``: the vault's owner (publishes a snapshot)."""
        demo.check_port(self.config.host, self.config.owner_port)
        argv = [_dexin(), "serve", "--host", self.config.host,
                "--port", str(self.config.owner_port)]  # fmt: skip
        self.owner = self._spawn("owner", argv, self._served_env)
        _wait(lambda: _healthy(self.config.owner_url), self.owner, "the vault's owner")

    def stop_owner(self) -> None:
        _stop(self.owner, signal.SIGINT)
        self.owner = None

    def start_workers(self, count: int | None = None) -> None:
        """``dexin serve --worker --workers N`` on the public port (N: ``count``, else the
        config's); waits for all N."""
        c = self.config
        n = count or c.workers
        demo.check_port(c.host, c.port)
        argv = [_dexin(), "serve", "--worker", "--workers", str(n), "--host", c.host,
                "--port", str(c.port)]  # fmt: skip
        self.pool, self._pool_size = self._spawn("workers", argv, self._served_env), n
        pool = self.pool
        _wait(lambda: len(self.worker_pids()) == n and _healthy(c.url), pool,
              f"{n} answer workers")  # fmt: skip

    def stop_workers(self) -> None:
        _stop(self.pool, signal.SIGINT)
        self.pool = None

    def worker_pids(self) -> list[int]:
        """The process ids of the answer workers (the pool supervisor's spawned children, or
        the one process when there is one worker)."""
        if self.pool is None or self.pool.poll() is not None:
            return []
        if self._pool_size == 1:  # one process serves alone, no supervisor
            return [self.pool.pid]
        return [pid for pid in _children(self.pool.pid) if "spawn_main" in _cmdline(pid)]

    # -- the whole -----------------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.close()

    def _start(self) -> None:
        c, say = self.config, self.console.print
        for port in (c.ledger_port, c.owner_port, c.port):
            demo.check_port(c.host, port)  # demo.PortInUse before anything starts
        _create_schema(c)
        self._stack.callback(self.stop_ledger_if_running)  # even if it never answers
        self.start_ledger()
        say(f"ledger: anvil at {c.ledger_url} (state {c.home / 'cluster' / 'anvil-state.json'})")
        self.people = self._build()
        states = demo.registered_witnesses(self.settings)
        idp = self._stack.enter_context(demo_idp.running_idp(self.settings, self.people, c.url))
        say(f"residents' identity provider (oidc-provider) at {idp.issuer}")
        self._served_env = self.env | demo_idp.oidc_env(idp, self.people, c.url)
        self._stack.callback(self.stop_owner_if_running)  # even if it never answers
        self.start_owner()
        say(f"the vault's owner at {c.owner_url} (contributions, anchoring, witnessing)")
        self._stack.callback(self.stop_workers_if_running)  # even if it never answers
        self.start_workers()
        say(
            f"{c.workers} answer workers at {c.url} (pids {', '.join(map(str, self.worker_pids()))})"
        )
        if c.follow_witnesses:
            followers = demo.witness_followers(
                self.settings, self.people, c.owner_url, states, self.console
            )
            self._stack.enter_context(followers)

    def _build(self) -> dict[str, Any]:
        """The demo's data directory on this ledger and PostgreSQL, built once."""
        from dexin import demo_identities

        people = demo_identities.load(self.settings)
        if people is None:
            demo.run(self.settings, self.config.scale, self.config.seed, self.console, serve=False)
            people = demo_identities.load(self.settings)
            assert people is not None
        if demo_idp.ensure_residents(people) | demo_identities.ensure_provider(
            self.settings, people
        ):
            demo_identities.write(self.settings, people)
        return people

    def stop_ledger_if_running(self) -> None:
        if self.ledger is not None:
            self.stop_ledger()

    def stop_owner_if_running(self) -> None:
        if self.owner is not None:
            self.stop_owner()

    def stop_workers_if_running(self) -> None:
        if self.pool is not None:
            self.stop_workers()

    def close(self) -> None:
        """Stop everything this cluster started, in reverse order."""
        self._stack.close()

    def describe(self) -> dict[str, Any]:
        """Where each part listens (``dexin cluster up`` prints it; also written to
        ``$DEXIN_HOME/cluster/running.json``)."""
        c = self.config
        return {"answers": c.url, "owner": c.owner_url, "ledger": c.ledger_url,
                "database_schema": c.schema, "workers": self.worker_pids(),
                "home": str(c.home)}  # fmt: skip

    def write_running(self) -> Path:
        path = self.config.home / "cluster" / "running.json"
        path.write_text(json.dumps(self.describe(), indent=2) + "\n", encoding="utf-8")
        return path


def _dexin() -> str:
    return str(Path(sys.executable).parent / "dexin")


def _create_schema(config: ClusterConfig) -> None:
    _on_schema(config.database_url, f'CREATE SCHEMA IF NOT EXISTS "{config.schema}"')


def drop_schema(database_url: str, schema: str) -> None:
    """Drop a cluster's schema and everything in it (the bench and the tests, afterwards)."""
    _on_schema(database_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _on_schema(database_url: str, statement: str) -> None:
    from sqlalchemy import text

    from governance import open_engine

    engine = open_engine(database_url)
    try:
        with engine.begin() as c:
            c.execute(text(statement))
    finally:
        engine.dispose()


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(x) for x in found]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _rpc_ready(url: str) -> bool:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    try:
        return httpx.post(url, json=body, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(ready: Any, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ClusterFailed(f"{what} exited with {proc.returncode} (see its log under "
                                "$DEXIN_HOME/cluster/logs)")  # fmt: skip
        if ready():
            return
        time.sleep(0.3)
    raise ClusterFailed(f"{what} did not answer within {READY_SECONDS:g} s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: signal.Signals) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
