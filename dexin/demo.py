"""`make demo`: the whole story on one command.

A synthetic Yuyao is generated, ingested into the encrypted vault and anchored; the model is
released on the ledger and everyone is scored; demo identities are created (a bank client,
officers, residents with a login at the identity provider, an auditor, a witness registered on
the ledger), printed and written to ``$DEXIN_HOME/demo-identities.json`` (0600); then the
residents' identity provider (the local `oidc-provider`, `dexin.demo_idp`) is started and the
gateway and its console are served on 127.0.0.1 (port ``DEXIN_DEMO_PORT``, default 8000) as
its relying party until interrupted; the IdP stops with it.

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
    """Build, anchor, release, score, make identities; then serve unless ``serve`` is False."""
    shown = build(settings, scale, seed, console)
    people = prepare_story(settings, _data_dir(settings, scale, seed), console)
    port = port or int(os.environ.get("DEXIN_DEMO_PORT", "8000"))
    url = f"http://{host}:{port}"
    if not serve:
        return shown
    with demo_idp.running_idp(settings, people, url) as idp:
        console.print(f"residents' identity provider (oidc-provider) at {idp.issuer}")
        for line in demo_identities.how_to_log_in(people, url):
            console.print(line, highlight=False, soft_wrap=True)
        console.print(f"identities written to {demo_identities.identities_path(settings)} "
                      "(mode 0600)")  # fmt: skip
        oidc = demo_idp.oidc_settings(idp, people, url)
        served = dataclasses.replace(
            settings, gateway=dataclasses.replace(settings.gateway, oidc=oidc)
        )
        serve_gateway(served, host, port, console)
    return shown


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
