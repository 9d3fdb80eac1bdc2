"""Helpers of the local cluster's failure tests (issue 16 §2), imported by name.

- `PrivatePostgres`: a PostgreSQL instance of the test's own (initdb + pg_ctl as the
  ``postgres`` user, a temporary data directory, trust authentication on 127.0.0.1), so a test
  can restart the database without touching the machine's shared server at 5432;
- `Load`: a few threads posting a bank's score requests to the answer workers continuously,
  each signed with the bank's own key (DPoP) and sent with a fresh ``Idempotency-Key``, as a
  bank's client does, but with no retry: every request's fate is recorded (`Outcome`);
- `log_entries`: the shared PostgreSQL audit log, decoded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from audit.entry import AuditEntry, decode_entry
from dexin.app import open_audit_reader
from dexin.settings import Settings
from dexin_client import DexinClient
from dexin_client.keys import ClientKey
from ledger.testing import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PROBLEM_JSON = "application/problem+json"


def private_postgres_available() -> str | None:
    """Why a private PostgreSQL cannot be run here (None when it can): the server's binaries,
    a ``postgres`` user and root (to run them as that user)."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"no PostgreSQL server binaries at {PG_BIN}"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "running PostgreSQL as the postgres user needs root and runuser"
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres user"
    return None


class PrivatePostgres:
    """A PostgreSQL server of this test's own on a free loopback port (trust auth): started
    by `start`, restarted by `restart` (``pg_ctl restart -m fast``), removed by `close`."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dexin-pg-"))
        shutil.chown(self.root, "postgres", "postgres")
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.sockets.mkdir()
        shutil.chown(self.sockets, "postgres", "postgres")
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._started = False

    def _pg(self, tool: str, *args: str, timeout: float = 120) -> None:
        run = subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args],
                             capture_output=True, text=True, timeout=timeout, cwd=self.root)  # fmt: skip
        if run.returncode != 0:
            raise RuntimeError(f"{tool} exited with {run.returncode}: {run.stderr[-2000:]}")

    def _options(self) -> str:
        return f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"

    def start(self) -> None:
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                 "-E", "UTF8", "--locale", "C")  # fmt: skip
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o",
                 self._options(), "-w", "-t", "60", "start")  # fmt: skip
        self._started = True

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every session is ended, the server stops and starts."""
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o",
                 self._options(), "-m", "fast", "-w", "-t", "60", "restart")  # fmt: skip

    def close(self) -> None:
        if self._started:
            try:
                self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
            finally:
                self._started = False
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class Outcome:
    """One score request: when it was sent and ended (monotonic), and what came back (a
    status, or a transport ``error`` when no response came)."""

    started: float
    ended: float
    status: int | None = None
    content_type: str = ""
    body: Any = None
    request_id: str = ""  # the gateway's Dexin-Request-Id
    error: str = ""

    @property
    def index(self) -> int:
        return int(self.body["audit"]["index"])

    @property
    def problem(self) -> str:
        """A non-200's problem type and reason, for assertion messages."""
        if isinstance(self.body, dict):
            return f"{self.status} {self.body.get('type')} {self.body.get('reason')}"
        return f"{self.status} {self.content_type} {str(self.body)[:200]}"


class Load:
    """``threads`` threads posting the same bank's score requests to ``url`` until `stop`
    (a short pause between one thread's requests keeps the two-core machine usable)."""

    def __init__(self, url: str, key_file: Path, body: dict[str, str], threads: int = 3,
                 pause: float = 0.02) -> None:  # fmt: skip
        self.url = url
        self.key = ClientKey.load(key_file)
        self.body = body
        self.pause = pause
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        with DexinClient(url, self.key.client_id, key=self.key, timeout=60) as bank:
            self.token = bank.access_token()  # one DPoP-bound token (900 s) for the run
        self._threads = [threading.Thread(target=self._run, daemon=True, name=f"load-{i}")
                         for i in range(threads)]  # fmt: skip

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=90)
        assert not any(t.is_alive() for t in self._threads), "a load thread did not stop"
        return self.results()

    def results(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self._stop.is_set():
                self._one(http)
                time.sleep(self.pause)

    def _one(self, http: httpx.Client) -> None:
        request = http.build_request("POST", "/v1/scores", json=self.body,
                                     headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        request.headers["Authorization"] = f"DPoP {self.token}"
        request.headers["DPoP"] = self.key.proof("POST", str(request.url), self.token)
        started = time.monotonic()
        try:
            r = http.send(request)
        except httpx.TransportError as exc:
            outcome = Outcome(started, time.monotonic(), error=type(exc).__name__)
        else:
            try:
                body: Any = r.json()
            except ValueError:
                body = r.text
            outcome = Outcome(started, time.monotonic(), r.status_code,
                              r.headers.get("content-type", ""), body,
                              r.headers.get("dexin-request-id", ""))  # fmt: skip
        with self._lock:
            self.outcomes.append(outcome)

    def successes_after(self, moment: float) -> int:
        """How many 200s came to requests sent after ``moment``."""
        return sum(1 for o in self.results() if o.status == 200 and o.started > moment)

    def wait_successes_after(self, moment: float, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.successes_after(moment) < n:
            if time.monotonic() > deadline:
                seen = summary(self.results())
                raise AssertionError(f"fewer than {n} answers after the event within "
                                     f"{timeout:g} s: {seen}")  # fmt: skip
            time.sleep(0.2)


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    """How many outcomes of each kind (status and problem reason, or transport error)."""
    counts: dict[str, int] = {}
    for o in outcomes:
        if o.error:
            key = f"transport:{o.error}"
        elif o.status == 200:
            key = "200"
        else:
            key = o.problem
        counts[key] = counts.get(key, 0) + 1
    return counts


def log_entries(settings: Settings) -> list[tuple[int, AuditEntry]]:
    """Every durable entry of the shared PostgreSQL audit log, decoded, in order."""
    with open_audit_reader(settings) as reading:
        return [decode_entry(data) for data in reading.entries()]


def problem_json(o: Outcome) -> bool:
    """Whether ``o`` is an RFC 9457 problem of the gateway's (its media type and a body with
    the gateway's problem type URI and the same status)."""
    return (
        o.content_type.startswith(PROBLEM_JSON)
        and isinstance(o.body, dict)
        and str(o.body.get("type", "")).startswith("urn:dexin:problem:")
        and o.body.get("status") == o.status
    )


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:2000]
