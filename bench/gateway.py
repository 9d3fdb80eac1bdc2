"""Gateway benchmark: POST /v1/scores with authentication, policy, audit and signing on,
against a bare FastAPI endpoint doing the same DuckDB point look-up (the baseline).

    .venv/bin/python bench/gateway.py --scale 1.0 [--seconds 20] [--connections 64]

Builds a synthetic Yuyao at ``--scale`` (generate, ingest, score_all), registers a bank, two
officers, an approved access request and one consent for each of ``--subjects`` residents,
then serves each app in its own process on 127.0.0.1 (uvicorn with uvloop and httptools) and
drives it with wrk (Debian's `wrk`: `apt-get install wrk`) from another process with
``--connections`` concurrent keep-alive connections for ``--seconds`` seconds. The baseline endpoint pseudonymises the ID number and looks up the
subject's feature row (`Vault.lookup`, on a unique index the bench builds for it), with no token, policy, quota, consent, audit or
signature. Prints requests per second and p50/p99 latency for both, and the ratio.
Targets (issue 5): ours >= 1.5 x the baseline's requests per second; p99 <= 25 ms at 64.

It also measures the floor: the same FastAPI stack answering a constant (no vault, no work),
under the same load, and prints the rate a p99 target needs with that many connections in a
closed loop (Little's law: mean latency = connections / rate, and p99 >= mean), so what the
machine allows any FastAPI endpoint is on the same page as the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import httpx  # noqa: E402

BASELINE_APP = """
import sys
from fastapi import FastAPI
from pydantic import BaseModel
import uvicorn
from dexin.app import open_vault
from dexin.settings import Settings

class Body(BaseModel):
    id_number: str

with open_vault(Settings.from_env()) as vault:
    app = FastAPI()

    @app.post("/score")
    def score(body: Body) -> dict:
        row = vault.lookup("features", "subject", vault.subject_pseudonym(body.id_number))
        return {"found": row is not None}

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
                log_level="warning", access_log=False)
"""

FLOOR_APP = """
import sys
from fastapi import FastAPI
from pydantic import BaseModel
import uvicorn

class Body(BaseModel):
    id_number: str

app = FastAPI()

@app.post("/score")
async def score(body: Body) -> dict:
    return {"found": True}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
            log_level="warning", access_log=False)
"""

GATEWAY_APP = """
import sys, uvicorn
from dexin.settings import Settings
from query_gateway import create_app
uvicorn.run(create_app(Settings.from_env()), host="127.0.0.1", port=int(sys.argv[1]),
            loop="uvloop", http="httptools", log_level="warning", access_log=False)
