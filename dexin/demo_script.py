"""``dexin demo --script``: the story through the API, step by step, checked.

A bank asks → two officers approve (m of n, votes on the ledger) → a resident signs in at the
identity provider and consents (a fresh sign-in for exactly those terms) → the
bank gets a signed score and verifies it with the JWKS → the resident withdraws → the next
request is refused → an aggregate is released with differential privacy → the court, a
provider holding its own key, submits a signed contribution and gets a countersigned receipt
→ an admin
registers a second witness through the API (threshold 2) → both witnesses cosign a
checkpoint through the API and the gateway aggregates and anchors it in the background → the
auditor verifies everything while the gateway runs (``dexin audit verify``: checkpoints,
cosignatures, anchors, every access's approval and consent) → one byte of the exported log
is altered and the verifier names it.

Against a gateway already running (``--url``; it anchors at its own witnessing interval,
30 s by default), or, by default, a fresh one started here over ``$DEXIN_HOME`` (the demo is
built first if it is not; on ``--port`` if given, refused at once when that port is in use,
else on a free port) with a one-second witnessing round; that one is stopped before
``dexin ledger verify``, which needs the vault. Every step prints one line; the first one
that does not behave as expected raises `StoryFailed` (exit code 1).

With ``--cluster`` the story runs on the local cluster (`dexin.cluster`, ``dexin cluster up``'s
processes), one it starts (`run_cluster_script`) or one running (``--url``): answers,
approvals, consents and the residents' sign-in at the answer workers, contributions and
cosignatures at the vault's owner; it adds that a worker refuses a contribution (503
``vault_owner_only``) and that the workers go on answering while the owner is stopped for
``dexin ledger verify``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from audit import BundleStore, Witness
from dexin import demo, demo_identities, demo_idp
from dexin.admin import create_client
from dexin.app import control_plane, load_or_create_log_key, witness_dir
from dexin.cluster import Cluster, ClusterConfig, ClusterFailed
from dexin.demo_idp import ResidentBrowser, oidc_env, running_idp
from dexin.settings import Settings
from dexin.witness_follow import witness_once
from dexin_client import DexinClient, GatewayProblem, SignatureError
from governance import Role, verify_detached
from vault import idnumber

DEBTORS_HEADER = "record_id,id_number,listed_date,removed_date,amount,case_type\n"


class StoryFailed(Exception):
    """A step of the story did not behave as expected."""


class Story:
    """The story's actors against a gateway at ``url``; in a cluster, ``owner_url`` is the
    vault owner's gateway (contributions, witnessing) and ``url`` the answer workers'."""

    def __init__(self, url: str, settings: Settings, people: dict[str, Any], out: Console,
                 owner_url: str | None = None) -> None:  # fmt: skip
        self.http = httpx.Client(base_url=url, timeout=60)
        self.owner = (
            self.http if owner_url is None else httpx.Client(base_url=owner_url, timeout=60)
        )
        self.aggregate_request: str | None = None  # the aggregate's approved request
        self.settings = settings
        self.people = people
        self.out = out
        self.step = 0
        self.keys: dict[str, Any] = {}  # officers' own keys, by client id

    def close(self) -> None:
        self.http.close()
        self.owner.close()

    def say(self, text: str) -> None:
        self.step += 1
        self.out.print(f"[bold green]✓[/] {self.step:>2}. {text}", highlight=False)

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            raise StoryFailed(f"step {self.step + 1}: {what}")

    def token(self, who: dict[str, Any]) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": who["client_id"],
                "client_secret": who["client_secret"]}  # fmt: skip
        r = self.http.post("/v1/oauth/token", data=form)
        self.expect(r.status_code == 200, f"token for {who['client_id']}: {r.status_code}")
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def approve(self, request_id: str) -> dict[str, Any]:
        """Two officers sign their votes with their own keys (enrolled on first use)."""
        from dexin.officer_key import decide

        doc: dict[str, Any] = {}
        for officer in self.people["officers"][:2]:
            key = self.officer_key(officer)
            key, r = decide(self.http, key, self.token(officer)["Authorization"][7:], request_id,
                            "approve")  # fmt: skip
            self.keys[officer["client_id"]] = key
            self.expect(r.status_code == 200, f"vote refused: {r.text}")
            doc = r.json()
        self.expect(doc.get("status") == "approved", f"not approved after m votes: {doc}")
        return doc

    def officer_key(self, officer: dict[str, Any]) -> Any:
        """The officer's own key: enrolled through a one-time invite the first time (as
        `dexin admin invite-officer` and `dexin officer enrol` do), kept for the story."""
        from dexin.app import opened_control_plane
        from dexin.officer_key import enrol
        from governance import create_invite

        if officer["client_id"] not in self.keys:
            with opened_control_plane(self.settings) as control:
                invite = create_invite(control.sessions, officer["client_id"], "demo-admin")
            self.keys[officer["client_id"]] = enrol(self.http, invite)
        return self.keys[officer["client_id"]]

    def bank(self) -> DexinClient:
        """The bank, signing in with its own key (private_key_jwt, DPoP-bound tokens)."""
        return DexinClient.from_key_file(str(self.http.base_url), Path(self.people["bank"]["key_file"]),
                                         timeout=60)  # fmt: skip

    def ask_as(self, bank: DexinClient, computation: str, **terms: Any) -> str:
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=180)).isoformat()
        try:
            return str(bank.request_access(computation, valid_until=until, **terms)["id"])
        except GatewayProblem as exc:
            raise StoryFailed(f"step {self.step + 1}: access request refused: {exc}") from None

    def walk_api(self) -> None:
        with self.bank() as bank:
            self.walk_with(bank)

    def walk_with(self, bank: DexinClient) -> None:
        rid = self.ask_as(bank, "morality_credit_score", purpose="credit_assessment", quota=100)
        self.say(
            f"the bank asks for morality_credit_score (credit_assessment): request {rid}, pending"
        )
        doc = self.approve(rid)
        self.say(f"officers approve, {doc['approvals']} of {len(self.people['officers'])} "
                 f"(m = {doc['threshold']}): approved, each vote signed by the officer's own "
                 f"key and verified by the ledger contract")  # fmt: skip
        resident = self.people["subjects"][0]
        id_number = resident["id_number"]
        browser = ResidentBrowser(str(self.http.base_url), resident["login"], resident["password"])
        try:
            browser.sign_in()
            self.say("the resident signs in at the identity provider (oidc-provider: code + "
                     "PKCE); the gateway links the pairwise sub to the pseudonym")  # fmt: skip
            subject = {"Authorization": f"Bearer {browser.session}"}
            browser.grant(self.people["bank"]["client_id"], "credit_assessment")
            mine = self.http.get("/v1/consents", headers=subject).json()
            self.expect(len(mine) >= 1, f"no consent recorded: {mine}")
            consent = mine[-1]["id"]
            self.say(f"the resident consents to the bank for credit_assessment, proved by a "
                     f"fresh sign-in for exactly those terms: consent {consent}")  # fmt: skip
            terms = {"purpose": "credit_assessment", "access_request_id": rid,
                     "consent_id": consent}  # fmt: skip
            try:
                answer = bank.score(id_number, **terms)
            except GatewayProblem as exc:
                raise StoryFailed(f"step {self.step + 1}: score refused: {exc}") from None
            header = verify_detached(answer.signature, answer.raw, self.http.get("/v1/keys").json())
            score = answer.body
            self.say(f"the bank, signed in with its own key (private_key_jwt, DPoP-bound token), "
                     f"gets a signed score: code {score.get('morality_code')}, points "
                     f"{score.get('morality_points')}, model {score.get('model')}, audit index "
                     f"{score['audit']['index']}; EdDSA signature and subject binding verified "
                     f"(kid {header['kid'][:12]}…)")  # fmt: skip
            browser.withdraw(consent)
            self.say(
                "the resident withdraws the consent (a fresh sign-in again; effective at once)"
            )
        finally:
            browser.close()
        try:
            bank.score(id_number, **terms)
            refused: tuple[int, Any] = (200, None)
        except GatewayProblem as exc:
            refused = (exc.status, exc.reason)
        self.expect(refused == (403, "consent_withdrawn"), f"not refused: {refused}")
        self.say(f"the next request is refused: {refused[0]} {refused[1]}")
        self.aggregate(bank)

    def contribute(self) -> None:
        """The court, a provider holding its own key, submits a signed contribution and
        checks the receipt the gateway countersigned."""
        who = self.people["provider"]
        first17 = "33029119800315013"
        person = first17 + idnumber.check_char(first17)
        stamp = dt.datetime.now(dt.UTC).strftime("%y%m%d%H%M%S")
        rows = "".join(f"DEMO-{stamp}-{i},{person},2026-01-0{i + 1},,1500.00,contract\n"
                       for i in range(2))  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "dishonest_debtors.csv"
            path.write_text(DEBTORS_HEADER + rows, encoding="utf-8")
            with DexinClient.from_key_file(str(self.owner.base_url), Path(who["key_file"]),
                                           timeout=120) as court:  # fmt: skip
                try:
                    signed = court.contribute("dishonest_debtors", path)
                except (GatewayProblem, SignatureError) as exc:
                    raise StoryFailed(
                        f"step {self.step + 1}: contribution refused: {exc}"
                    ) from None
        doc = json.loads(signed.document)
        self.say(f"the court (a provider) submits {signed.body['accepted']} rows signed with its "
                 f"own key: the gateway checks the signature before reading a row, and its "
                 f"countersigned receipt names the Merkle root {doc['merkle_root'][:12]}… and the "
                 f"signature's digest, anchored ({signed.body['anchor']})")  # fmt: skip

    def aggregate(self, bank: DexinClient) -> None:
        rid = self.ask_as(
            bank, "grade_distribution_by_town", purpose="statistics", quota=10, epsilon=1.0
        )
        self.approve(rid)
        self.aggregate_request = rid
        try:
            doc = bank.aggregate("grade_distribution_by_town", rid, epsilon=0.5)
        except GatewayProblem as exc:
            raise StoryFailed(f"step {self.step + 1}: aggregate refused: {exc}") from None
        cells = doc["cells"] or []
        suppressed = sum(1 for c in cells if c["suppressed"])
        self.say(f"an aggregate is released with differential privacy: {len(cells)} cells "
                 f"({suppressed} suppressed below {doc['min_cell']}), ε 0.5 spent, "
                 f"{doc['epsilon_remaining']:.2f} left, {doc['mechanism']}")  # fmt: skip


SECOND_WITNESS = "demo-witness-2"


def second_witness(story: Story) -> Witness:
    """A second witness (its own key and state), registered through the running gateway by
    an admin client, with the ledger's witness threshold set to 2."""
    settings = story.settings
    state = witness_dir(settings, SECOND_WITNESS)
    if (state / "witness.json").exists():
        witness = Witness(state)
    else:
        witness = Witness.init(state, SECOND_WITNESS, load_or_create_log_key(settings).verifier())
    listed = story.owner.get("/v1/audit/witnesses").json()
    if witness.public.public_key.hex() not in listed["public_keys"]:
        made = create_client(control_plane(settings), Role.ADMIN, "demo-registrar")
        admin = story.token({"client_id": made.client_id, "client_secret": made.client_secret})
        pop = base64.b64encode(witness.proof_of_possession()).decode()
        body = {"witness": witness.public.vkey(), "proof_of_possession": pop, "threshold": 2}
        r = story.owner.post("/v1/audit/witnesses", json=body, headers=admin)
        story.expect(r.status_code == 201, f"witness registration refused: {r.text}")
        listed = r.json()
    story.say(f"an admin registers a second witness through the API: {len(listed['public_keys'])} "
              f"witnesses on the ledger, threshold {listed['threshold']}")  # fmt: skip
    return witness


