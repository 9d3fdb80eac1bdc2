"""Gateway benchmark: POST /v1/scores with authentication, policy, audit and signing on,
against a bare FastAPI endpoint doing the same DuckDB point look-up (the baseline).

    .venv/bin/python bench/gateway.py --scale 1.0 [--seconds 20] [--connections 8,64] [--rounds 3]

Builds a synthetic Yuyao at ``--scale`` (generate, ingest, score_all), registers a bank
holding its own key, two officers who vote with enrolled keys, an approved access request
and one consent for each of ``--subjects`` residents, then serves each app in its own
process on 127.0.0.1 (uvicorn with uvloop and httptools) and drives it with wrk (Debian's
`wrk`: `apt-get install wrk`) from another process with that many concurrent keep-alive
connections for ``--seconds`` seconds. Every score is sent as `dexin_client` sends it: the
key-bound token and a fresh DPoP proof (made before the run). The baseline endpoint
pseudonymises the ID number and looks up the subject's feature row (`Vault.lookup`, on a
unique index the bench builds for it), with no token, policy, quota, consent, audit or
signature. Targets (issue 5): ours >= 1.5 x the baseline's requests per second; p99 <= 25
ms at 64. Issue 16: the gateway's p99 within 3 x its own p50.

The bank signs in as FAPI 2.0 asks (issue 17), so every score carries a DPoP proof; each
report also says what checking one costs per answer, beside the gateway's and the floor's
time per request (bench/dpop.py measures it in this process).

It also measures the floor: the same FastAPI stack answering a constant (no vault, no work),
and prints the rate a p99 target needs with that many connections in a closed loop (Little's
law: mean latency = connections / rate, and p99 >= mean). The floor and the gateway are
served side by side and driven in turn, ``--rounds`` times: on a machine others share, a
burst of their work stretches whichever app is running, so a tail is judged against the
floor's in the same rounds. ``--stalls FILE`` says what overlapped the gateway's slowest
answers (bench/stalls.py).

``--workers 1,2,4`` (issue 16 §4) measures the answer workers instead: one `dexin.cluster`
on a fresh PostgreSQL schema (``--database-url``; dropped at the end), and for each N the
floor and N workers on one port in turn, with the CPU seconds one answer costs (workers,
PostgreSQL, the vault's owner) and how wrk's connections spread over the workers
(`workers_main`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

# the same, with bench/stalls.py's probes (--stalls FILE)
GATEWAY_STALLS_APP = """
import importlib.util, sys, uvicorn
from pathlib import Path
spec = importlib.util.spec_from_file_location("stalls", sys.argv[2])
stalls = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stalls)  # by path: bench/ on sys.path would shadow the audit package
from dexin.settings import Settings
from query_gateway import create_app
recorder = stalls.install(Path(sys.argv[3]))
app = stalls.wrap_app(create_app(Settings.from_env()), recorder)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
            log_level="warning", access_log=False)
