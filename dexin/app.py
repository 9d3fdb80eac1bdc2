"""The composition root: one `Settings` in, the running components out.

Core packages (vault, ledger, audit, credit_model, governance) never read settings or the
environment; everything they need is built here, once, and passed in. The CLI, the gateway
(`query_gateway.create_app`), the benches and the tests all build through this module:

- `open_vault`, `open_ledger`, `open_ledger_view`: the one-owner stores of a data directory;
- `open_audit_log`, `load_or_create_log_key`, `witness_dir`: where the audit trail lives;
- `open_audit_reader`: the audit log read beside its writers (the CLI's and the console's);
- `control_plane`: the control-plane database, migrated (works beside a running gateway);
- `open_services`: everything one gateway process answers with (`governance.Services`): the
  vault's owner by default; an answer worker when ``settings.serve_role`` is ``worker``
  (`check_worker`: the control plane, audit log and ledger must be shared), which reads the
  published vault snapshot and runs none of the owner's background work;
- `publish_configured`: the owner's snapshot for answer workers, when
  ``DEXIN_VAULT_SNAPSHOTS`` asks for it (after ingest and each refresh of the scores).

Where things live under ``$DEXIN_HOME`` (decided here, not in the core)::

    audit/                 the log directory (audit.log); audit/log.key its signing key (0600);
                           with DEXIN_AUDIT_DATABASE_URL the entries live in PostgreSQL
                           (audit.pg_log) and audit/ keeps log.vkey and cosignatures
    witnesses/<name>/      a witness's state and BLS key (audit.witness)
    gateway/               the control plane's SQLite file, the response-signing keys
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretBytes
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audit import (
    AuditLog,
    CheckpointHistory,
    Checkpoints,
    LogError,
    LogOptions,
    LogReader,
    NoteSigner,
    PgAuditLog,
    PgLogReader,
    PgStore,
    SignedCheckpoint,
    Snapshot,
    consistency_proof,
    inclusion_proof,
    server_identity,
    snapshot_log,
    snapshot_pg,
)
from credit_model import HouseholdScore, ScoreResult, load_spec
from dexin.keys import key_provider
from dexin.settings import GatewaySettings, Settings
from governance import (
    GATEWAY_LABEL,
    AccessIndex,
    AggregateSource,
    Approvals,
    AuditSink,
    AuditTrail,
    ConsentLog,
    ControlPlane,
    DisputeDesk,
    DisputeLog,
    Metrics,
    ModelScoreService,
    QuotaFlusher,
    RateLimiter,
    RelyingParty,
    ReplayCache,
    ScoreService,
    Sealer,
    Services,
    SigningKeys,
    VaultAggregates,
    Watched,
    advisory_lock,
    derive_keys,
    disputes,
    find_release,
    hkdf,
    load_catalogue,
    migrate,
    open_engine,
    session_factory,
    witnessing,
)
from ledger import Ledger, LedgerConfig, NodeUnavailableError, open_ledger_reader
from ledger import open_ledger as _open_ledger
from vault import (
    APP_SECRET_PREFIX,
    IngestLimits,
    Keyring,
    Registry,
    SnapshotReader,
    Vault,
    VaultBusy,
    VaultConfig,
    VaultError,
    VaultReadOnly,
    load_registry,
)

__all__ = [
    "DEFAULT_ORIGIN",
    "AuditReading",
    "Components",
    "GatewaySettings",
    "Settings",
    "WorkerMisconfigured",
    "check_worker",
    "control_plane",
    "ledger_secret",
    "load_or_create_log_key",
    "open_audit_log",
    "open_audit_reader",
    "open_ledger",
    "open_ledger_view",
    "open_services",
    "open_vault",
    "open_vault_snapshot",
    "opened_control_plane",
    "publish_configured",
    "vault_config",
    "witness_dir",
]

DEFAULT_ORIGIN = "dexin.local/audit"
log = logging.getLogger("dexin.app")


def vault_config(settings: Settings) -> VaultConfig:
    gw = settings.gateway
    return VaultConfig(
        root=settings.vault_dir, memory_limit=settings.memory_limit, as_of=settings.as_of,
        limits=IngestLimits(gw.max_rows, gw.max_columns, gw.max_expanded_bytes),
    )  # fmt: skip


@contextmanager
def open_vault(settings: Settings, registry: Registry | None = None) -> Iterator[Vault]:
    """Open this data directory's vault (the one owner process; see `vault.store`)."""
    config = vault_config(settings)
    with Vault.open(config, registry or load_registry(), key_provider(settings)) as vault:
        yield vault


