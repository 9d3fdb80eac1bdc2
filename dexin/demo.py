"""`make demo`: the whole story on one command.

A synthetic Yuyao is generated, ingested into the encrypted vault and anchored; the model is
released on the ledger and everyone is scored; demo identities are created (a bank client,
officers, residents with a login at the identity provider, an auditor, a witness registered on
the ledger), printed and written to ``$DEXIN_HOME/demo-identities.json`` (0600); then the
residents' identity provider (the local `oidc-provider`, `dexin.demo_idp`) is started and the
gateway and its console are served on 127.0.0.1 (``--port``, ``make demo PORT=…``, else
``DEXIN_DEMO_PORT``, default 8000) as its relying party until interrupted; the IdP stops with it.
A port already in use is refused before anything is built (`PortInUse`, naming the option).

While the gateway runs, the demo's witnesses follow it: one ``dexin audit witness --follow``
child process per witness kept under ``$DEXIN_HOME/witnesses`` and registered on the ledger
(the demo's own, and the second one ``dexin demo --script`` registers), each with the auditor's
client, every `FOLLOW_INTERVAL` seconds; the gateway's witnessing round runs at least every
`DEMO_WITNESS_INTERVAL` seconds. So a checkpoint is cosigned up to the ledger's threshold and
anchored within a minute of an entry; the followers stop with the gateway. Their lines go to
``$DEXIN_HOME/witnesses/NAME/follow.log``, not to the demo's console.

It is re-runnable: data already generated for the same scale and seed is reused, files already
ingested are recognised by their SHA-256 and not loaded twice, the release is idempotent and
the identities file is reused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from audit import Witness
from credit_model import ReleaseMismatchError, load_spec
from dexin import demo_identities, demo_idp
from dexin.app import open_ledger, open_vault, vault_config
from dexin.keys import ensure_master_key
from dexin.settings import Settings
from governance import anchor_receipt, find_release, register_witness, release_spec, score_all
from vault import (
    ContributionRefused,
    Receipt,
    Vault,
    contribution_files,
    ingest_directory,
    load_registry,
)

DEFAULT_PORT = 8000
DEMO_WITNESS_INTERVAL = 10.0  # the gateway's witnessing round, at most (seconds)
FOLLOW_INTERVAL = 5.0  # each witness follower's round (seconds)
FOLLOWER_STOP_SECONDS = 10.0


class PortInUse(ValueError):
    """The port the demo would serve on is taken (exit code 2, before anything is built)."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is already in use")
        self.advice = (
            f"choose another port: `make demo PORT={port + 100}` or "
            f"`dexin demo --port {port + 100}` (or stop what listens on {port})"
        )


