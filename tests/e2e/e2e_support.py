"""A tiny demo built once, served by a real `dexin serve`, and Debian's chromium."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
from rich.console import Console

from dexin import demo
from dexin.settings import Settings

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
SCALE = 0.002


def demo_env(home: Path) -> dict[str, str]:
    return {"DEXIN_HOME": str(home), "DEXIN_MASTER_KEY": secrets.token_hex(32),
            "DEXIN_AS_OF": "2026-11-01", "DEXIN_MEMORY_LIMIT": "1GB",
            "DEXIN_UNSAFE_DEV_IDENTITY": "1"}  # residents sign in by ID number here  # fmt: skip


def build_demo(home: Path) -> tuple[dict[str, str], dict[str, Any]]:
    env = demo_env(home)
    settings = Settings.from_env(env)
    with open(os.devnull, "w") as sink:
        demo.run(settings, SCALE, 1, Console(file=sink), serve=False)
    people = json.loads((home / "demo-identities.json").read_text())
    return env, people


@dataclass
class Served:
    url: str
    people: dict[str, Any]
    env: dict[str, str]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    exe = Path(sys.executable).parent / "dexin"
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=os.environ | env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def require_chromium() -> str:
    """Debian's chromium; fail loudly (never skip) when it is missing."""
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found is None:
        raise RuntimeError(
            "chromium is not installed: the e2e tests need Debian's chromium "
            "(apt-get update && apt-get install -y chromium; .ci/run installs it)"
        )
    return found


_USED_CODES: dict[str, str] = {}


def fresh_code(secret: str) -> str:
    """A TOTP code this session has not sent yet: the served demo lives for the whole test
    session and refuses a replayed code, so a second sign-in of the same account within one
    30-second step waits for the next step."""
    totp = pyotp.TOTP(secret)
    while (code := totp.now()) == _USED_CODES.get(secret):
        time.sleep(1)
    _USED_CODES[secret] = code
    return code


def officer_login(page: Any, url: str, account: dict[str, Any], lands_on: str = "officer") -> None:
    """Sign an officer (or the auditor) in on the console's login page."""
    page.goto(f"{url}/console/login")
    page.fill("#officer-login input[name=username]", account["username"])
    page.fill("#officer-login input[name=password]", account["password"])
    page.fill("#officer-login input[name=code]", fresh_code(account["totp_secret"]))
    page.click("#officer-login button[type=submit]")
    page.wait_for_url(f"**/console/{lands_on}")