def witness_live(story: Story, env: dict[str, str]) -> None:
    """While the gateway runs: two witnesses cosign through the API, the gateway aggregates and
    anchors in its background round, and the auditor verifies everything without stopping it."""
    auditor = story.people["auditor"]
    client = DexinClient(str(story.owner.base_url), auditor["client_id"],
                         auditor["client_secret"], http=story.owner)  # fmt: skip
    witnesses = [Witness(Path(story.people["witness"]["state"])), second_witness(story)]
    deadline = time.monotonic() + 120  # the log checkpoints every 10 s
    sizes = []
    for witness in witnesses:
        size = None
        while size is None:
            story.expect(time.monotonic() < deadline, "no checkpoint to cosign within 120 s")
            _, size = witness_once(witness, client)
            time.sleep(0 if size else 1)
        sizes.append(size)
    store = BundleStore(story.settings.audit_dir / "cosignatures")
    while sizes[-1] not in store.sizes():
        story.expect(time.monotonic() < deadline + 60, f"checkpoint {sizes[-1]} was not anchored")
        time.sleep(0.5)
    bundle = store.load(sizes[-1])
    story.say(f"{len(witnesses)} witnesses cosign checkpoint {sizes[-1]} through the API; the "
              f"gateway aggregates {len(bundle.signers)} BLS signatures into one and anchors it "
              f"in the background ({bundle.anchor})")  # fmt: skip
    r = dexin_command("audit", "verify", "--json", env=env)
    story.expect(r.returncode == 0, f"dexin audit verify failed: {r.stdout} {r.stderr}")
    verdict = json.loads(r.stdout)
    story.say(f"dexin audit verify while the gateway runs: OK, {verdict['entries']} entries; "
              f"anchors, cosignatures and every access's approval and consent checked")  # fmt: skip