def check_port(host: str, port: int) -> None:
    """Raise PortInUse unless ``host:port`` can be bound now (as uvicorn binds it: with
    SO_REUSEADDR, so a port left in TIME_WAIT by a previous run counts as free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            raise PortInUse(host, port) from None


def demo_port(port: int | None) -> int:
    """The port asked for, else ``DEXIN_DEMO_PORT``, else 8000."""
    return port or int(os.environ.get("DEXIN_DEMO_PORT", str(DEFAULT_PORT)))


def ingest_with_progress(
    vault: Vault, root: Path, quiet: bool = False
) -> list[Receipt | ContributionRefused]:
    """`ingest_directory` with a progress bar (one step per contribution file)."""
    total = len(contribution_files(root))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=quiet, transient=True) as progress:
        task = progress.add_task("ingest", total=total)

        done = itertools.count()  # called from the ingest's worker threads

        def on_file(provider: str, table: str, _: Path) -> None:
            progress.update(task, description=f"ingest {provider}/{table}", completed=next(done))

        results = ingest_directory(vault, root, on_file=on_file)
        progress.update(task, completed=total)
    return results


def anchor_results(
    settings: Settings, vault: Vault, results: list[Receipt | ContributionRefused]
) -> list[Receipt | ContributionRefused]:
    """Anchor every accepted receipt's root on the ledger; receipts come back with `anchor` set.

    A ledger that cannot be reached leaves the contributions stored but unanchored (their
    receipts say so); `dexin ledger anchor` anchors them later.
    """
    with open_ledger(settings) as ledger:
        out: list[Receipt | ContributionRefused] = []
        for r in results:
            if isinstance(r, Receipt) and r.anchor is None:
                r = r.model_copy(update={"anchor": anchor_receipt(ledger, vault, r)})
            out.append(r)
    return out


def refresh_after_ingest(
    settings: Settings, vault: Vault, results: list[Receipt | ContributionRefused]
) -> int | None:
    """Score the whole population again when an ingest added rows, so a single score needs
    no scan and sees the new data, and the population's scores stay in step with the
    features; names the ledger's release of the spec (none if the spec on disk is not the
    released one). Returns how many residents have features, or None when nothing new was
    loaded."""
    if not any(isinstance(r, Receipt) and r.accepted and not r.already_loaded for r in results):
        return None
    spec = load_spec(registry=vault.registry)
    with open_ledger(settings) as ledger:
        try:
            release = find_release(ledger, spec)
        except ReleaseMismatchError:
            release = None
    now = dt.datetime.now(dt.UTC)
    return score_all(vault, spec, computed_at=now, release=release).subjects


def _generate_once(settings: Settings, scale: float, seed: int, console: Console) -> Path:
    data = _data_dir(settings, scale, seed)
    summary = data / "_truth" / "summary.json"
    if summary.exists():
        console.print(f"synthetic Yuyao already generated in {data}")
        return data
    from synthetic.cli import generate_command

    generate_command(scale=scale, seed=seed, out=data, format="csv")
    return data


def _ensure_vault(settings: Settings, console: Console) -> None:
    provider, created = ensure_master_key(settings)
    if created:
        console.print(f"master key file created: {created} (mode 0600)")
    config = vault_config(settings)
    if not config.keyring.exists():
        Vault.init(config, load_registry(), provider)
        console.print(f"vault created at {config.root}")


def summary_table(receipts: list[Receipt]) -> RichTable:
    t = RichTable(title="synthetic Yuyao in the encrypted vault")
    for col in ("provider", "table", "accepted", "rejected", "merkle root", "anchored"):
        t.add_column(col, justify="right" if col in ("accepted", "rejected") else "left")
    for r in receipts:
        anchored = r.anchor.split(" tx ")[0] if r.anchor else "—"
        t.add_row(r.provider, r.table, f"{r.accepted:,}", f"{r.rejected:,}",
                  r.merkle_root[:16] + "…", anchored)  # fmt: skip
    t.add_row(
        "",
        "total",
        f"{sum(r.accepted for r in receipts):,}",
        f"{sum(r.rejected for r in receipts):,}",
        "",
        style="bold",
    )
    return t


def run(
    settings: Settings,
    scale: float,
    seed: int,
    console: Console,
    *,
    serve: bool = True,
    host: str = "127.0.0.1",
    port: int | None = None,
) -> list[Receipt]:
    """Build, anchor, release, score, make identities; then serve unless ``serve`` is False.
    Raises PortInUse first, before building, when ``serve`` and the port is taken."""
    port = demo_port(port)
    if serve:
        check_port(host, port)
    shown = build(settings, scale, seed, console)
    people = prepare_story(settings, _data_dir(settings, scale, seed), console)
    url = f"http://{host}:{port}"
    if not serve:
        return shown
    states = registered_witnesses(settings)  # before the gateway owns the ledger
    with demo_idp.running_idp(settings, people, url) as idp:
        console.print(f"residents' identity provider (oidc-provider) at {idp.issuer}")
        for line in demo_identities.how_to_log_in(people, url):
            console.print(line, highlight=False, soft_wrap=True)
        console.print(
            "officers vote with a passkey of their own: an admin's one-time link "
            "(dexin admin invite-officer NAME) opens the console's enrolment page, "
            "where the browser registers it (or dexin officer enrol --invite URL "
            "--key-out FILE for an officer-held key)",
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"identities written to {demo_identities.identities_path(settings)} "
                      "(mode 0600)")  # fmt: skip
        oidc = demo_idp.oidc_settings(idp, people, url)
        interval = min(settings.gateway.witness_interval, DEMO_WITNESS_INTERVAL)
        gateway = dataclasses.replace(settings.gateway, oidc=oidc, witness_interval=interval)
        served = dataclasses.replace(settings, gateway=gateway)
        with witness_followers(settings, people, url, states, console):
            serve_gateway(served, host, port, console)
    return shown


def totp_code(settings: Settings, username: str) -> str:
    """The current TOTP code of a demo officer, auditor or provider staff (``dexin demo --totp NAME``), from
    the identities file. Raises ValueError when there is no such demo account."""
    import pyotp

    people = demo_identities.load(settings) or {}
    accounts = [*people.get("officers", []), people.get("auditor") or {},
                people.get("provider_staff") or {}]  # fmt: skip
    found = [a["totp_secret"] for a in accounts if a.get("username") == username]
    if not found:
        raise ValueError(f"no demo officer or auditor named {username} (run `make demo` first)")
    return str(pyotp.TOTP(found[0]).now())


def registered_witnesses(settings: Settings) -> list[Path]:
    """State directories of the witnesses kept in this data directory whose keys are on the
    ledger's witness set (sorted by name). Opens the ledger: call it before serving."""
    root = settings.home / "witnesses"
    states = sorted(p.parent for p in root.glob("*/witness.json"))
    with open_ledger(settings) as ledger:
        keys = set(ledger.witness_set().public_keys)
    return [s for s in states if Witness(s).public.public_key in keys]