@contextmanager
def open_vault_snapshot(
    settings: Settings, registry: Registry | None = None
) -> Iterator[SnapshotReader]:
    """The published read-only snapshot of this data directory's vault, for a process that
    does not own the vault (an answer worker): ``reader.vault()`` is the newest snapshot,
    reopened when the owner has published since (`vault.snapshots`); no lock is taken."""
    config = vault_config(settings)
    with SnapshotReader(config, registry or load_registry(), key_provider(settings)) as reader:
        yield reader


def ledger_secret(settings: Settings) -> bytes:
    """The secret that seals the ledger's role keys: random, kept wrapped in the keyring."""
    keyring = Keyring.load(vault_config(settings).keyring, key_provider(settings))
    return keyring.unwrap(f"{APP_SECRET_PREFIX}ledger")


def ledger_config(settings: Settings) -> LedgerConfig:
    funding = settings.ledger_funding_key_hex
    return LedgerConfig(
        data_dir=settings.ledger_dir,
        key_secret=SecretBytes(ledger_secret(settings)),
        backend=settings.ledger_backend,
        rpc_url=settings.ledger_rpc_url,
        funding_key=SecretBytes(bytes.fromhex(funding.removeprefix("0x"))) if funding else None,
        contract_address=settings.ledger_contract,
    )


@contextmanager
def open_ledger(settings: Settings) -> Iterator[Ledger]:
    """Open the configured ledger. The embedded chain lives in this process only, so like the
    vault it has one owner process at a time (`VaultBusy` names the ledger directory)."""
    config = ledger_config(settings)
    settings.ledger_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(settings.ledger_dir / ".lock", "a+", encoding="ascii") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise VaultBusy(str(settings.ledger_dir)) from None
        ledger = _open_ledger(config)
        try:
            yield ledger
        finally:
            ledger.close()


@contextmanager
def open_ledger_view(settings: Settings) -> Iterator[Ledger]:
    """A read-only view of this data directory's ledger that needs no ownership: it works
    while the gateway (or another command) owns the embedded chain, and sees each block
    as soon as the owner commits it. Writes raise LedgerReadOnlyError; a data directory
    without a ledger raises LedgerConfigError (nothing is created)."""
    ledger = open_ledger_reader(ledger_config(settings))
    try:
        yield ledger
    finally:
        ledger.close()


def witness_dir(settings: Settings, name: str) -> Path:
    return settings.home / "witnesses" / name


def load_or_create_log_key(settings: Settings, origin: str = DEFAULT_ORIGIN) -> NoteSigner:
    """The log's signing key from ``$DEXIN_HOME/audit/log.key``, created (0600) if absent."""
    path = settings.audit_dir / "log.key"
    if not path.exists():
        NoteSigner.generate(origin).save(path)
    return NoteSigner.load(path)


def open_audit_log(settings: Settings, options: LogOptions | None = None) -> AuditLog | PgAuditLog:
    """Open the audit log for writing: in PostgreSQL when ``DEXIN_AUDIT_DATABASE_URL`` is
    set (any number of worker processes), else this data directory's file log (one writer
    process). Both sign checkpoints with ``$DEXIN_HOME/audit/log.key``."""
    signer = load_or_create_log_key(settings)
    if settings.audit_database_url:
        url = settings.audit_database_url
        return PgAuditLog.open(url, signer, options, directory=settings.audit_dir)
    return AuditLog.open(settings.audit_dir, signer, options)


