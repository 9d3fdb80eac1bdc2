"""The ``dexin`` command line: ``dexin vault …``, ``dexin data …``, ``dexin demo``.

Exit codes are one table for every group: `dexin.errors` (the README repeats it).

Starting is cheap: this module and the groups it mounts import only typer, rich and the
settings; each command imports the vault (DuckDB), the ledger (web3), the gateway (FastAPI)
or the model when it runs, so ``dexin --help`` answers at once
(``tests/dexin/test_cli_startup.py``, ``bench/cli.py``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from dexin import (
    admin_cli,
    audit_cli,
    cluster_cli,
    ledger_cli,
    model_cli,
    officer_cli,
    provider_cli,
    rights_cli,
    serve_cli,
)
from dexin.errors import ExitCode, handle_errors
from dexin.settings import Settings
from synthetic.cli import generate_command
from vault import errors as verr

if TYPE_CHECKING:
    from rich.table import Table as RichTable

    from vault import Receipt, Vault

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Dexin (德信): data usable, never visible."
)
vault_app = typer.Typer(no_args_is_help=True, help="The encrypted vault of the 17 source tables.")
data_app = typer.Typer(no_args_is_help=True, help="Synthetic data and the data dictionary.")
app.add_typer(vault_app, name="vault")
app.add_typer(data_app, name="data")
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(model_cli.app, name="model")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(admin_cli.app, name="admin")
app.add_typer(officer_cli.app, name="officer")
app.add_typer(rights_cli.app, name="rights")
app.add_typer(provider_cli.app, name="provider")
app.add_typer(cluster_cli.app, name="cluster")
app.command("serve")(serve_cli.serve)

out = Console()
err = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    return Settings.from_env()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@vault_app.command("init")
@handle_errors
def vault_init() -> None:
    """Create the vault: data keys per provider, wrapped by the master key."""
    from dexin.app import vault_config
    from dexin.keys import ensure_master_key
    from vault import Vault, load_registry

    settings = _settings()
    provider, created = ensure_master_key(settings)
    Vault.init(vault_config(settings), load_registry(), provider)
    out.print(f"vault created at {settings.vault_dir}")
    if created:
        out.print(
            f"master key file created: {created} (mode 0600). Keep it apart from backups of "
            f"{settings.home}: whoever holds both can read the vault."
        )
    else:
        out.print(f"master key from {settings.key_source}")


@vault_app.command("status")
@handle_errors
def vault_status_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Providers, key versions, contributions and rows."""
    from rich.table import Table as RichTable

    from dexin.app import open_vault
    from vault import vault_status

    with open_vault(_settings()) as v:
        status = vault_status(v)
    if as_json:
        _print_json(status.model_dump(mode="json"))
        return
    t = RichTable(title=f"vault {status.root}  (master key {status.master_key_id})")
    for col in ("provider", "key", "contributions", "rows", "bytes"):
        t.add_column(col, justify="left" if col == "provider" else "right")
    for p in status.providers:
        t.add_row(
            p.provider,
            f"v{p.key_version}",
            str(p.contributions),
            f"{sum(p.rows.values()):,}",
            f"{p.file_bytes:,}",
        )
    out.print(t)
    out.print(
        f"total rows {status.total_rows:,}; excluded by the 5-year rule "
        f"{status.excluded_by_retention:,} (conduct ended before {status.retention_cutoff})"
    )


@vault_app.command("rotate-key")
@handle_errors
def vault_rotate_key(
    provider: Annotated[
        str | None, typer.Option(help="Rotate only this provider's data key.")
    ] = None,
    master: Annotated[
        bool, typer.Option("--master", help="Also re-wrap every key under a new master key.")
    ] = False,
) -> None:
    """Re-encrypt provider databases under new data keys; no row is lost, the old keys open nothing."""
    from dexin.app import open_vault
    from dexin.keys import rotate_master_key
    from vault import rotate_derived_key, rotate_provider_key

    settings = _settings()
    with open_vault(settings) as v:
        targets = [provider] if provider else [p.id for p in v.registry.providers]
        for p in targets:
            version = rotate_provider_key(v, p)
            out.print(f"{p}: data key v{version}")
        if not provider:
            out.print(f"derived tables: data key v{rotate_derived_key(v)}")
        if master:
            new = rotate_master_key(settings, v.keyring)
            out.print(f"master key rotated (new id {new.key_id}) in {settings.master_key_file}")