"""

WRK_SCRIPT = """
local requests = {}
for line in io.lines(%s) do
  local authorization, proof, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  requests[#requests + 1] = {authorization, proof, body}
end
local i = 0
request = function()
  i = i + 1
  local r = requests[((i - 1) %% #requests) + 1]
  local headers = {["Content-Type"] = "application/json"}
  if r[1] ~= "" then headers["Authorization"] = r[1] end
  if r[2] ~= "" then headers["DPoP"] = r[2] end
  return wrk.format("POST", nil, headers, r[3])
end
"""

# a DPoP proof is good for one request (its jti is remembered) within 60 s of its iat: each
# run gets fresh ones, more than the fastest app here answers in that time
PROOFS_PER_SECOND = 4000

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


def serve(code: str, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), *extra], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(base + "/", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def drive(
    url: str,
    bodies: list[dict[str, Any]],
    seconds: float,
    connections: int,
    sign: Callable[[], tuple[str, str]] | None = None,
    timeout: str | None = None,
) -> dict[str, Any]:
    """Drive ``url`` with wrk (a C load generator, one thread, so the server keeps a core):
    the Python client this bench used before saturated at ~200 requests/s by itself. With
    ``sign``, every request carries its own ``Authorization`` and DPoP proof, made just
    before the run (a proof is good once, within 60 s). wrk leaves a request that takes
    longer than ``timeout`` (its default: 2 s) out of the latencies and counts it apart."""
    if shutil.which("wrk") is None:
        raise SystemExit("bench/gateway.py drives the load with wrk: apt-get install wrk")
    count = int(seconds * PROOFS_PER_SECOND) if sign is not None else len(bodies)
    with tempfile.TemporaryDirectory(prefix="dexin-bench-wrk-") as tmp:
        lines, script = Path(tmp) / "requests.tsv", Path(tmp) / "requests.lua"
        with lines.open("w") as f:
            for n in range(count):
                authorization, proof = sign() if sign is not None else ("", "")
                f.write(f"{authorization}\t{proof}\t{json.dumps(bodies[n % len(bodies)])}\n")
        script.write_text(WRK_SCRIPT % _lua_string(str(lines)))
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s",
             str(script), *(["--timeout", timeout] if timeout else []), url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    done = re.search(r"^\s+(\d+) requests in", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
        "n": int(done.group(1)) if done else 0,
        "errors": int(errors.group(1)) if errors else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
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


@dataclass
class Prepared:
    """What the load is made of: one score body per subject, and the bank's signer."""

    bodies: list[dict[str, Any]]
    sign: Callable[[], tuple[str, str]] | None


def prepare(
    base: str, env: dict[str, str], ids: list[str], score_url: str | None = None
) -> Prepared:
    """Clients, an approved request and one consent per subject, through the running gateway.

    The bank holds its own key: its token is bound to it (``private_key_jwt``, DPoP), so
    every score carries a fresh DPoP proof, as `dexin_client` sends them. The officers
    enrol software keys through one-time invites and sign their votes (as `dexin officer
    vote` does); the gateway is addressed as ``localhost`` for that, since a WebAuthn
    relying party is a domain, never an IP. Residents consent through the development
    identity provider (the bench sets ``DEXIN_UNSAFE_DEV_IDENTITY``). The DPoP proofs name
    ``score_url`` (default: ``base``'s): with ``--workers`` the bank signs up at the vault's
    owner and scores at the answer workers' port."""
    from dexin.admin import subject_token
    from dexin.app import control_plane
    from dexin.officer_key import decide, enrol
    from dexin.settings import Settings
    from dexin_client import ClientKey, DexinClient
    from governance import Role, create_invite, parse_jwks

    settings = Settings.from_env(env)
    control = control_plane(settings)
    key = ClientKey.generate()
    made = control.create_client(Role.BANK, "bank", parse_jwks(key.public_jwks()))
    bank = DexinClient(base, made.client_id, key=key, timeout=60)
    officers = [control.create_client(Role.OFFICER, f"officer-{i}") for i in (1, 2)]
    filed = bank.request_access("morality_credit_score", purpose="credit_assessment",
                                valid_until="2030-01-01T00:00:00Z", quota=10_000_000)  # fmt: skip
    http = httpx.Client(base_url=base.replace("127.0.0.1", "localhost"), timeout=60)
    for officer in officers:
        token = http.post("/v1/oauth/token", data={"grant_type": "client_credentials",
                          "client_id": officer.client_id,
                          "client_secret": officer.client_secret}).json()["access_token"]  # fmt: skip
        signer = enrol(http, create_invite(control.sessions, officer.client_id, "bench"))
        _, voted = decide(http, signer, token, filed["id"], "approve")
        voted.raise_for_status()
    bodies = []
    for id_number in ids:
        subject = subject_token(settings, id_number, 3600).access_token
        consent = http.post(
            "/v1/consents",
            headers={"Authorization": f"Bearer {subject}"},
            json={"bank": made.client_id, "purpose": "credit_assessment",
                  "expires_at": "2030-01-01T00:00:00Z"},
        ).json()  # fmt: skip
        bodies.append({"id_number": id_number, "purpose": "credit_assessment",
                       "access_request_id": filed["id"], "consent_id": consent["id"]})  # fmt: skip
    bound = key.registered(made.client_id)
    url = score_url or base + "/v1/scores"

    def sign() -> tuple[str, str]:
        token = bank.access_token()
        return f"DPoP {token}", bound.proof("POST", url, token)

    return Prepared(bodies, sign)


def main() -> None:
    args = _arguments()
    counts = [int(c) for c in str(args.connections).split(",")]
    if args.workers is not None:
        workers_main(args, counts, [int(n) for n in str(args.workers).split(",")])
        return
    with tempfile.TemporaryDirectory(prefix="dexin-bench-gateway-") as tmp:
        home = Path(tmp) / "home"
        env = dict(os.environ) | {
            "DEXIN_HOME": str(home),
            "DEXIN_MASTER_KEY": secrets.token_hex(32),
            "DEXIN_RATE_LIMIT": "1000000",
            "DEXIN_RATE_BURST": "1000000",
            "DEXIN_UNSAFE_DEV_IDENTITY": "1",  # residents consent by ID number (loopback only)
        }
        env.pop("DATABASE_URL", None)
        ids = build(home, env, args.scale)[: args.subjects]
        bare = [{"id_number": i} for i in ids]
        measured: dict[str, dict[int, list[dict[str, Any]]]] = {}
        if not args.gateway_only:  # the baseline opens the vault: it cannot run beside the gateway
            with _served(BASELINE_APP, env) as base:
                measured["baseline"] = _rounds({"baseline": (base + "/score", Prepared(bare, None))},
                                               args, counts)["baseline"]  # fmt: skip
        gateway, extra = GATEWAY_APP, ()
        if args.stalls is not None:
            gateway, extra = GATEWAY_STALLS_APP, (str(STALLS), str(args.stalls))
        with _served(gateway, env, *extra) as ours, _served(FLOOR_APP, env) as floor:
            targets = {"gateway": (ours + "/v1/scores", prepare(ours, env, ids))}
            if not args.gateway_only:
                targets = {"floor": (floor + "/score", Prepared(bare, None))} | targets
            measured |= _rounds(targets, args, counts)
    for c in counts:
        _report(c, {name: runs[c] for name, runs in measured.items()})
        if args.stalls is not None:
            for run in measured["gateway"][c]:
                print(_stalls().summarise(args.stalls, run["window"]))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--connections",
        default="64",
        help="one count or several, comma-separated (each app is driven at each)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="drive the floor and the gateway in turn this many times, so both "
        "meet the same load from the rest of the machine",
    )
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument(
        "--gateway-only",
        action="store_true",
        help="skip the baseline and the floor (for quick comparisons)",
    )
    parser.add_argument(
        "--stalls",
        type=Path,
        default=None,
        metavar="FILE",
        help="probe the gateway (bench/stalls.py): what overlapped its slowest answers",
    )
    parser.add_argument(
        "--workers",
        default=None,
        metavar="N,N,...",
        help="run the cluster (dexin.cluster: anvil, a PostgreSQL schema, the vault's owner) "
        "and drive N answer workers on one port for each N, beside the floor and the baseline",
    )
    parser.add_argument(
        "--proxy",
        choices=("none", "nginx"),
        default="none",
        help="with --workers: drive the workers through nginx (on PATH; Debian's package), "
        "which opens a connection to them per request, as the compose deployment's proxy "
        "does, instead of holding wrk's connections where the kernel put them",
    )
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="with --workers: the PostgreSQL server (a fresh schema, dropped at the end)",
    )
    return parser.parse_args()  # fmt: skip


@contextmanager
def _served(code: str, env: dict[str, str], *extra: str) -> Iterator[str]:
    proc, base = serve(code, env, *extra)
    print(f"serving pid {proc.pid} at {base}", file=sys.stderr)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait()


def _rounds(targets: dict[str, tuple[str, Prepared]], args: Any,
            counts: list[int]) -> dict[str, dict[int, list[dict[str, Any]]]]:  # fmt: skip
    """Warm each app up, then for each round and connection count drive each app in turn;
    each run's figures carry its ``window`` (perf_counter seconds)."""
    for url, load in targets.values():
        drive(url, load.bodies, 2, max(counts), load.sign)  # first calls stay out of the figures
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {n: {c: [] for c in counts} for n in targets}
    for _ in range(args.rounds):
        for c in counts:
            for name, (url, load) in targets.items():
                start = time.perf_counter()
                run = drive(url, load.bodies, args.seconds, c, load.sign)
                runs[name][c].append(run | {"window": (start, time.perf_counter())})
    return runs


STALLS = Path(__file__).parent / "stalls.py"


def _stalls() -> Any:
    """bench/stalls.py, loaded by path (bench/ on sys.path would shadow the audit package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("stalls", STALLS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_NAMES = {
    "baseline": "baseline (bare FastAPI + DuckDB look-up)",
    "gateway": "gateway (auth, policy, consent, quota, audit, signature)",
    "floor": "floor (the same FastAPI stack answering a constant)",
}


def _report(connections: int, runs: dict[str, list[dict[str, Any]]]) -> None:
    print(f"-- {connections} connections")
    for name, rounds in runs.items():
        for r in rounds:
            print(
                f"{_NAMES[name]:58s} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
                f"p99 {r['p99']:6.1f} ms  p99/p50 {r['p99'] / r['p50']:4.1f}  "
                f"({r['n']} requests, {r['errors']} non-200)"
            )
    ours = [r["p99"] / r["p50"] for r in runs["gateway"]]
    line = f"gateway p99 / p50: {', '.join(f'{x:.1f}' for x in ours)} (target <= 3)"
    if "floor" in runs:
        floor = [r["p99"] / r["p50"] for r in runs["floor"]]
        line += f"; the floor's in the same rounds: {', '.join(f'{x:.1f}' for x in floor)}"
    print(line)
    print(_dpop_line(runs))
    if "baseline" not in runs:
        return
    gateway, baseline = _median(runs["gateway"], "rps"), _median(runs["baseline"], "rps")
    print(
        f"ratio gateway / baseline requests per second: {gateway / baseline:.2f} "
        f"(target >= 1.5); gateway p99 {_median(runs['gateway'], 'p99'):.1f} ms (target <= 25 ms)"
    )
    print(
        f"a p99 of 25 ms with {connections} connections in a closed loop needs at least "
        f"{connections / 0.025:,.0f} req/s (Little's law); the floor reached "
        f"{_median(runs['floor'], 'rps'):,.0f} req/s with p99 {_median(runs['floor'], 'p99'):.1f} ms"
    )


@functools.cache
def _dpop() -> Any:
    """bench/dpop.py (issue 17) and its figures, measured once in this process."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_dpop", Path(__file__).parent / "dpop.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_dpop"] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    module.proof_cost(200)  # warm-up
    return module, module.proof_cost(2000)


