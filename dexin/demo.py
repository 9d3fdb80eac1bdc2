"""`make demo` at this stage: a synthetic Yuyao, ingested into the encrypted vault, summarised.

It is re-runnable: data already generated for the same scale and seed is reused, and files
already ingested are recognised by their SHA-256 and not loaded twice.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from dexin.anchoring import anchor_receipt
from dexin.app import open_ledger, open_vault, vault_config
from dexin.keys import ensure_master_key
from dexin.settings import Settings
from vault.errors import ContributionRefused
from vault.ingest import Receipt, contribution_files, ingest_directory
from vault.registry import load_registry
from vault.store import Vault


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


def _generate_once(settings: Settings, scale: float, seed: int, console: Console) -> Path:
    data = settings.home / "demo-data" / f"scale-{scale:g}-seed-{seed}"
    summary = data / "_truth" / "summary.json"
    if summary.exists():
        console.print(f"synthetic Yuyao already generated in {data}")
        return data
    from dexin.synthetic.cli import generate_command

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


def run(settings: Settings, scale: float, seed: int, console: Console) -> list[Receipt]:
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