def _receipt_row(t: RichTable, r: Receipt) -> None:
    note = "already loaded" if r.already_loaded else r.status
    t.add_row(
        r.provider,
        r.table,
        f"{r.submitted:,}",
        f"{r.accepted:,}",
        f"{r.rejected:,}",
        r.merkle_root[:16] + "…",
        note,
    )


def _receipts_table(receipts: list[Receipt]) -> RichTable:
    from rich.table import Table as RichTable

    t = RichTable(title="contributions")
    for col in ("provider", "table", "submitted", "accepted", "rejected", "merkle root", "status"):
        t.add_column(col)
    for r in receipts:
        _receipt_row(t, r)
    return t


@vault_app.command("ingest")
@handle_errors
def vault_ingest(
    path: Annotated[
        Path, typer.Argument(help="A contribution file, or a directory DIR/<provider>/<table>.csv")
    ],
    provider: Annotated[
        str | None, typer.Option(help="The contributing provider (for a file).")
    ] = None,
    table: Annotated[str | None, typer.Option(help="The table (for a file).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the receipt(s) as JSON.")] = False,
) -> None:
    """Validate, pseudonymise and load contributions, anchor their roots on the ledger, and
    print the receipts (rejected rows go to a report file)."""
    from dexin import demo as demo_mod
    from dexin.app import open_vault, publish_configured

    if not path.is_dir() and (not provider or not table):
        raise verr.InputFileError(str(path), "a single file needs --provider and --table")
    settings = _settings()
    with open_vault(settings) as v:
        if path.is_dir():
            results = demo_mod.ingest_with_progress(v, path, quiet=as_json)
        else:
            results = [_ingest_one(v, provider or "", table or "", path)]
        results = demo_mod.anchor_results(settings, v, results)
        refreshed = demo_mod.refresh_after_ingest(settings, v, results)
        published = publish_configured(settings, v) if refreshed is not None else None
    _report(results, as_json, single=not path.is_dir())
    if refreshed is not None and not as_json:
        out.print(f"features and scores refreshed for {refreshed:,} residents")
    if published is not None and not as_json:
        out.print(f"vault snapshot {published} published for answer workers")


def _ingest_one(
    v: Vault, provider: str, table: str, path: Path
) -> Receipt | verr.ContributionRefused:
    from vault import ingest_file

    try:
        return ingest_file(v, provider, table, path)
    except verr.ContributionRefused as exc:
        return exc


def _report(results: list[Receipt | verr.ContributionRefused], as_json: bool, single: bool) -> None:
    from vault import Receipt

    receipts = [r if isinstance(r, Receipt) else r.receipt for r in results]
    shown = [r for r in receipts if isinstance(r, Receipt)]
    if as_json:
        data = [r.model_dump(mode="json") for r in shown]
        _print_json(data[0] if single and data else data)
    else:
        out.print(_receipts_table(shown))
        for r in shown:
            if r.report:
                out.print(f"rejected rows of {r.provider}/{r.table}: {r.report}")
    refused = [r for r in results if isinstance(r, verr.ContributionRefused)]
    for exc in refused:
        err.print(f"[bold red]refused:[/] {exc}", highlight=False)
    if refused:
        raise typer.Exit(ExitCode.BAD_INPUT)