def _dpop_line(runs: dict[str, list[dict[str, Any]]]) -> str:
    """What checking the bank's DPoP proof costs per answer, beside the gateway's and the
    floor's time per request (one serving process each: 1 / requests per second)."""
    module, cost = _dpop()
    per = {name: 1e6 / _median(runs[name], "rps") for name in ("gateway", "floor") if name in runs}
    return str(module.describe(cost, per))


def _median(rounds: list[dict[str, Any]], key: str) -> float:
    values = sorted(r[key] for r in rounds)
    return float(values[len(values) // 2])


# -- --workers: the answer workers of dexin.cluster (issue 16 §4) ------------------------------


def workers_main(args: argparse.Namespace, counts: list[int], pools: list[int]) -> None:
    """One cluster (`dexin.cluster`: anvil, a fresh PostgreSQL schema, the vault's owner, a
    witness, the residents' IdP), built at ``--scale``; a bank registered, approved and
    consented to through the owner. Then the baseline, served from the same data directory
    while the owner is stopped (it opens the vault, which the owner holds), and, with the
    owner running again, for each N: N answer workers on one port (``dexin serve --worker
    --workers N``), the floor and the workers driven in turn ``--rounds`` times at each
    connection count. Each worker run also reads the CPU time (utime + stime, /proc) of the
    workers, the owner and every PostgreSQL server process, and the machine's busy time, over
    the run: divided by the answers, what one answer costs, so N cores can be projected."""
    from dexin.cluster import Cluster, ClusterConfig, drop_schema

    schema = f"bench_gw_{secrets.token_hex(4)}"
    results: dict[int, dict[str, dict[int, list[dict[str, Any]]]]] = {}
    with tempfile.TemporaryDirectory(prefix="dexin-bench-workers-") as tmp:
        config = ClusterConfig(
            home=Path(tmp) / "home",
            database_url=args.database_url,
            schema=schema,
            workers=pools[0],
            port=free_port(),
            owner_port=free_port(),
            ledger_port=free_port(),
            scale=args.scale,
            extra_env={
                "DEXIN_RATE_LIMIT": "1000000",  # the bench is one bank: never throttled
                "DEXIN_RATE_BURST": "1000000",
                "DEXIN_UNSAFE_DEV_IDENTITY": "1",  # residents consent by ID number (loopback)
            },
        )
        try:
            with Cluster(config) as cluster:
                data = (
                    cluster.settings.home / "demo-data" / f"scale-{args.scale:g}-seed-{config.seed}"
                )
                ids = _resident_ids(data / "public_security" / "residents.csv")[: args.subjects]
                front = f"http://127.0.0.1:{free_port()}" if args.proxy == "nginx" else config.url
                load = prepare(config.owner_url, cluster.env, ids, front + "/v1/scores")
                bare = Prepared([{"id_number": i} for i in ids], None)
                cluster.stop_workers()
                served_env = dict(cluster._served_env)  # the owner's and the workers' environment
                baseline: dict[int, list[dict[str, Any]]] = {}
                if not args.gateway_only:
                    cluster.stop_owner()  # the baseline opens the vault: the owner holds it
                    _index_features(cluster.settings)
                    with _served(BASELINE_APP, served_env) as base:
                        baseline = _rounds({"baseline": (base + "/score", bare)}, args,
                                           counts)["baseline"]  # fmt: skip
                    cluster.start_owner()
                proxy = _nginx(front, config.port, Path(tmp)) if args.proxy == "nginx" else None
                with (
                    _served(FLOOR_APP, served_env) as floor,
                    proxy or contextlib.nullcontext() as proxy_pid,
                ):
                    for n in pools:
                        if args.stalls is not None and n == 1:
                            _start_probed_worker(cluster, served_env, args.stalls)
                        else:
                            cluster.start_workers(n)
                        try:
                            print(
                                f"{n} answer workers: pids {cluster.worker_pids()}", file=sys.stderr
                            )
                            results[n] = _worker_rounds(cluster, front + "/v1/scores",
                                                        proxy_pid, floor + "/score", bare,
                                                        load, args, counts)  # fmt: skip
                        finally:
                            cluster.stop_workers()
                        if baseline:
                            results[n]["baseline"] = baseline
        finally:
            drop_schema(args.database_url, schema)
    for n in pools:
        for c in counts:
            print(
                f"== {n} answer worker{'s' if n > 1 else ''} (dexin serve --worker --workers {n}"
                + (", behind nginx: a connection per request)" if args.proxy == "nginx" else ")")
            )
            _report(c, {name: runs[c] for name, runs in results[n].items()})
            _cpu_report(results[n]["gateway"][c])
            if args.stalls is not None and n == 1:
                for run in results[n]["gateway"][c]:
                    print(_stalls().summarise(args.stalls, run["window"]))
    _workers_summary(results, pools, counts)


def _start_probed_worker(cluster: Any, env: dict[str, str], record: Path) -> None:
    """With ``--stalls FILE``, the one answer worker is served with bench/stalls.py's probes
    (as ``dexin serve --worker`` serves one: the worker role, one process on the cluster's
    port); `Cluster.stop_workers` stops it, and it writes FILE as it exits."""
    port = str(cluster.config.port)
    proc = subprocess.Popen([sys.executable, "-c", GATEWAY_STALLS_APP, port, str(STALLS),
                             str(record)], env=env | {"DEXIN_SERVE_ROLE": "worker"})  # fmt: skip
    cluster.pool, cluster._pool_size = proc, 1
    for _ in range(1800):
        if proc.poll() is not None:
            raise RuntimeError("the probed worker exited")
        try:
            if httpx.get(cluster.config.url + "/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the probed worker did not start")


def _resident_ids(residents: Path) -> list[str]:
    import csv

    with residents.open(newline="", encoding="utf-8") as f:
        return [row["id_number"] for row in csv.DictReader(f)]


def _index_features(settings: Any) -> None:
    """The baseline's point look-up gets its unique index (as in the single-process mode)."""
    from dexin.app import open_vault

    with open_vault(settings) as vault:
        vault.query(
            'CREATE UNIQUE INDEX IF NOT EXISTS features_subject ON derived.features ("subject")'
        )


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # fields 14 and 15 of proc(5)


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _machine_busy() -> float:
    """All cores' non-idle time, in seconds (/proc/stat: user nice system irq softirq steal)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / _TICK


def _cpu_sample(cluster: Any, proxy_pid: int | None) -> dict[str, Any]:
    workers = cluster.worker_pids()
    postgres = _postgres_pids()
    supervisor = [cluster.pool.pid] if cluster.pool is not None and len(workers) > 1 else []
    return {
        "pids": tuple(workers),
        "workers": sum(_cpu_seconds(p) for p in workers + supervisor),
        "owner": _cpu_seconds(cluster.owner.pid) if cluster.owner is not None else 0.0,
        "proxy": _cpu_seconds(proxy_pid) if proxy_pid is not None else 0.0,
        "postgres": {p: _cpu_seconds(p) for p in postgres},
        "machine": _machine_busy(),
    }


# answers past wrk's default 2 s would leave the latencies (p99 understated): at 64
# connections a slow pool answers in more than that
WORKERS_TIMEOUT = "30s"


@contextmanager
def _nginx(front: str, workers_port: int, tmp: Path) -> Iterator[int]:
    """nginx at ``front``, in front of the answer workers' port: one process (no master), no
    keep-alive to the workers, so each request is a connection of its own, accepted by
    whichever worker's loop is free (the compose deployment's proxy does the same: its
    upstream is resolved per request, without keep-alive). Its CPU time counts as the
    proxy's (its pid is yielded)."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        raise SystemExit("--proxy nginx: nginx is not installed (Debian: apt-get install nginx)")
    root = tmp / "nginx"
    root.mkdir()
    port = front.rsplit(":", 1)[1]
    temp = " ".join(f"{k}_temp_path {root / k};" for k in ("client_body", "proxy", "fastcgi",
                                                           "uwsgi", "scgi"))  # fmt: skip
    (root / "nginx.conf").write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {root / "nginx.pid"};
error_log {root / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    {temp}
    upstream answer_workers {{ server 127.0.0.1:{workers_port}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://answer_workers;
            proxy_http_version 1.1;
            proxy_set_header Connection close;
            proxy_set_header Host $http_host;
            proxy_read_timeout 60s;
        }}
    }}
}}
""")
    proc = subprocess.Popen([binary, "-p", str(root), "-c", str(root / "nginx.conf")])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", int(port)), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"nginx exited: {(root / 'error.log').read_text()}") from None
                time.sleep(0.1)
        else:
            raise SystemExit(f"nginx did not listen on {front} within 10 s")
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def _worker_rounds(cluster: Any, url: str, proxy_pid: int | None, floor_url: str,
                   bare: Prepared, load: Prepared, args: Any,
                   counts: list[int]) -> dict[str, dict[int, list[dict[str, Any]]]]:  # fmt: skip
    """`_rounds` for the floor and the answer workers (at ``url``: theirs, or the proxy's,
    whose CPU time is read too), with each worker run's CPU time."""
    drive(floor_url, bare.bodies, 2, max(counts))  # warm-up, out of the figures
    drive(url, load.bodies, 2, max(counts), load.sign, WORKERS_TIMEOUT)
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {
        "floor": {c: [] for c in counts},
        "gateway": {c: [] for c in counts},
    }
    for _ in range(args.rounds):
        for c in counts:
            if not args.gateway_only:
                start = time.perf_counter()
                run = drive(floor_url, bare.bodies, args.seconds, c)
                runs["floor"][c].append(run | {"window": (start, time.perf_counter())})
            signer = _presigned(load, args.seconds)  # proofs made before the CPU is counted
            spread: list[int] = []
            probe = threading.Timer(
                args.seconds / 2, lambda into=spread: into.extend(_spread(cluster))
            )
            start, before = time.perf_counter(), _cpu_sample(cluster, proxy_pid)
            probe.start()
            run = drive(url, load.bodies, args.seconds, c, signer, WORKERS_TIMEOUT)
            probe.join()
            after, end = _cpu_sample(cluster, proxy_pid), time.perf_counter()
            if after["pids"] != before["pids"]:
                raise RuntimeError("an answer worker was replaced during the run: CPU not counted")
            answers = max(run["n"] - run["errors"], 1)
            cpu = {k: (after[k] - before[k]) / answers
                   for k in ("workers", "owner", "proxy", "machine")}  # fmt: skip
            # per server process: one that started during the run counts from 0, one that
            # ended is lost (its time goes to the postmaster's children total, not read here)
            cpu["postgres"] = sum(t - before["postgres"].get(p, 0.0)
                                  for p, t in after["postgres"].items()) / answers  # fmt: skip
            runs["gateway"][c].append(run | {"window": (start, end), "cpu": cpu, "spread": spread,
                                             "busy": (after["machine"] - before["machine"])
                                             / (end - start)})  # fmt: skip
    if args.gateway_only:
        del runs["floor"]
    return runs