def dexin_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "dexin"
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=600)


def ledger_verify(story: Story, env: dict[str, str]) -> None:
    """``dexin ledger verify``: needs the vault, so no gateway may hold it (the caller stopped
    the gateway, or the cluster's owner)."""
    r = dexin_command("ledger", "verify", env=env)
    story.expect(r.returncode == 0, f"dexin ledger verify failed: {r.stdout} {r.stderr}")
    story.say("dexin ledger verify: every contribution root recomputed and matches its "
              "anchor; every provider's signature verified against its key then")  # fmt: skip


def audit_steps(story: Story, env: dict[str, str], own_gateway: bool) -> None:
    if own_gateway:  # the vault is free once the gateway stopped
        ledger_verify(story, env)
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export"
        r = dexin_command("audit", "export", "--out", str(export), env=env)
        story.expect(r.returncode == 0, f"dexin audit export failed: {r.stderr}")
        r = dexin_command("audit", "verify", "--export", str(export), env=env)
        story.expect(
            r.returncode == 0, f"the untouched export does not verify: {r.stdout}{r.stderr}"
        )
        story.say("dexin audit export + verify --export: the untouched export verifies")
        index = tamper(export / "entries.jsonl")
        r = dexin_command("audit", "verify", "--export", str(export), "--json", env=env)
        named = f"entry {index}" in (r.stdout + r.stderr) or f'"entry": {index}' in r.stdout
        story.expect(r.returncode == 1 and named, f"tampering not named: {r.returncode} {r.stdout}")
        story.say(f"one byte of entry {index} altered in the export: verify exits 1 and names "
                  f"entry {index}")  # fmt: skip


