"""``dexin audit …``: export, verify, prove, witness, anchor (mounted by ``dexin.cli``).

Exit codes (`dexin.errors`): 1 verification failed or a witness refused (the first problem is
printed); 2 bad input (missing file, malformed key or proof); 4 the ledger is in use by
another process (``anchor``, ``register-witness``) or there is no ledger (``verify``: use
``--skip-anchors`` to verify everything else); 5 the ledger node cannot be reached.

Readers (``export``, ``verify``, ``prove``) take no lock on the log: they work while the
gateway appends, on the prefix covered by the latest checkpoint. They read the log the
gateway writes (`dexin.app.open_audit_reader`): the PostgreSQL log when
``DEXIN_AUDIT_DATABASE_URL`` is set, else ``$DEXIN_HOME/audit``. ``verify`` reads the
ledger through a read-only view, so it checks anchors while the gateway owns the chain.
Each command imports the audit package, the ledger and the control plane when it runs.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from dexin.errors import ExitCode, fail, handle_errors
from dexin.settings import Settings

if TYPE_CHECKING:
    from audit import (
        AccessPolicy,
        Cosignature,
        NoteVerifier,
        PendingCosignatures,
        Verdict,
        VerificationError,
        Witness,
    )
    from ledger import Ledger

app = typer.Typer(no_args_is_help=True, help="The audit trail: export, verify, prove, witness.")
out = Console()
err = Console(stderr=True, soft_wrap=True)

ExportOpt = Annotated[Path | None, typer.Option("--export", help="verify this export directory")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the verdict as JSON")]
LogKeyOpt = Annotated[
    str | None, typer.Option("--log-key", help="the log's pinned vkey (or a file)")
]


def _settings() -> Settings:
    return Settings.from_env()


def _log_key(value: str | None) -> NoteVerifier | None:
    from audit import NoteVerifier

    if value is None:
        return None
    path = Path(value)
    return NoteVerifier.from_vkey(path.read_text() if path.exists() else value)


@contextlib.contextmanager
def _ledger_view(settings: Settings, required: bool) -> Iterator[Ledger | None]:
    """The ledger through a read-only view (no lock taken: works while the gateway runs);
    None when there is none and it is not ``required``."""
    from dexin.app import open_ledger_view
    from ledger import DeploymentError, LedgerConfigError, LedgerError

    with contextlib.ExitStack() as stack:
        try:
            ledger = stack.enter_context(open_ledger_view(settings))
        except (LedgerConfigError, DeploymentError):
            if not required:
                yield None
                return
            raise fail(
                "there is no ledger in this data directory (try --skip-anchors)",
                ExitCode.UNAVAILABLE,
            ) from None
        except LedgerError as exc:
            raise fail(f"{exc} (try --skip-anchors)", ExitCode.LEDGER) from None
        yield ledger


@contextlib.contextmanager
def _owned_ledger(settings: Settings) -> Iterator[Ledger]:
    """The ledger for writing; exit 4 with a hint when the gateway owns it. Beside a
    cluster (a JSON-RPC node, the control plane in PostgreSQL) it signs in turn with the
    owner and the workers, under their advisory lock (`ledger_signing_shared`)."""
    from dexin.app import ledger_signing_shared, open_ledger
    from vault import VaultBusy

    try:
        with open_ledger(settings) as ledger, ledger_signing_shared(settings, ledger):
            yield ledger
    except VaultBusy:  # the hint differs from the vault's own advice: go through the gateway
        message = "the ledger is in use by another process (the gateway? use --gateway)"
        raise fail(message, ExitCode.UNAVAILABLE) from None


def _access_policy(
    settings: Settings, ledger: Ledger | None, *files: Path | None
) -> tuple[AccessPolicy | None, list[str]]:
    from sqlalchemy.exc import SQLAlchemyError

    from dexin.audit_checks import access_policy

    try:
        return access_policy(settings, ledger, *files)
    except SQLAlchemyError as exc:  # its message may hold DATABASE_URL's password: not shown
        raise fail(f"cannot read the gateway's control plane (DATABASE_URL): "
                   f"{type(exc).__name__}", ExitCode.UNAVAILABLE) from None  # fmt: skip


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, disable=not enabled, transient=False) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done)

        yield update


@app.command("export")
@handle_errors
def export_command(out_dir: Annotated[Path, typer.Option("--out", help="a new directory")]) -> None:
    """Write a self-contained export (entries, checkpoints, cosignatures, public keys)."""
    from audit import write_export
    from dexin.app import open_audit_reader

    if out_dir.exists():
        raise fail(f"{out_dir} exists already", ExitCode.BAD_INPUT)
    settings = _settings()
    with open_audit_reader(settings) as reader, _progress(sys.stderr.isatty()) as update:
        snap = reader.snapshot()
        write_export(snap, out_dir, _source(settings),
                     lambda done: update("export", done, snap.count))  # fmt: skip
    out.print(f"exported {snap.count} entries, {len(snap.checkpoints)} checkpoints, "
              f"{len(snap.bundles)} cosignature bundles to {out_dir}")  # fmt: skip


@app.command("verify")
@handle_errors
def verify_command(
    export: ExportOpt = None,
    as_json: JsonOpt = False,
    log_key: LogKeyOpt = None,
    skip_anchors: Annotated[bool, typer.Option(help="do not check anchors on the ledger")] = False,
    approvals: Annotated[Path | None, typer.Option(help="approval records (JSON list)")] = None,
    consents: Annotated[Path | None, typer.Option(help="consent records (JSON list)")] = None,
    idp_jwks: Annotated[
        Path | None,
        typer.Option(
            help="the residents' IdP's public JWKS, pinned out of band: check that "
            "every consent event was proved by the resident's sign-in there"
        ),
    ] = None,
    idp_issuer: Annotated[str | None, typer.Option(help="the IdP's issuer URL")] = None,
    idp_client: Annotated[str | None, typer.Option(help="the gateway's client id there")] = None,
) -> None:
    """Verify the log (or an export) and print a verdict; exit 1 naming the first problem.

    On the data directory, every bank's allowed score and aggregate is checked against the
    ledger's approvals and the anchored consent log (or the records given as files).
    """
    from audit import Trust, VerificationError, load_export, verify_snapshot
    from dexin.app import open_audit_reader
    from dexin.audit_checks import contribution_anchors
    from governance import LedgerAnchorer

    settings = _settings()
    trust = Trust(log_key=_log_key(log_key))
    with contextlib.ExitStack() as stack:
        if export:
            snap = load_export(export)
        else:
            snap = stack.enter_context(open_audit_reader(settings)).snapshot()
        ledger = stack.enter_context(_ledger_view(settings, required=not skip_anchors))
        anchorer = None if ledger is None or skip_anchors else LedgerAnchorer(ledger)
        update = stack.enter_context(_progress(not as_json and sys.stderr.isatty()))
        try:
            policy, notes = _access_policy(settings, ledger, approvals, consents, export)
            verdict = verify_snapshot(snap, trust, anchorer=anchorer, policy=policy,
                                      require_anchor=not skip_anchors, progress=update)  # fmt: skip
            if anchorer is not None and ledger is not None and export is None:
                notes.append(contribution_anchors(settings, ledger))
            if ledger is not None and export is None:
                notes.append(_disputes(settings, ledger))
            if export is None:
                notes.append(_consent_evidence(settings, idp_jwks, idp_issuer, idp_client))
        except VerificationError as exc:
            _print_failure(exc, as_json)
            raise typer.Exit(ExitCode.CHECK_FAILED) from None
    verdict.notes[:0] = notes
    _print_verdict(verdict, as_json)


def _source(settings: Settings) -> str:
    """Where the log is read from, for messages (never the database URL: it may hold a
    password)."""
    return "the PostgreSQL audit log" if settings.audit_database_url else str(settings.audit_dir)


def _disputes(settings: Settings, ledger: Ledger) -> str:
    """The repairs and deletions against the anchored dispute log and the providers'
    signed answers, then the disputes' deadlines (so a change missing from a log that no
    longer matches its anchors is named, not only the log)."""
    import datetime as dt

    from sqlalchemy.exc import SQLAlchemyError

    from dexin.audit_checks import dispute_changes, dispute_deadlines

    try:
        changes = dispute_changes(settings, ledger)
        return f"{dispute_deadlines(settings, ledger, dt.datetime.now(dt.UTC))}; {changes}"
    except SQLAlchemyError as exc:  # its message may hold DATABASE_URL's password: not shown
        raise fail(f"cannot read the gateway's control plane (DATABASE_URL): "
                   f"{type(exc).__name__}", ExitCode.UNAVAILABLE) from None  # fmt: skip


def _consent_evidence(
    settings: Settings, jwks: Path | None, issuer: str | None, client: str | None
) -> str:
    from dexin.audit_checks import consent_evidence

    if jwks is None:
        return ("consents' IdP evidence not checked: pin the identity provider's JWKS with "
                "--idp-jwks FILE")  # fmt: skip
    return consent_evidence(settings, jwks, issuer, client)


def _print_failure(exc: VerificationError, as_json: bool) -> None:
    if as_json:
        problem = {
            k: getattr(exc, k)
            for k in ("check", "detail", "entry", "checkpoint", "expected", "actual")
        }
        sys.stdout.write(json.dumps({"ok": False, "problem": problem}, indent=2) + "\n")
    else:
        out.print(f"[bold red]FAILED[/] {exc.describe()}", highlight=False)


def _print_verdict(verdict: Verdict, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(verdict.as_json(), indent=2) + "\n")
        return
    anchored = max(verdict.anchored, default=0)
    out.print(
        f"[bold green]OK[/] {verdict.entries} entries, root {verdict.root.hex()}", highlight=False
    )
    out.print(f"  {len(verdict.checkpoints)} checkpoints signed and consistent; "
              f"{len(verdict.cosigned)} cosigned; anchored up to size {anchored}")  # fmt: skip
    for note in verdict.notes:
        out.print(f"  note: {note}", highlight=False)


@app.command("prove")
@handle_errors
def prove_command(
    index: Annotated[int, typer.Option("--index", help="the entry's position")],
    size: Annotated[int | None, typer.Option(help="a checkpoint's size (default: latest)")] = None,
) -> None:
    """Print an inclusion proof (JSON) checkable with nothing but the signed checkpoint."""
    from audit import leaf_hash
    from dexin.app import open_audit_reader

    with open_audit_reader(_settings()) as reader:
        sizes = reader.sizes()
        chosen = size if size is not None else (sizes or [0])[-1]
        if chosen not in sizes or not 0 <= index < chosen:
            raise fail(f"no checkpoint of size {chosen} covering entry {index}", ExitCode.BAD_INPUT)
        entry = reader.entry(index, chosen)
        proof = reader.inclusion_proof(index, chosen)
        note = reader.note(chosen)
    document = {"index": index, "size": chosen, "entry": entry.decode(), "leaf_hash": leaf_hash(entry).hex(),
                "proof": [p.hex() for p in proof], "checkpoint": note}  # fmt: skip
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


@app.command("check-proof")
@handle_errors
def check_proof_command(proof_file: Path, log_key: LogKeyOpt = None) -> None:
    """Check a ``prove`` document: the checkpoint's signature and the entry's inclusion."""
    from audit import AuditError, SignedCheckpoint, leaf_hash, verify_inclusion

    doc = _proof_document(proof_file)
    signed = SignedCheckpoint.parse(doc["checkpoint"])
    key = _log_key(log_key)
    try:
        if key is not None:
            signed.verify(key)
        leaf = leaf_hash(doc["entry"].encode())
        proof = [bytes.fromhex(p) for p in doc["proof"]]
        verify_inclusion(leaf, doc["index"], signed.checkpoint.size, proof, signed.checkpoint.root)
    except AuditError as exc:  # here a bad signature or proof is a failed check, not bad input
        raise fail(f"proof does not verify: {exc}", ExitCode.CHECK_FAILED) from None
    signed_by = "signature verified" if key else "signature NOT checked (no --log-key)"
    out.print(
        f"OK entry {doc['index']} is in the log of size {signed.checkpoint.size} ({signed_by})"
    )


def _proof_document(path: Path) -> dict[str, Any]:
    """A ``prove`` document; ValueError (bad input) if it is not one."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    missing = {"index", "entry", "proof", "checkpoint"} - set(doc if isinstance(doc, dict) else ())
    if missing:
        raise ValueError(f"{path} is not a proof document (no {', '.join(sorted(missing))})")
    return dict(doc)