def _spread(cluster: Any) -> list[int]:
    """wrk's connections held by each answer worker (``ss``), most first: uvicorn's workers
    accept from one shared socket, so the kernel, not a balancer, says who gets which."""
    port = f":{cluster.config.port}"
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = {port} )"],
                         capture_output=True, text=True, check=False).stdout  # fmt: skip
    held = {pid: 0 for pid in cluster.worker_pids()}
    for pid in re.findall(r"pid=(\d+)", out):
        if int(pid) in held:
            held[int(pid)] += 1
    return sorted(held.values(), reverse=True)


def _presigned(load: Prepared, seconds: float) -> Callable[[], tuple[str, str]]:
    """The run's tokens and DPoP proofs, made now (``drive`` asks for them one by one before
    it starts wrk; making them there would count this process's signing in the machine's
    busy time)."""
    assert load.sign is not None
    made = iter([load.sign() for _ in range(int(seconds * PROOFS_PER_SECOND))])
    return lambda: next(made)


def _cpu_report(runs: list[dict[str, Any]]) -> None:
    for r in runs:
        cpu = r["cpu"]
        print(
            f"CPU per answer: workers {cpu['workers'] * 1e3:.2f} ms, PostgreSQL (every server "
            f"process) {cpu['postgres'] * 1e3:.2f} ms, the owner {cpu['owner'] * 1e3:.2f} ms"
            + (f", nginx {cpu['proxy'] * 1e3:.2f} ms" if cpu["proxy"] else "")
            + "; "
            f"the machine busy {cpu['machine'] * 1e3:.2f} ms per answer "
            f"({r['busy']:.2f} of {os.cpu_count()} cores, wrk included); connections held "
            f"by each worker mid-run: {'/'.join(map(str, r['spread'])) or 'not read'}; "
            f"{r['timeouts']} timed out (over {WORKERS_TIMEOUT})"
        )