"""

WRK_SCRIPT = """
local requests = {
%s
}
local i = 0
request = function()
  i = i + 1
  local r = requests[(i %% #requests) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = r[1]}, r[2])
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _lua_string(text: str) -> str:
    if "]==]" in text:
        raise ValueError("request text cannot be quoted for Lua")
    return f"[==[{text}]==]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(code: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(base + "/", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def drive(
    url: str, requests: list[dict[str, Any]], seconds: float, connections: int
) -> dict[str, Any]:
    """Drive ``url`` with wrk (a C load generator, one thread, so the server keeps a core):
    the Python client this bench used before saturated at ~200 requests/s by itself."""
    if shutil.which("wrk") is None:
        raise SystemExit("bench/gateway.py drives the load with wrk: apt-get install wrk")
    rows = ",\n".join(
        f"{{{_lua_string(r['headers'].get('Authorization', ''))}, "
        f"{_lua_string(json.dumps(r['body']))}}}"
        for r in requests
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % rows)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s",
             script.name, url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    done = re.search(r"^\s+(\d+) requests in", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
        "n": int(done.group(1)) if done else 0,
        "errors": int(errors.group(1)) if errors else 0,
    }


def build(home: Path, env: dict[str, str], scale: float) -> list[str]:
    """Generate, ingest and score; returns sample ID numbers (bench-side knowledge)."""
    import pyarrow.parquet as pq

    from credit_model import load_spec
    from dexin.app import open_vault, vault_config
    from dexin.keys import key_provider
    from dexin.settings import Settings
    from governance import score_all
    from synthetic import generate
    from vault import Vault, ingest_directory, load_registry

    settings = Settings.from_env(env)
    data = home.parent / "data"
    t = time.perf_counter()
    generate(data, scale, 0, "parquet")
    Vault.init(vault_config(settings), load_registry(), key_provider(settings))
    with open_vault(settings) as vault:
        ingest_directory(vault, data)
        score_all(
            vault,
            load_spec(registry=vault.registry),
            computed_at=dt.datetime.now(dt.UTC),
            release=None,
        )
        # the baseline's point look-up gets the index it needs (the product builds none: the
        # gateway reads its in-memory FeatureStore, never DuckDB, to score)
        vault.query('CREATE UNIQUE INDEX features_subject ON derived.features ("subject")')
    print(f"built scale {scale} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    ids = pq.read_table(data / "public_security/residents.parquet", columns=["id_number"]).column(0)
    return [str(x) for x in ids.to_pylist()]


def prepare(base: str, env: dict[str, str], ids: list[str]) -> list[dict[str, Any]]:
    """Clients, an approved request and one consent per subject, through the running gateway."""
    from dexin.admin import subject_token
    from dexin.app import control_plane
    from dexin.settings import Settings
    from governance import Role

    settings = Settings.from_env(env)
    control = control_plane(settings)
    made = {r: control.create_client(Role(r), r) for r in ("bank", "officer")}
    second = control.create_client(Role.OFFICER, "officer-2")
    http = httpx.Client(base_url=base, timeout=60)

    def token(c: Any) -> str:
        r = http.post(
            "/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": c.client_id,
                "client_secret": c.client_secret,
            },
        )
        return str(r.json()["access_token"])

    bank = token(made["bank"])
    computation = next(
        c
        for c in http.get("/v1/computations", headers={"Authorization": f"Bearer {bank}"}).json()
        if c["id"] == "morality_credit_score"
    )
    filed = http.post(
        "/v1/access-requests",
        headers={"Authorization": f"Bearer {bank}"},
        json={
            "computation": computation["id"],
            "computation_hash": computation["hash"],
            "purpose": "credit_assessment",
            "valid_until": "2030-01-01T00:00:00Z",
            "quota": 10_000_000,
        },
    ).json()
    for officer in (made["officer"], second):
        http.post(
            f"/v1/access-requests/{filed['id']}/votes",
            json={"decision": "approve"},
            headers={"Authorization": f"Bearer {token(officer)}"},
        )
    requests = []
    for id_number in ids:
        subject = subject_token(settings, id_number, 3600).access_token
        consent = http.post(
            "/v1/consents",
            headers={"Authorization": f"Bearer {subject}"},
            json={
                "bank": made["bank"].client_id,
                "purpose": "credit_assessment",
                "expires_at": "2030-01-01T00:00:00Z",
            },
        ).json()
        requests.append(
            {
                "headers": {"Authorization": f"Bearer {bank}"},
                "body": {
                    "id_number": id_number,
                    "purpose": "credit_assessment",
                    "access_request_id": filed["id"],
                    "consent_id": consent["id"],
                },
            }
        )
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--subjects", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dexin-bench-gateway-") as tmp:
        home = Path(tmp) / "home"
        env = dict(os.environ) | {
            "DEXIN_HOME": str(home),
            "DEXIN_MASTER_KEY": secrets.token_hex(32),
            "DEXIN_RATE_LIMIT": "1000000",
            "DEXIN_RATE_BURST": "1000000",
        }
        env.pop("DATABASE_URL", None)
        ids = build(home, env, args.scale)[: args.subjects]
        bare = [{"headers": {}, "body": {"id_number": i}} for i in ids]
        measured = {}
        for name, app in (("baseline", BASELINE_APP), ("floor", FLOOR_APP)):
            proc, base = serve(app, env)
            try:
                measured[name] = drive(base + "/score", bare, args.seconds, args.connections)
            finally:
                proc.terminate()
                proc.wait()
        baseline, floor = measured["baseline"], measured["floor"]
        proc, base = serve(GATEWAY_APP, env)
        try:
            ours = drive(
                base + "/v1/scores", prepare(base, env, ids), args.seconds, args.connections
            )
        finally:
            proc.terminate()
            proc.wait()
    for name, r in (
        ("baseline (bare FastAPI + DuckDB look-up)", baseline),
        ("gateway (auth, policy, consent, quota, audit, signature)", ours),
        ("floor (the same FastAPI stack answering a constant)", floor),
    ):
        print(
            f"{name:58s} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
            f"  ({r['n']} requests, {r['errors']} non-200)"
        )
    print(
        f"ratio gateway / baseline requests per second: {ours['rps'] / baseline['rps']:.2f} "
        f"(target >= 1.5); gateway p99 {ours['p99']:.1f} ms (target <= 25 ms) at {args.connections} connections"
    )
    print(
        f"a p99 of 25 ms with {args.connections} connections in a closed loop needs at least "
        f"{args.connections / 0.025:,.0f} req/s (Little's law); the floor reached "
        f"{floor['rps']:,.0f} req/s with p99 {floor['p99']:.1f} ms"
    )


if __name__ == "__main__":
    main()