class AuditReading:
    """The audit log as its readers see it (no lock, beside the writers), whichever backend
    keeps it: the file log's directory or the PostgreSQL log (`open_audit_reader`)."""

    def __init__(self, reader: LogReader | PgLogReader | None, store: PgStore | None,
                 directory: Path) -> None:  # fmt: skip
        self._reader = reader  # None: the file log was never created
        self._store = store
        self._tree: Any = None  # the file log's stored tree (`LogReader.tree`), opened once
        self.directory = directory

    @property
    def exists(self) -> bool:
        """False for a file log that was never created (it holds nothing)."""
        return self._reader is not None

    def _open(self) -> LogReader | PgLogReader:
        if self._reader is None:
            raise LogError(str(self.directory))  # as `LogReader` does for a missing log
        return self._reader

    def _file_tree(self, reader: LogReader) -> Any:
        if self._tree is None:
            self._tree = reader.tree()
        return self._tree

    @property
    def history(self) -> Checkpoints:
        """Every checkpoint the log issued (an empty history for a file log never created)."""
        if self._reader is None:
            return CheckpointHistory(self.directory / "checkpoints")
        return self._reader.history

    def sizes(self) -> list[int]:
        """The sizes of the signed checkpoints, ascending."""
        return self._open().history.sizes() if self.exists else []

    def checkpoint(self, size: int) -> SignedCheckpoint:
        """The checkpoint of ``size`` (parsed, not verified); raises CheckpointError."""
        return self._open().history.load(size)

    def note(self, size: int) -> str:
        """The signed note of the checkpoint of ``size``, as stored."""
        reader = self._open()
        if isinstance(reader, LogReader):
            return reader.history.path(size).read_text()
        return reader.history.load(size).render()

    def snapshot(self) -> Snapshot:
        """The auditor's snapshot up to the latest checkpoint (`audit.verify_snapshot`)."""
        reader = self._open()
        if isinstance(reader, LogReader):
            return snapshot_log(reader)
        assert self._store is not None
        return snapshot_pg(self._store, self.directory)

    def entries(self, limit: int | None = None) -> Iterator[bytes]:
        """Every durable entry's leaf data in order, checkpointed or not yet."""
        return self._open().entries(limit) if self.exists else iter(())

    def entry(self, index: int, size: int) -> bytes:
        """Entry ``index`` of a checkpointed ``size``."""
        return self._open().entry(index, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        reader = self._open()
        if isinstance(reader, LogReader):
            path: list[bytes] = self._file_tree(reader).inclusion_proof(index, size)
            return path
        return inclusion_proof(self._leaves(reader, size), index)

    def consistency_proof(self, old: int, size: int) -> list[bytes]:
        reader = self._open()
        if isinstance(reader, LogReader):
            proof: list[bytes] = self._file_tree(reader).consistency_proof(old, size)
            return proof
        return consistency_proof(self._leaves(reader, size), old)

    @staticmethod
    def _leaves(reader: PgLogReader, size: int) -> list[bytes]:
        joined = reader.leaf_hashes(size)
        return [joined[i : i + 32] for i in range(0, len(joined), 32)]


@contextmanager
def open_audit_reader(settings: Settings) -> Iterator[AuditReading]:
    """Read the audit log without writing to it: the PostgreSQL log when
    ``DEXIN_AUDIT_DATABASE_URL`` is set (every worker's entries), else this data directory's
    file log. Raises LogUnavailableError (an AuditError) if the database cannot be read."""
    directory = settings.audit_dir
    if settings.audit_database_url:
        store = PgStore.connect(settings.audit_database_url)
        try:
            yield AuditReading(PgLogReader(store, directory), store, directory)
        finally:
            store.dispose()
    elif not (directory / "entries.log").exists():
        yield AuditReading(None, None, directory)
    else:
        with LogReader(directory) as reader:
            yield AuditReading(reader, None, directory)


def control_plane(settings: Settings, schema: str | None = None) -> ControlPlane:
    """The control plane, migrated to head; safe beside a running gateway (SQLite WAL or
    PostgreSQL), so `dexin admin` works while `dexin serve` runs."""
    engine = open_engine(settings.gateway.database_url, schema=schema)
    migrate(engine)
    return ControlPlane(session_factory(engine))


@contextmanager
def opened_control_plane(settings: Settings) -> Iterator[ControlPlane]:
    """`control_plane` for a piece of work inside a longer process (a check, a test): its
    connections are closed when the block ends."""
    control = control_plane(settings)
    try:
        yield control
    finally:
        bind = control.sessions.kw["bind"]
        bind.dispose()


@dataclass
class Components:
    """What a test (or another host) provides instead of `open_services` opening it."""

    vault: Vault
    ledger: Ledger
    audit: AuditSink | None = None
    scores: ScoreService | None = None
    aggregates: AggregateSource | None = None
    schema: str | None = None  # PostgreSQL schema (search path), for isolated test runs


@contextmanager
def open_services(
    settings: Settings, parts: Components | None = None, metrics: Metrics | None = None
) -> Iterator[Services]:
    """Everything one gateway process answers with, for as long as the block runs: the
    vault and the embedded ledger (one owner process each) unless ``parts`` provides them,
    the control plane migrated to head, the audit trail, and witnessing in the background
    (every ``DEXIN_WITNESS_INTERVAL`` seconds) when the trail is the Merkle log; all of it
    counted on ``metrics`` (a fresh `Metrics` unless given: `dexin serve` serves its own).

    With ``DEXIN_VAULT_SNAPSHOTS`` the owner publishes a vault snapshot at start and after
    each refresh of the scores. An answer worker (``settings.serve_role == "worker"``; see
    `check_worker`, raised before anything opens) reads that snapshot instead of the vault,
    refuses the vault's writes (`Services.require_vault_owner`) and runs neither the dispute
    sweep nor witnessing: the owner does."""
    metrics = metrics or Metrics()
    worker = settings.serve_role == "worker"
    if worker:
        check_worker(settings)
    with ExitStack() as stack:
        if parts is None and worker:
            parts, services = _start_worker_waiting(settings, stack, metrics)
        else:
            parts = parts or Components(
                vault=stack.enter_context(open_vault(settings)),
                ledger=stack.enter_context(open_ledger(settings)),
            )
            services = _build(settings, parts, stack, metrics)
        if worker:
            services.vault_owner = False
        elif settings.vault_snapshots:
            services.scores = _PublishingScores(services.scores, services.vault)
            _publish(services.vault)  # workers can start from what this owner serves
        if settings.gateway.dispute_sweep and not worker:  # escalate disputes past 20 days
            stack.enter_context(disputes.sweeping(services, settings.gateway.dispute_sweep))
        if isinstance(services.audit, AuditTrail) and not worker:
            services.witnessing = stack.enter_context(
                witnessing.running(
                    services.audit, parts.ledger, settings.gateway.witness_interval, metrics
                )
            )
        metrics.watch(_watched(services))
        yield services


def _one_wal(engine: Engine, log: PgAuditLog) -> bool:
    """Whether the control plane and the audit log commit to one database cluster (one
    write-ahead log): then a quota unit need not wait for its own flush
    (`ControlPlane.quota_commit_waits`). Unknown (an identity unreadable) is no."""
    here = server_identity(engine)  # None on SQLite too
    return here is not None and here == log.server()


def _signs_beside_others(settings: Settings) -> bool:
    """A JSON-RPC ledger beside a shared control plane: the owner, the workers and a
    `dexin audit anchor` run by hand (while the owner is stopped and the workers answer) all
    sign with the gateway's accounts. The embedded chain and SQLite have one process."""
    return settings.ledger_backend == "jsonrpc" and not settings.gateway.database_url.startswith(
        "sqlite"
    )


def share_ledger_signing(settings: Settings, ledger: Ledger, engine: Engine) -> None:
    """Each process that signs beside others holds the account's PostgreSQL advisory lock
    (on ``engine``'s database) from nonce to receipt, so no two pick the same nonce."""
    if _signs_beside_others(settings):
        ledger.share_signing(lambda address: advisory_lock(engine, f"ledger:{address}"))


@contextmanager
def ledger_signing_shared(settings: Settings, ledger: Ledger) -> Iterator[None]:
    """`share_ledger_signing` for a command (it has no engine of its own): one on the
    control plane while the block runs, when it signs beside others."""
    if not _signs_beside_others(settings):
        yield
        return
    engine = open_engine(settings.gateway.database_url)
    try:
        share_ledger_signing(settings, ledger, engine)
        yield
    finally:
        engine.dispose()


def _build(settings: Settings, parts: Components, stack: ExitStack, metrics: Metrics) -> Services:
    config = settings.gateway
    engine = open_engine(config.database_url, schema=parts.schema)
    stack.callback(engine.dispose)
    migrate(engine)
    sessions = session_factory(engine)
    control = ControlPlane(sessions, metrics)
    shared = sessions if control.shared else None  # workers share limits and used ids (PG)
    share_ledger_signing(settings, parts.ledger, engine)
    secret = ledger_secret(settings)  # unwrapped once: tokens and answer signatures derive from it
    audit = parts.audit or AuditTrail(open_audit_log(settings), metrics)
    if control.shared and isinstance(audit, AuditTrail) and isinstance(audit.log, PgAuditLog):
        control.quota_commit_waits = not _one_wal(engine, audit.log)
    stack.callback(audit.close)
    vault = parts.vault
    if isinstance(audit, AuditTrail):  # "who accessed me" is read from the (shared) log itself
        accesses = AccessIndex(audit.entry, audit.size)
        accesses.scan(audit.entries())
        audit.on_durable(accesses.note)
        control.reconcile_quotas(accesses.answered)  # spends a crash kept from the database
    else:
        accesses = AccessIndex(getattr(audit, "entry", _no_entries))
        entries = getattr(audit, "entries", None)
        if callable(entries):
            accesses.scan(entries())
            control.reconcile_quotas(accesses.answered)
    flusher = QuotaFlusher(control)
    stack.callback(flusher.stop)
    return Services(
        settings=config,
        engine=engine,
        control=control,
        catalogue=load_catalogue(),
        keys=derive_keys(secret),
        signer=SigningKeys(secret, settings.gateway_dir),
        audit=audit,
        scores=parts.scores or _default_scores(vault, parts.ledger),
        aggregates=parts.aggregates or VaultAggregates(vault),
        approvals=Approvals(control, parts.ledger, config.approval_threshold),
        consents=ConsentLog(sessions, parts.ledger, GATEWAY_LABEL),
        vault=vault,
        ledger=parts.ledger,
        rate_limiter=RateLimiter(config.rate_limit, config.rate_burst, shared),
        replay=ReplayCache(sessions=shared),
        accesses=accesses,
        workdir=settings.gateway_dir,
        relying_party=RelyingParty(config.oidc) if config.oidc else None,
        metrics=metrics,
        disputes=_dispute_desk(config, sessions, parts.ledger, secret),
    )


def _dispute_desk(config: GatewaySettings, sessions: sessionmaker[Session], ledger: Ledger,
                  secret: bytes) -> DisputeDesk:  # fmt: skip
    """Disputes and repairs: their log anchored by the gateway's account, their reasons and
    attachments sealed under a key derived from the application secret."""
    log = DisputeLog(sessions, ledger, GATEWAY_LABEL)
    sealer = Sealer(hkdf(secret, b"dexin.dispute-key.v1"))
    return DisputeDesk(sessions, log, sealer, config.dispute_attachment_max)


def _watched(services: Services) -> Watched:
    """What a scrape reads: the Merkle log and its anchoring (when the trail is one), the
    control plane's snapshots, the ledger's health."""
    log = services.audit.log if isinstance(services.audit, AuditTrail) else None
    return Watched(log=log, witnessing=services.witnessing, ledger=services.ledger,
                   snapshots=services.control.snapshots)  # fmt: skip


def _default_scores(vault: Vault, ledger: Ledger) -> ScoreService:
    """The credit model's default spec, naming its release on the ledger if there is one."""
    spec = load_spec(registry=vault.registry)
    service = ModelScoreService(vault, spec, find_release(ledger, spec))
    service.warm()  # read the features now, not on the first bank's request
    return service


def _no_entries(index: int) -> bytes:
    raise LookupError("this audit sink cannot read its entries back")


class WorkerMisconfigured(ValueError):
    """An answer worker (``dexin serve --worker``, ``DEXIN_SERVE_ROLE=worker``) whose control
    plane, audit log or ledger would be its own rather than shared with the vault's owner."""


def _postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql:", "postgresql+", "postgres:"))


def check_worker(settings: Settings) -> None:
    """Refuse an answer worker that would not share what the owner and the other workers
    share: the control plane and the audit log in PostgreSQL, the ledger over JSON-RPC
    (an embedded chain, a SQLite control plane or a file log belong to one process).
    Raises `WorkerMisconfigured` naming the settings to change (never their values)."""
    missing = []
    if not _postgres(settings.gateway.database_url):
        missing.append("DATABASE_URL (a postgresql:// control plane)")
    if not _postgres(settings.audit_database_url):
        missing.append("DEXIN_AUDIT_DATABASE_URL (a postgresql:// audit log)")
    if settings.ledger_backend != "jsonrpc" or not settings.ledger_rpc_url:
        missing.append("DEXIN_LEDGER=jsonrpc and DEXIN_LEDGER_RPC_URL (a shared ledger node)")
    if missing:
        raise WorkerMisconfigured(
            "an answer worker shares the control plane, the audit log and the ledger with the "
            "vault's owner; set " + "; ".join(missing)
        )


def publish_configured(settings: Settings, vault: Vault) -> int | None:
    """Publish the owner's vault snapshot for answer workers when ``DEXIN_VAULT_SNAPSHOTS``
    is on (after ingest or a refresh of the scores); returns its number, None when off."""
    if not settings.vault_snapshots:
        return None
    return vault.publish_snapshot()


def _publish(vault: Vault) -> None:
    """Publish from the gateway after a write (the write itself stands): a write from another
    thread during the copy makes it try once more; a failure is logged, and workers keep
    answering from the snapshot before until the next publish."""
    for attempt in (1, 2):
        try:
            vault.publish_snapshot()
            return
        except VaultError as exc:  # SnapshotInconsistent: a write landed during the copy
            if attempt == 2:
                log.error("vault snapshot not published (%s)", type(exc).__name__)
        except OSError as exc:
            log.error("vault snapshot not published (%s)", type(exc).__name__)
            return


class _PublishingScores:
    """The owner's `ScoreService` when snapshots are on: each refresh of the scores (after
    an ingest, a correction, a deletion or a repair, under the writers' lock) is followed
    by a published snapshot, so workers answer from what the owner just wrote."""

    def __init__(self, scores: ScoreService, vault: Vault) -> None:
        self._scores = scores
        self._vault = vault

    def score_subject(self, subject: str) -> ScoreResult | None:
        return self._scores.score_subject(subject)

    def household_of(self, subject: str) -> str | None:
        return self._scores.household_of(subject)

    def household_members(self, household: str) -> list[Any]:  # governance's HouseholdMember
        return self._scores.household_members(household)

    def score_household(self, household: str, members: Collection[str]) -> HouseholdScore | None:
        return self._scores.score_household(household, members)

    def refresh(self) -> int:
        refreshed = self._scores.refresh()
        _publish(self._vault)
        return refreshed


class _FollowingSnapshot(Vault):
    """An answer worker's vault: every attribute is the newest published snapshot's
    (`SnapshotReader.vault`), so a request that begins after the owner publishes reads the
    new one. No lock is taken; every write raises `VaultReadOnly`."""

    def __init__(self, reader: SnapshotReader) -> None:  # nothing of its own: all is the snapshot's
        object.__setattr__(self, "_reader", reader)

    def __getattribute__(self, name: str) -> Any:
        reader: SnapshotReader = object.__getattribute__(self, "_reader")
        return getattr(reader.vault(), name)

    def __setattr__(self, name: str, value: object) -> None:
        raise VaultReadOnly("changing the vault")


class _SnapshotScores:
    """An answer worker's `ScoreService`: the credit model over the newest snapshot's
    features, read into memory again when the owner has published a newer snapshot. The
    refresh is the owner's (`VaultReadOnly`)."""

    def __init__(self, reader: SnapshotReader, ledger: Ledger) -> None:
        self._reader = reader
        self._ledger = ledger
        self._lock = threading.Lock()
        self._number: int | None = None
        self._service: ScoreService | None = None
        self._current()

    def _current(self) -> ScoreService:
        snapshot = self._reader.vault()
        with self._lock:
            if self._service is None or snapshot.number != self._number:
                self._service = _default_scores(snapshot, self._ledger)
                self._number = snapshot.number
            return self._service

    def score_subject(self, subject: str) -> ScoreResult | None:
        return self._current().score_subject(subject)

    def household_of(self, subject: str) -> str | None:
        return self._current().household_of(subject)

    def household_members(self, household: str) -> list[Any]:  # governance's HouseholdMember
        return self._current().household_members(household)

    def score_household(self, household: str, members: Collection[str]) -> HouseholdScore | None:
        return self._current().score_household(household, members)

    def refresh(self) -> int:
        raise VaultReadOnly("refreshing the scores")


LEDGER_WAIT_LOG_SECONDS = 30.0


def _start_worker_waiting(
    settings: Settings, stack: ExitStack, metrics: Metrics
) -> tuple[Components, Services]:
    """An answer worker's parts and services, its whole start-up retried while the ledger node
    cannot be reached (`NodeUnavailableError` at the open or at any read that follows: the
    released model, the gateway's account, ...): a worker started during a node outage (one
    the supervisor replaces) waits instead of exiting, since uvicorn's supervisor stops the
    whole pool when a new worker fails to start. Each attempt opens into a stack of its own,
    closed before the next. The worker accepts no request until it is up; the others keep
    answering. Any other error still fails at once. Logged every `LEDGER_WAIT_LOG_SECONDS`."""
    started, logged, delay = time.monotonic(), -LEDGER_WAIT_LOG_SECONDS, 0.5
    while True:
        attempt = ExitStack()
        try:
            parts = _worker_parts(settings, attempt)
            services = _build(settings, parts, attempt, metrics)
        except NodeUnavailableError:
            attempt.close()
            waited = time.monotonic() - started
            if waited - logged >= LEDGER_WAIT_LOG_SECONDS:
                log.warning("answer worker waiting for the ledger node (DEXIN_LEDGER_RPC_URL) "
                            "to answer; %.0f s so far", waited)  # fmt: skip
                logged = waited
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        except BaseException:
            attempt.close()
            raise
        stack.enter_context(attempt)
        return parts, services


def _worker_parts(settings: Settings, stack: ExitStack) -> Components:
    """What an answer worker reads instead of owning: the published vault snapshot (no
    lock; `SnapshotMissing` if the owner has published none) and the shared ledger node
    (JSON-RPC: no directory lock either, the owner holds none of the node)."""
    reader = stack.enter_context(open_vault_snapshot(settings))
    reader.vault()  # fail at start-up, not on the first request, if none is published
    ledger = _open_ledger(ledger_config(settings))
    stack.callback(ledger.close)
    return Components(vault=_FollowingSnapshot(reader), ledger=ledger,
                      scores=_SnapshotScores(reader, ledger))  # fmt: skip