@contextmanager
def witness_followers(
    settings: Settings, people: dict[str, Any], url: str, states: list[Path], console: Console,
    interval: float = FOLLOW_INTERVAL,
) -> Iterator[list[subprocess.Popen[bytes]]]:  # fmt: skip
    """``dexin audit witness --follow`` for each witness state in ``states`` (see
    `registered_witnesses`), with the auditor's client, as child processes (their own
    session: a Ctrl-C at the terminal reaches the gateway only; they are stopped here, with
    SIGINT, when the block ends). They retry until the gateway answers."""
    auditor = people["auditor"]
    env = os.environ | {"DEXIN_HOME": str(settings.home),
                        "DEXIN_CLIENT_SECRET": auditor["client_secret"]}  # fmt: skip
    exe = Path(sys.executable).parent / "dexin"
    with ExitStack() as stack:
        procs = []
        for state in states:
            logfile = stack.enter_context((state / "follow.log").open("ab"))
            command = [str(exe), "audit", "witness", "--state", str(state), "--follow",
                       "--gateway", url, "--client-id", auditor["client_id"],
                       "--interval", f"{interval:g}"]  # fmt: skip
            procs.append(subprocess.Popen(command, env=env, stdout=logfile, stderr=logfile,
                                          stdin=subprocess.DEVNULL, start_new_session=True))  # fmt: skip
            stack.callback(_stop_follower, procs[-1])
        names = ", ".join(Witness(s).name for s in states) or "none"
        console.print(f"witnesses following the gateway every {interval:g} s: {names} "
                      f"(logs: {settings.home / 'witnesses'}/NAME/follow.log)")  # fmt: skip
        yield procs


def _stop_follower(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # the follower says "stopped" and exits 0
        try:
            proc.wait(timeout=FOLLOWER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _data_dir(settings: Settings, scale: float, seed: int) -> Path:
    return settings.home / "demo-data" / f"scale-{scale:g}-seed-{seed}"


def prepare_story(settings: Settings, data: Path, console: Console) -> dict[str, Any]:
    """Release the model, score everyone, make the identities, register the witness."""
    with open_ledger(settings) as ledger, open_vault(settings) as vault:
        spec = load_spec(registry=vault.registry)
        release = release_spec(ledger, spec)
        summary = score_all(vault, spec, computed_at=dt.datetime.now(dt.UTC), release=release)
        console.print(f"released {spec.ref} (block {release.block_number}); scored "
                      f"{summary.scored:,} of {summary.subjects:,} residents")  # fmt: skip
        people = demo_identities.load(settings)
        if people is None:
            subjects = demo_identities.scored_residents(vault, spec, data, demo_identities.SUBJECTS)
            people = demo_identities.create(settings, subjects)
        if demo_idp.ensure_residents(people):  # an identities file from before the IdP
            demo_identities.write(settings, people)
        witness = Witness(Path(people["witness"]["state"]))
        if witness.public.public_key not in ledger.witness_set().public_keys:
            register_witness(ledger, witness.public, witness.proof_of_possession())
    return people


def serve_gateway(settings: Settings, host: str, port: int, console: Console) -> None:
    """The gateway and its console until interrupted (it owns the vault and the ledger)."""
    import uvicorn
    from query_gateway import create_app

    console.print(f"serving the gateway and console on http://{host}:{port} (Ctrl-C stops)")
    uvicorn.run(create_app(settings), host=host, port=port, loop="uvloop", http="httptools",
                log_level="warning", access_log=False, server_header=False)  # fmt: skip


def build(settings: Settings, scale: float, seed: int, console: Console) -> list[Receipt]:
    """Generate, ingest and anchor a synthetic Yuyao; print the summary."""
    data = _generate_once(settings, scale, seed, console)
    _ensure_vault(settings, console)
    with open_vault(settings) as vault:
        results = anchor_results(settings, vault, ingest_with_progress(vault, data))
    receipts = [r if isinstance(r, Receipt) else r.receipt for r in results]
    shown = [r for r in receipts if isinstance(r, Receipt)]
    console.print(summary_table(shown))
    truth = json.loads((data / "_truth" / "summary.json").read_text())
    console.print(
        f"data directory {settings.home}; generator summary: scale {truth.get('scale')}, "
        f"seed {truth.get('seed')}"
    )
    return shown