def tamper(entries: Path) -> int:
    """Flip one byte inside an entry's ``actor`` value (the middle entry); returns its index."""
    lines = entries.read_bytes().split(b"\n")
    index = len([x for x in lines if x]) // 2
    line = bytearray(lines[index])
    at = line.index(b'"actor":"') + len(b'"actor":"')
    line[at] = ord("Y") if line[at] != ord("Y") else ord("Z")
    lines[index] = bytes(line)
    entries.write_bytes(b"\n".join(lines))
    return index


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _free_ports(n: int) -> list[int]:
    """``n`` distinct ports free now (held open together while they are picked)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


@contextmanager
def fresh_gateway(
    env: dict[str, str], settings: Settings, people: dict[str, Any], port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A gateway on loopback ``port`` (default: a free one), the residents' identity provider
    beside it. Raises `demo.PortInUse` when ``port`` is taken."""
    if port is None:
        port = _free_port()
    demo.check_port("127.0.0.1", port)
    url = f"http://127.0.0.1:{port}"
    with running_idp(settings, people, url) as idp:
        served = env | oidc_env(idp, people, url)
        with _serving(served, port, url) as proc:
            yield url, proc


@contextmanager
def _serving(env: dict[str, str], port: int, url: str) -> Iterator[subprocess.Popen[bytes]]:
    exe = Path(sys.executable).parent / "dexin"
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
            if proc.poll() is not None:
                raise StoryFailed("the gateway did not start")
        else:
            raise StoryFailed("the gateway did not answer within 120 s")
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_script(
    env: dict[str, str],
    out: Console,
    url: str | None = None,
    scale: float = 0.01,
    seed: int = 1,
    port: int | None = None,
) -> int:
    """Walk the story over the data directory ``env`` names; returns the number of steps
    (raises `StoryFailed`; `demo.PortInUse` before anything is built when ``port`` is taken).
    The subprocesses (gateway, verifiers) get the same ``env``."""
    if url is None and port is not None:
        demo.check_port("127.0.0.1", port)
    settings = Settings.from_env(env)
    people = demo_identities.load(settings)
    if people is None:
        if url is not None:
            raise StoryFailed(
                f"no {demo_identities.identities_path(settings)}: run `make demo` first"
            )
        demo.run(settings, scale, seed, out, serve=False)
        people = demo_identities.load(settings)
        assert people is not None
    made = demo_idp.ensure_residents(people) | demo_identities.ensure_provider(settings, people)
    if made | demo_identities.ensure_provider_staff(settings, people):
        demo_identities.write(settings, people)  # an identities file from before these
    env = os.environ | {"DEXIN_WITNESS_INTERVAL": "1"} | env | {"DEXIN_HOME": str(settings.home)}
    if url is not None:
        story = Story(url, settings, people, out)
        story.walk_api()
        story.contribute()
        witness_live(story, env)
        audit_steps(story, env, own_gateway=False)
        return story.step
    with fresh_gateway(env, settings, people, port) as (fresh, proc):
        story = Story(fresh, settings, people, out)
        out.print(f"a fresh gateway serves {settings.home} on {fresh}")
        story.walk_api()
        story.contribute()
        witness_live(story, env)
        story.close()
        stop(proc)
    audit_steps(story, env, own_gateway=True)
    return story.step