@app.command("witness")
@handle_errors
def witness_command(
    state: Annotated[Path, typer.Option("--state", help="this witness's state directory")],
    checkpoint: Annotated[Path | None, typer.Option(help="a signed checkpoint note")] = None,
    name: Annotated[str | None, typer.Option(help="name, when creating the witness")] = None,
    log_key: LogKeyOpt = None,
    proof: Annotated[Path | None, typer.Option(help="consistency proof (JSON list of hex)")] = None,
    submit: Annotated[bool, typer.Option(help="leave the cosignature for `anchor`")] = False,
    follow: Annotated[bool, typer.Option(help="keep witnessing a running gateway")] = False,
    gateway: Annotated[str | None, typer.Option(help="the gateway's URL (--follow)")] = None,
    client_id: Annotated[str | None, typer.Option(help="an auditor client (--follow)")] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar="DEXIN_CLIENT_SECRET", help="its secret (--follow)")
    ] = None,
    interval: Annotated[float, typer.Option(min=0.1, help="seconds between rounds")] = 10.0,
    rounds: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Cosign a checkpoint if it extends the last one this witness cosigned; else refuse.

    With --follow: poll the gateway for the checkpoint it collects cosignatures for, check it
    (pinned log key, consistency with the last one cosigned), cosign and post it; one line
    per round; Ctrl-C stops. Exit 1 on a split view.
    """
    from audit import SignedCheckpoint

    settings = _settings()
    witness = _open_witness(state, name, log_key, settings)
    if follow:
        _follow(witness, gateway, client_id, client_secret, interval, rounds)
        return
    if checkpoint is None:
        raise fail("give --checkpoint FILE, or --follow --gateway URL", ExitCode.BAD_INPUT)
    signed = SignedCheckpoint.parse(checkpoint.read_bytes())
    last = witness.last()
    old = 0 if last is None else min(last.checkpoint.size, signed.checkpoint.size)
    hashes = _proof(proof, settings, old, signed.checkpoint.size)
    cosignature = witness.cosign(signed, hashes)  # WitnessError: refused (exit 1)
    if submit:
        _submit(settings, cosignature)
    sys.stdout.write(cosignature.line() + "\n")


def _follow(witness: Witness, url: str | None, client_id: str | None, secret: str | None,
            interval: float, rounds: int | None) -> None:  # fmt: skip
    from dexin.witness_follow import follow
    from dexin_client import DexinClient

    if not (url and client_id and secret):
        message = "--follow needs --gateway, --client-id and --client-secret"
        raise fail(message, ExitCode.BAD_INPUT)
    err.print(f"witness {witness.name} following {url} every {interval:g} s (Ctrl-C stops)")
    with DexinClient(url, client_id, secret) as client:
        try:  # a WitnessError (a split view) stops following: exit 1
            follow(witness, client, interval, lambda line: out.print(line, highlight=False), rounds)
        except KeyboardInterrupt:
            err.print("stopped")


def _open_witness(
    state: Path, name: str | None, log_key: str | None, settings: Settings
) -> Witness:
    from audit import NoteVerifier, Witness

    if (state / "witness.json").exists():
        return Witness(state)
    if name is None:
        raise fail("a new witness needs --name", ExitCode.BAD_INPUT)
    key = _log_key(log_key) or NoteVerifier.from_vkey((settings.audit_dir / "log.vkey").read_text())
    witness = Witness.init(state, name, key)
    pop = base64.b64encode(witness.proof_of_possession()).decode()
    err.print(
        f"created witness {witness.public.vkey()}\nproof of possession {pop}", highlight=False
    )
    return witness


def _proof(path: Path | None, settings: Settings, old: int, new: int) -> list[bytes]:
    from dexin.app import open_audit_reader

    if path is not None:
        return [bytes.fromhex(h) for h in json.loads(path.read_text())]
    with open_audit_reader(settings) as reader:
        return reader.consistency_proof(old, new)


def _pending(settings: Settings) -> PendingCosignatures:
    from audit import PendingCosignatures

    return PendingCosignatures(settings.audit_dir / "cosignatures" / "pending")


def _submit(settings: Settings, cosignature: Cosignature) -> None:
    _pending(settings).submit(cosignature)


@app.command("anchor")
@handle_errors
def anchor_command() -> None:
    """Aggregate the submitted cosignatures of the newest checkpoint that has enough of them,
    check the aggregate and anchor it (the gateway does this itself while it runs)."""
    from audit import BundleStore, anchor_pending
    from dexin.app import open_audit_reader
    from governance import LedgerAnchorer

    settings = _settings()
    if not _pending(settings).sizes():
        raise fail("no submitted cosignatures", ExitCode.BAD_INPUT)
    store = BundleStore(settings.audit_dir / "cosignatures")
    with open_audit_reader(settings) as reader, _owned_ledger(settings) as ledger:
        result = anchor_pending(reader.history, _pending(settings), store, LedgerAnchorer(ledger))
    for name in result.rejected:
        err.print(f"set aside a bad cosignature from {name}", highlight=False)
    if result.status != "anchored":
        message = "no checkpoint has enough valid cosignatures from registered witnesses"
        raise fail(message, ExitCode.CHECK_FAILED)
    out.print(f"anchored checkpoint {result.size} with {len(result.signers)} cosignatures: "
              f"{result.reference}")  # fmt: skip


@app.command("register-witness")
@handle_errors
def register_witness_command(
    vkey: Annotated[str, typer.Option("--vkey", help="the witness's vkey")],
    pop: Annotated[str, typer.Option("--pop", help="its proof of possession (base64)")],
    threshold: Annotated[int | None, typer.Option(help="then set the witness threshold")] = None,
    gateway: Annotated[str | None, typer.Option(help="through a running gateway (URL)")] = None,
    client_id: Annotated[str | None, typer.Option(help="an admin client (--gateway)")] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar="DEXIN_CLIENT_SECRET", help="its secret (--gateway)")
    ] = None,
) -> None:
    """Add a witness's BLS key to the ledger's witness set (admin), after checking its PoP;
    with --gateway, through the running gateway (which owns the ledger)."""
    from audit import WitnessPublicKey
    from dexin_client import DexinClient, GatewayProblem
    from governance import register_witness

    key = WitnessPublicKey.from_vkey(vkey)
    if gateway is not None:
        if not (client_id and client_secret):
            message = "--gateway needs --client-id and --client-secret (an admin client)"
            raise fail(message, ExitCode.BAD_INPUT)
        body: dict[str, object] = {"witness": key.vkey(), "proof_of_possession": pop,
                                   "threshold": threshold}  # fmt: skip
        with DexinClient(gateway, client_id, client_secret) as client:
            try:
                client.register_witness(body)
            except GatewayProblem as exc:
                raise fail(f"the gateway refused: {exc}", ExitCode.CHECK_FAILED) from None
    else:
        with _owned_ledger(_settings()) as ledger:
            register_witness(ledger, key, base64.b64decode(pop))
            if threshold is not None:
                ledger.set_witness_threshold(threshold)
    out.print(f"registered {key.vkey()}")
