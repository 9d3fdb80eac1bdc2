"""No raw contribution byte rests on disk unencrypted, even across a ``kill -9``.

A real ``dexin serve`` (uvicorn, on loopback, ``TMPDIR`` a folder of the test) receives a
64 MiB contribution whose rows carry a marker ID number. Every byte the server can have
written is scanned for the marker: every file under ``DEXIN_HOME`` and ``TMPDIR``, and every
regular file the server holds open (``/proc/<pid>/fd``: unnamed temporary files too) —
midway through the upload, while it is being ingested, and after the server is killed with
SIGKILL during the ingest. Before the fix Starlette spooled the upload to a plaintext
temporary file and the route copied it into ``$DEXIN_HOME/gateway/uploads/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dpop_support import TOKEN_PATH, ClientKey
from joserfc.jwk import ECKey

from dexin.admin import create_keyed_client
from dexin.app import control_plane, vault_config
from dexin.keys import key_provider
from dexin.settings import Settings
from governance.credentials import Role
from vault.idnumber import check_char
from vault.registry import load_registry
from vault.store import Vault

DEXIN = Path(sys.executable).parent / "dexin"
BOUNDARY = "dexin-upload-at-rest"
BLOCKS, PAUSE_AT = 64, 8  # blocks of about 1 MiB; the upload pauses after the 8th


def _id(seq: int) -> str:
    first17 = f"3302911980031{seq:04d}"
    return first17 + check_char(first17)


MARKER = _id(4242)
PEOPLE = [_id(i) for i in range(49)] + [MARKER]


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[bytes]
    token: str
    roots: list[Path]  # DEXIN_HOME and TMPDIR
    court: ClientKey  # the provider's own key (issue 17: DPoP proofs, signed statements)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {"DEXIN_HOME": str(tmp_path / "home"), "DEXIN_MASTER_KEY": secrets.token_hex(32),
           "DEXIN_AS_OF": "2026-11-01", "DEXIN_MEMORY_LIMIT": "1GB",
           "DEXIN_WITNESS_INTERVAL": "0", "TMPDIR": str(tmpdir)}  # fmt: skip
    settings = Settings.from_env(env)
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    made, key_file = create_keyed_client(control_plane(settings), Role.PROVIDER, "court",
                                         tmp_path / "keys")  # fmt: skip
    jwk = json.loads(key_file.read_text())["jwk"]
    court = ClientKey(made.client_id, ECKey.import_key(jwk), name="court")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen([DEXIN, "serve", "--port", url.rsplit(":", 1)[1]],
                                env=os.environ | env, stdout=log, stderr=log)  # fmt: skip
    try:
        _wait_healthy(url, proc)
        proof = court.proof("POST", f"{url}{TOKEN_PATH}")
        token = httpx.post(f"{url}{TOKEN_PATH}", data=court.token_form(audience=url),
                           headers={"DPoP": proof}).json()["access_token"]  # fmt: skip
        yield Served(url, proc, token, [settings.home, tmpdir], court)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "dexin serve exited"
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("dexin serve did not become healthy")


def _rows(block: int) -> bytes:
    start = block * 16_000
    return b"".join(
        b"YZX-2025-%010d,%s,2025-01-01,,100.00,contract\n" % (i, PEOPLE[i % 50].encode())
        for i in range(start, start + 16_000)
    )


HEADER = b"record_id,id_number,listed_date,removed_date,amount,case_type\n"


def _signed_form(court: ClientKey) -> dict[str, str]:
    """The provider's signed statement about the whole file the body streams."""
    digest = hashlib.sha256(HEADER)
    for block in range(BLOCKS):
        digest.update(_rows(block))
    return court.contribution("dishonest_debtors", b"", file_sha256=digest.hexdigest(),
                              rows=BLOCKS * 16_000)  # fmt: skip


def _body(
    paused: threading.Event, resume: threading.Event, sent: threading.Event,
    form: dict[str, str],
) -> Iterator[bytes]:  # fmt: skip
    part = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name="
    for name in ("table", "statement", "signature"):
        yield f'{part}"{name}"\r\n\r\n{form[name]}\r\n'.encode()
    yield f'{part}"file"; filename="d.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode()
    yield HEADER
    for block in range(BLOCKS):
        yield _rows(block)
        if block == PAUSE_AT:
            paused.set()
            resume.wait(120)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()
    sent.set()


def _readable_copies(served: Served) -> list[str]:
    """Every file under the roots, and every regular file the server holds open, that
    contains the marker in plaintext."""
    marker = MARKER.encode()
    files = [p for root in served.roots for p in root.rglob("*")]
    if served.proc.poll() is None:
        files += list(Path(f"/proc/{served.proc.pid}/fd").iterdir())
    hits = []
    for f in files:
        try:
            if stat.S_ISREG(f.stat().st_mode) and marker in f.read_bytes():
                hits.append(os.readlink(f) if f.is_symlink() else str(f))
        except OSError:  # gone while we looked (a DuckDB temporary, a closed descriptor)
            continue
    return hits


def test_no_plaintext_mid_upload_during_ingest_or_after_kill_9(served: Served) -> None:
    paused, resume, sent, done = (threading.Event() for _ in range(4))
    outcome: list[object] = []

    form = _signed_form(served.court)

    def upload() -> None:
        url = f"{served.url}/v1/contributions"
        headers = {"Authorization": f"DPoP {served.token}",
                   "DPoP": served.court.proof("POST", url, served.token),
                   "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}  # fmt: skip
        try:
            r = httpx.post(url, headers=headers, timeout=300,
                           content=_body(paused, resume, sent, form))  # fmt: skip
            outcome.append(r.status_code)
        except httpx.HTTPError as exc:
            outcome.append(type(exc).__name__)
        done.set()

    client = threading.Thread(target=upload)
    client.start()
    assert paused.wait(60), "the upload never got going"
    time.sleep(1.0)  # the server has read what was sent
    assert _readable_copies(served) == [], "mid-upload"
    resume.set()
    assert sent.wait(60)
    scans = 0
    for _ in range(3):  # the body is in; the ingest (a million rows) runs
        assert _readable_copies(served) == [], "during the ingest"
        scans += 1
        time.sleep(0.05)
    assert not done.is_set(), f"the ingest ended before the kill ({outcome})"
    served.proc.send_signal(signal.SIGKILL)
    served.proc.wait(timeout=30)
    client.join(timeout=60)
    assert _readable_copies(served) == [], "after kill -9"
    assert scans == 3 and outcome and outcome[0] != 201