def _workers_summary(results: dict[int, dict[str, dict[int, list[dict[str, Any]]]]],
                     pools: list[int], counts: list[int]) -> None:  # fmt: skip
    print("-- summary (lowest-highest over the rounds)")
    for c in counts:
        for n in pools:
            runs = results[n]["gateway"][c]
            ratios = ", ".join(f"{r['p99'] / r['p50']:.1f}" for r in runs)
            spreads = ", ".join("/".join(map(str, r["spread"])) for r in runs)
            met = "met" if all(r["p99"] <= 3 * r["p50"] for r in runs) else "MISSED"
            line = (
                f"{c:3d} connections, {n} worker{'s' if n > 1 else ' '}: "
                f"{_span(runs, 'rps', '.0f')} req/s  p50 {_span(runs, 'p50', '.0f')} ms  "
                f"p99 {_span(runs, 'p99', '.0f')} ms  p99/p50 {ratios} ({met} <= 3)  CPU per "
                f"answer: workers {_span([r['cpu'] for r in runs], 'workers', '.1f', 1e3)} ms, "
                f"PostgreSQL {_span([r['cpu'] for r in runs], 'postgres', '.1f', 1e3)} ms; "
                f"connections per worker {spreads}"
            )
            for other in ("floor", "baseline"):
                if other in results[n]:
                    line += f"; {other} {_span(results[n][other][c], 'rps', '.0f')} req/s"
            print(line)


def _span(rows: list[dict[str, Any]], key: str, spec: str, scale: float = 1.0) -> str:
    low, high = min(r[key] for r in rows) * scale, max(r[key] for r in rows) * scale
    return f"{low:{spec}}" if f"{low:{spec}}" == f"{high:{spec}}" else f"{low:{spec}}-{high:{spec}}"


if __name__ == "__main__":
    main()
