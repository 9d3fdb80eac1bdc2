"""``dexin ledger …``: the ledger's status, anchoring what is pending, and verification.

Exit codes: `dexin.errors`. Each command imports the ledger (web3) and the vault when it runs.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from dexin.errors import ExitCode, handle_errors
from dexin.settings import Settings

app = typer.Typer(no_args_is_help=True, help="The permissioned ledger: anchors and their checks.")
out = Console()
err = Console(stderr=True, soft_wrap=True)


@app.command("status")
@handle_errors
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Backend, chain id, height, contract and the number of anchors by kind (read-only
    when another process, such as the gateway, owns the embedded chain)."""
    from dexin.app import open_ledger, open_ledger_view
    from vault import VaultBusy

    settings = Settings.from_env()
    try:
        with open_ledger(settings) as ledger:
            st = ledger.status()
    except VaultBusy:
        with open_ledger_view(settings) as ledger:
            st = ledger.status()
    data = dataclasses.asdict(st)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    out.print(
        f"backend {st.backend}, chain {st.chain_id}, height {st.height}, contract {st.contract}"
    )
    out.print("anchors: " + ", ".join(f"{k} {v}" for k, v in st.anchors.items()))


@app.command("anchor")
@handle_errors
def anchor() -> None:
    """Anchor every contribution root the vault holds but has not anchored yet."""
    from dexin.app import open_ledger, open_vault
    from governance import anchor_pending

    settings = Settings.from_env()
    with open_vault(settings) as vault, open_ledger(settings) as ledger:
        count = anchor_pending(ledger, vault)
    out.print(f"anchored {count} contribution root(s)")


@app.command("verify")
@handle_errors
def verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recompute every contribution's root from its stored rows and check its anchor, and
    every provider-signed contribution's signature against the key registered for that
    provider then.

    Exits 1 and names each contribution whose rows were altered or are missing, whose
    anchor does not bind the recomputed root and receipt, or whose provider signature does
    not verify.
    """
    from rich.progress import track

    from dexin.app import open_ledger, open_vault, opened_control_plane
    from governance import provider_keys, verify_contributions

    settings = Settings.from_env()
    with opened_control_plane(settings) as control:
        keys = provider_keys(control)
    with open_vault(settings) as vault, open_ledger(settings) as ledger:
        verdicts = verify_contributions(ledger, vault, progress=lambda xs: track(
            xs, description="verifying contributions", console=err, transient=True,
            disable=as_json), keys=keys)  # fmt: skip
    bad = [v for v in verdicts if not v.ok]
    if as_json:
        doc = {"ok": not bad, "contributions": [v.model_dump() for v in verdicts]}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        for v in bad:
            err.print(f"[bold red]MISMATCH[/] {v.provider}/{v.table} {v.contribution_id}: "
                      + "; ".join(v.problems))  # fmt: skip
        rows = sum(v.rows for v in verdicts)
        signed = sum(v.origin == "provider" for v in verdicts)
        loads = sum(v.origin == "operator" for v in verdicts)
        verdict = "FAIL" if bad else "OK"
        out.print(f"{verdict}: {len(verdicts)} contributions, {rows:,} rows checked, "
                  f"{len(bad)} mismatched; {signed} signed by their provider (signatures "
                  f"verified), {loads} loaded by the operator, "
                  f"{len(verdicts) - signed - loads} from before signatures")  # fmt: skip
    if bad:
        raise typer.Exit(ExitCode.CHECK_FAILED)
