"""The bank's client is a package of its own (issue 17): ``clients/python`` builds a wheel
that installs into a fresh virtual environment and runs the bank's script of docs/api.md
against the gateway on a loopback port, with nothing of the server importable there."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import Actors, served_on_port

from dexin.admin import create_keyed_client
from governance.credentials import Role

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "bin" / "uv"
SERVER_PACKAGES = ("governance", "vault", "ledger", "audit", "credit_model", "dexin",
                   "query_gateway")  # fmt: skip


@pytest.fixture
def served(actors: Actors) -> Iterator[str]:
    """The session's app on a real port (its lifespan already ran under the test client)."""
    with served_on_port(actors) as url:
        yield url


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with only the built wheel installed (offline); its
    dependencies (httpx, cryptography) are given on PYTHONPATH from this environment's
    site-packages, whose .pth files — the editable install of the server — are not read."""
    work = tmp_path_factory.mktemp("client-package")
    built = subprocess.run([str(UV), "build", "--offline", "--wheel", "--out-dir", str(work),
                            str(ROOT / "clients" / "python")], capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert built.returncode == 0, built.stderr
    wheel = next(work.glob("dexin_client-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(work / "venv")], check=True)
    python = work / "venv" / "bin" / "python"
    installed = subprocess.run([str(UV), "pip", "install", "--offline", "--no-deps", "--python",
                                str(python), str(wheel)], capture_output=True, text=True,
                               timeout=300)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return python


def _run(python: Path, code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(python), "-s", "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)  # fmt: skip


def _bank_script() -> str:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- bank-script -->\n```python\n(.*?)```\n<!-- /bank-script -->", text,
                      re.DOTALL)  # fmt: skip
    assert found, "docs/api.md has no bank script"
    return found.group(1)


def test_the_wheel_imports_nothing_of_the_server(fresh_python: Path, tmp_path: Path) -> None:
    code = ("import importlib.util, dexin_client; print(dexin_client.__file__); "
            f"print([n for n in {SERVER_PACKAGES!r} if importlib.util.find_spec(n)])")  # fmt: skip
    r = _run(fresh_python, code, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    location, importable = r.stdout.splitlines()
    assert str(fresh_python.parent.parent) in location and importable == "[]"


def test_the_bank_script_of_the_docs_runs_from_the_fresh_environment(
    actors: Actors, served: str, fresh_python: Path, tmp_path: Path
) -> None:
    made, key_file = create_keyed_client(actors.control, Role.BANK, "pkg-bank", tmp_path)
    bank = actors.keyed_from_file(key_file)
    rid = actors.approved(bank.token)
    id_number = actors.world.ids[107]
    consent = actors.consent(actors.subject(id_number), made.client_id)
    r = _run(fresh_python, _bank_script(), served, str(key_file), id_number, rid, consent,
             cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert '"model"' in r.stdout and id_number not in r.stdout