def script_command(
    url: str | None = None, scale: float = 0.01, seed: int = 1, port: int | None = None
) -> None:
    """The body of ``dexin demo --script [--url URL | --port PORT]``: exits 1 naming the step
    that failed (a port in use: `demo.PortInUse`, exit 2 through the command's handler)."""
    out = Console()
    try:
        steps = run_script(dict(os.environ), out, url, scale, seed, port)
    except StoryFailed as exc:
        out.print(f"[bold red]✘ the story failed:[/] {exc}", highlight=False)
        raise SystemExit(1) from None
    out.print(f"[bold]the story holds: {steps} steps as expected[/]")


# -- the story on a cluster (``dexin demo --script --cluster``) --------------------------------


def contribute_to_worker(story: Story) -> None:
    """The court posts a contribution to the answer workers: refused, 503 ``vault_owner_only``
    (only the vault's owner writes the vault), nothing read or stored."""
    who = story.people["provider"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dishonest_debtors.csv"
        path.write_text(DEBTORS_HEADER, encoding="utf-8")
        with DexinClient.from_key_file(str(story.http.base_url), Path(who["key_file"]),
                                       timeout=120) as court:  # fmt: skip
            try:
                court.contribute("dishonest_debtors", path)
                refused: tuple[int, Any] = (200, None)
            except GatewayProblem as exc:
                refused = (exc.status, exc.reason)
    story.expect(refused == (503, "vault_owner_only"), f"a worker took a contribution: {refused}")
    story.say(f"a contribution posted to the answer workers is refused: {refused[0]} "
              f"{refused[1]} (only the vault's owner writes the vault; the court posts there)")  # fmt: skip


def owner_stopped(story: Story, cluster: Cluster, env: dict[str, str]) -> None:
    """The cluster's owner stops: ``dexin ledger verify`` opens the vault, the workers go on
    answering from the published snapshot, and the owner starts again."""
    cluster.stop_owner()
    ledger_verify(story, env)
    rid = story.aggregate_request
    story.expect(rid is not None, "no aggregate request to ask again")
    with story.bank() as bank:
        try:
            doc = bank.aggregate("grade_distribution_by_town", str(rid), epsilon=0.5)
        except GatewayProblem as exc:
            raise StoryFailed(f"step {story.step + 1}: aggregate refused: {exc}") from None
    story.say(f"with the owner stopped the answer workers still answer from the vault snapshot: "
              f"the aggregate again, ε 0.5 spent, {doc['epsilon_remaining']:.2f} left")  # fmt: skip
    cluster.start_owner()
    story.say(f"the vault's owner starts again at {cluster.config.owner_url} over the same vault")


def running_cluster(home: Path, url: str, database_url: str) -> ClusterConfig:
    """The `ClusterConfig` of the cluster `dexin cluster up` runs over ``home`` (from its
    ``cluster/running.json``), whose answer workers are at ``url``."""
    from urllib.parse import urlsplit

    path = home / "cluster" / "running.json"
    try:
        running = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise StoryFailed(f"no running cluster described at {path}: start one with "
                          f"`dexin cluster up` (DEXIN_HOME={home})") from None  # fmt: skip
    answers, owner, ledger = (urlsplit(running[k]) for k in ("answers", "owner", "ledger"))
    if urlsplit(url)[:2] != answers[:2]:
        raise StoryFailed(f"{path} names the answer workers at {running['answers']}, not {url}")
    return ClusterConfig(home=home, database_url=database_url, schema=running["database_schema"],
                         host=answers.hostname or "127.0.0.1", port=answers.port or 80,
                         owner_port=owner.port or 80, ledger_port=ledger.port or 80)  # fmt: skip


def run_cluster_script(out: Console, config: ClusterConfig, url: str | None = None) -> int:
    """The story on a cluster (`dexin.cluster`): answers, approvals, consents and the
    residents' sign-in at the answer workers; contributions, witness registration and
    cosignatures at the vault's owner (a worker answers 503 ``vault_owner_only`` to the one,
    404 to the others: it runs no witnessing round). With ``url`` None a cluster is started
    from ``config`` (the demo built first if it is not) and stopped at the end; its owner is
    stopped for ``dexin ledger verify`` while the workers go on answering. With ``url``, the
    running cluster ``config`` describes (`running_cluster`): the ledger check is left out,
    its owner holds the vault. Returns the number of steps."""
    if url is not None:
        cluster = Cluster(config, out)  # not started: its environment and settings only
        people = demo_identities.load(cluster.settings)
        if people is None:
            raise StoryFailed(f"no {demo_identities.identities_path(cluster.settings)}")
        story = Story(config.url, cluster.settings, people, out, owner_url=config.owner_url)
        try:
            _cluster_story(story, cluster.env)
            out.print("dexin ledger verify is left out: the running cluster's owner holds the "
                      "vault (stop it, then run `dexin ledger verify`)")  # fmt: skip
            audit_steps(story, cluster.env, own_gateway=False)
        finally:
            story.close()
        return story.step
    with Cluster(config, out) as cluster:  # demo.PortInUse before anything starts
        out.print(f"the story on a cluster: answers at {config.url} ({config.workers} workers), "
                  f"the vault's owner at {config.owner_url}; no witness follower: the story's "
                  f"two witnesses cosign through the owner's API")  # fmt: skip
        story = Story(config.url, cluster.settings, cluster.people, out,
                      owner_url=config.owner_url)  # fmt: skip
        try:
            _cluster_story(story, cluster.env)
            owner_stopped(story, cluster, cluster.env)
            audit_steps(story, cluster.env, own_gateway=False)
        finally:
            story.close()
    return story.step


def _cluster_story(story: Story, env: dict[str, str]) -> None:
    story.walk_api()
    contribute_to_worker(story)
    story.contribute()
    witness_live(story, env)


def cluster_script_command(
    url: str | None,
    scale: float,
    seed: int,
    database_url: str,
    schema: str,
    workers: int,
    port: int | None,
    owner_port: int | None,
    ledger_port: int | None,
) -> None:
    """The body of ``dexin demo --script --cluster``: over ``$DEXIN_HOME`` (default
    ./.dexin-cluster), a cluster started here on the given ports (free ones by default),
    or, with ``url``, the one `dexin cluster up` runs there. Exits 1 naming the step that
    failed."""
    out = Console()
    home = Path(os.environ.get("DEXIN_HOME") or Path.cwd() / ".dexin-cluster").absolute()
    try:
        if url is not None:
            config = running_cluster(home, url, database_url)
        else:
            free = _free_ports(3)
            config = ClusterConfig(home=home, database_url=database_url, schema=schema,
                                   workers=workers, port=port or free[0],
                                   owner_port=owner_port or free[1],
                                   ledger_port=ledger_port or free[2], scale=scale, seed=seed,
                                   witness_interval=1.0, follow_witnesses=False)  # fmt: skip
        steps = run_cluster_script(out, config, url)
    except (StoryFailed, ClusterFailed) as exc:
        out.print(f"[bold red]✘ the story failed:[/] {exc}", highlight=False)
        raise SystemExit(1) from None
    out.print(f"[bold]the story holds on the cluster: {steps} steps as expected[/]")