@vault_app.command("purge-expired")
@handle_errors
def vault_purge(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Physically remove negative rows past the 5-year rule, keeping a purge record."""
    from dexin.app import open_vault
    from vault import purge_expired

    with open_vault(_settings()) as v:
        records = purge_expired(v)
    if as_json:
        _print_json([r.model_dump(mode="json") for r in records])
        return
    total = sum(r.rows for r in records)
    out.print(f"purged {total:,} expired rows from {len(records)} contributions")


@vault_app.command("prove")
@handle_errors
def vault_prove(
    contribution: Annotated[str, typer.Option(help="The contribution id from the receipt.")],
    row: Annotated[int, typer.Option(help="The accepted row's leaf index (0-based).")],
) -> None:
    """Print and check the inclusion proof of one stored row in its contribution's Merkle root."""
    from dexin.app import open_vault
    from vault import prove_row

    with open_vault(_settings()) as v:
        proof = prove_row(v, contribution, row)
    proof.verify()
    _print_json(proof.model_dump(mode="json"))


data_app.command("generate")(generate_command)


@data_app.command("dictionary")
def data_dictionary(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of stdout.")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Fail if --out differs from the registry.")
    ] = False,
) -> None:
    """Generate docs/data-dictionary.md from the schema registry."""
    from dexin.dictionary import render
    from vault import load_registry

    text = render(load_registry())
    if out_file is None:
        sys.stdout.write(text)
    elif check:
        if not out_file.exists() or out_file.read_text(encoding="utf-8") != text:
            err.print(f"{out_file} is out of date: run `dexin data dictionary --out {out_file}`")
            raise typer.Exit(ExitCode.CHECK_FAILED)
    else:
        out_file.write_text(text, encoding="utf-8")


@app.command("demo")
@handle_errors
def demo(
    scale: Annotated[float, typer.Option(help="Size of the synthetic Yuyao.")] = 0.01,
    seed: Annotated[int, typer.Option()] = 1,
    script: Annotated[
        bool, typer.Option("--script", help="Walk the whole story through the API, step by step.")
    ] = False,
    url: Annotated[
        str | None, typer.Option(help="With --script: a running gateway (default: start one).")
    ] = None,
    host: Annotated[
        str, typer.Option(help="Where to serve the gateway and console.")
    ] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Port to serve on (default DEXIN_DEMO_PORT, else 8000; with --script: a free "
            "one). A port in use is refused before anything is built.",
        ),
    ] = None,
    totp: Annotated[
        str | None,
        typer.Option(help="Print a demo officer's or auditor's current TOTP code and stop."),
    ] = None,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="With --script: on a local cluster (`dexin cluster up`'s topology), started "
            "here over $DEXIN_HOME (default ./.dexin-cluster), or the one running at --url; "
            "--port is then the answer workers' port.",
        ),
    ] = False,
    owner_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="With --cluster: the vault owner's port.")
    ] = None,
    ledger_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="With --cluster: anvil's port.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="With --cluster: workers.")] = 3,
    database_url: Annotated[
        str, typer.Option(envvar="DEXIN_CLUSTER_DATABASE_URL", help="With --cluster: PostgreSQL.")
    ] = cluster_cli.DEFAULT_DATABASE,
    schema: Annotated[str, typer.Option(help="With --cluster: its schema.")] = "dexin_cluster",
) -> None:
    """Build a synthetic Yuyao, ingest and anchor it, release the model, create demo identities,
    then serve the gateway and console; or, with --script, walk the story and check each step."""
    if totp is not None:
        from dexin import demo as demo_totp

        sys.stdout.write(demo_totp.totp_code(_settings(), totp) + "\n")
        return
    if cluster and not script:
        from dexin.errors import fail

        raise fail("--cluster goes with --script (the cluster alone: `dexin cluster up`)",
                   ExitCode.BAD_INPUT)  # fmt: skip
    if script:
        from dexin.demo_script import script_command
        from dexin.errors import fail

        if url is not None and port is not None:
            raise fail("give --url (a running gateway) or --port (a fresh one), not both",
                       ExitCode.BAD_INPUT)  # fmt: skip
        if cluster:
            from dexin.demo_script import cluster_script_command

            cluster_script_command(url, scale, seed, database_url, schema, workers, port,
                                   owner_port, ledger_port)  # fmt: skip
            return
        script_command(url=url, scale=scale, seed=seed, port=port)
        return
    from dexin import demo as demo_mod

    demo_mod.run(_settings(), scale=scale, seed=seed, console=out, host=host, port=port)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
