"""Ingest of contributions: validate every row, pseudonymise, digest, load atomically.

A contribution is one file of one provider for one table. Its rows are staged as text,
checked against the registry (`vault.validation`), pseudonymised (`vault.pseudonym`),
digested (`vault.digest`) and loaded in one transaction on the provider's database, together
with their digests (the Merkle leaves) and the contribution record: all accepted rows or nothing, also when
the process dies midway. The same file twice is recognised by its SHA-256 and not loaded
again. Every rejected row is reported with its row number, column and reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from audit import merkle
from vault import staging
from vault.digest import sql_row_digest
from vault.engine import Connection
from vault.errors import ContributionRefused, InputFileError, RowNotFound
from vault.limits import IngestLimits
from vault.probe import Probe, check_decoded, probe
from vault.prohibited import prohibited_category
from vault.pseudonym import hmac_pads, sql_pseudonym
from vault.registry import Column, Table
from vault.rows import RowRef, find_row, record_change, remove_row
from vault.source import ContributionSource, as_source
from vault.store import PSEUDONYM_KEY, Vault, alias
from vault.validation import message, row_is_bad_sql, row_problems_sql, value_is_bad_sql


class Receipt(BaseModel):
    """What a provider gets back for a contribution (and what the ledger anchors)."""

    model_config = ConfigDict(frozen=True)

    contribution_id: str
    provider: str
    table: str
    file_name: str
    file_sha256: str
    format: Literal["csv", "parquet"]
    submitted: int
    accepted: int
    rejected: int
    status: Literal["accepted", "refused"]
    refusal: str | None
    merkle_root: str
    schema_digest: str
    received_at: str  # ISO 8601, UTC, exactly as recorded (it is part of the anchored document)
    report: str | None
    already_loaded: bool = False
    anchor: str | None = None  # where the root is anchored on the ledger, once it is
    # "provider": submitted with the provider's signed statement (``attestation``: the JSON
    # the caller verified and the vault keeps); "operator": an operator-side load (`dexin
    # vault ingest`); None: recorded before contributions were signed (issue 17)
    origin: Literal["provider", "operator"] | None = None
    attestation: str | None = None


@dataclass(frozen=True)
class Attestation:
    """A provider's signed statement about its contribution, verified by the caller before
    the ingest: ``rows``, the data rows it states (a file with another count is refused as a
    whole); ``document``, the JSON the vault keeps verbatim with the record (statement,
    signature, key id), in the same transaction as the rows."""

    rows: int
    document: str


@dataclass(frozen=True)
class Supersession:
    """A correcting contribution: it restates the stored row ``ref`` (same record key, same
    subject, one row), which it replaces in its own transaction; ``reference`` names the
    dispute it answers (`vault.rows`)."""

    ref: RowRef
    reference: str


def contribution_id(provider: str, table: str, sha256: str) -> str:
    return "c" + hashlib.sha256(f"{provider}|{table}|{sha256}".encode()).hexdigest()[:23]


def _header_refusal(table: Table, header: list[str]) -> tuple[str, str] | None:
    """(reason, column) when the header alone makes the contribution unacceptable."""
    declared = {c.name for c in table.columns}
    for name in header:
        category = prohibited_category(name)
        if category:
            return f"column {name!r} is a prohibited category ({category})", name
    for name in header:
        if name not in declared:
            return f"column {name!r} is not declared for table {table.name}", name
    if len(set(header)) != len(header):
        dup = next(n for n in header if header.count(n) > 1)
        return f"column {dup!r} appears twice", dup
    for c in table.columns:
        if c.name not in header:
            return f"declared column {c.name!r} is missing", c.name
    return None


def stored_expr(c: Column) -> str:
    """A raw text column as stored: typed, an identifier pseudonymised (``$ipad``/``$opad``)."""
    v = f'"{c.name}"'
    if c.type in ("id_number", "pseudonym"):
        return sql_pseudonym(v, c.stored_name, "$ipad", "$opad")
    if c.type == "boolean":
        return f"({v} = 'true')"
    return f"CAST({v} AS {c.sql_type})"


class _Run:
    """The temporary tables of one ingest, named uniquely and dropped at the end.

    ``_stage`` (raw text, numbered rows) → ``_valid`` (rows that pass every check, already
    typed and pseudonymised, with their digests) → ``_dups`` (valid rows whose key repeats an
    earlier row or a stored record) → the accepted rows, numbered 0.. as Merkle leaves.
    """

    def __init__(
        self, vault: Vault, con: Connection, table: Table, cid: str,
        supersedes: Supersession | None = None,
    ) -> None:  # fmt: skip
        self.vault = vault
        self.con = con
        self.table = table
        self.cid = cid
        self.p = f"t_{cid}"
        self.accepted_sql = ""
        self.invalid = 0
        self.supersedes = supersedes

    def sql(self, text: str, params: Any = None) -> Any:
        return self.con.execute(text.replace("{p}", self.p), params or [])

    def one(self, text: str, params: Any = None) -> Any:
        return self.sql(text, params).fetchone()[0]

    def _identifier_maps(self) -> list[tuple[Column, str]]:
        """Per pseudonymised column, a table of its distinct values with their pseudonym and
        whether the value is bad: identifiers repeat across rows, their checks are costly."""
        ipad, opad = hmac_pads(self.vault.keyring.unwrap(PSEUDONYM_KEY))
        maps = []
        for i, c in enumerate(c for c in self.table.columns if c.stored_name != c.name):
            name, v = f"{self.p}_map{i}", f'"{c.name}"'
            bad = value_is_bad_sql(self.table, c, self.vault.as_of)
            self.sql(
                f"CREATE TEMP TABLE {name} AS SELECT {v}, "
                f"{sql_pseudonym(v, c.stored_name, '$ipad', '$opad')} AS __pseudonym, {bad} AS __bad "
                f"FROM (SELECT DISTINCT {v} FROM {{p}}_stage WHERE {v} IS NOT NULL)",
                {"ipad": ipad, "opad": opad},
            )
            maps.append((c, name))
        return maps

    def validate(self, target: str) -> None:
        """Split rows into valid ones (typed, pseudonymised, digested) and duplicates."""
        maps = self._identifier_maps()
        deferred = frozenset(c.name for c, _ in maps)
        bad = " OR ".join(
            [
                f"({row_is_bad_sql(self.table, self.vault.as_of, deferred)})",
                *(f"coalesce({m}.__bad, FALSE)" for _, m in maps),
            ]
        )
        joins = " ".join(f'LEFT JOIN {m} USING ("{c.name}")' for c, m in maps)
        pseudonyms = {c.name: f"{m}.__pseudonym" for c, m in maps}
        cols = ", ".join(
            f'{pseudonyms.get(c.name) or stored_expr(c)} AS "{c.stored_name}"'
            for c in self.table.columns
        )
        self.sql(
            f"CREATE TEMP TABLE {{p}}_typed AS SELECT __row, {cols} FROM {{p}}_stage {joins} "
            f"WHERE NOT ({bad})"
        )
        self.sql(
            f"CREATE TEMP TABLE {{p}}_valid AS SELECT *, {sql_row_digest(self.table)} AS __digest "
            "FROM {p}_typed"
        )
        self.sql("DROP TABLE {p}_typed")
        self.invalid = self.one("SELECT count(*) FROM {p}_stage") - self.one(
            "SELECT count(*) FROM {p}_valid"
        )
        k = f'"{self.table.key_stored}"'
        self.sql(
            f"CREATE TEMP TABLE {{p}}_dups AS SELECT v.__row, 'same key as row ' || d.first AS detail "
            f"FROM {{p}}_valid v JOIN (SELECT {k}, min(__row) AS first FROM {{p}}_valid GROUP BY {k} "
            f"HAVING count(*) > 1) d USING ({k}) WHERE v.__row <> d.first "
            f"UNION ALL SELECT __row, 'already in the vault' FROM {{p}}_valid "
            f"WHERE {k} IN (SELECT {k} FROM {target} WHERE {self._kept()})"
        )

    def _kept(self) -> str:
        """The stored rows a new row's key may not repeat: all but the one superseded."""
        if self.supersedes is None:
            return "TRUE"
        ref = self.supersedes.ref  # validated: a contribution id and an integer
        return f"NOT (contribution_id = '{ref.contribution_id}' AND row_no = {int(ref.row)})"

    def number_accepted(self, any_rejected: bool) -> None:
        """Leaf indices: the accepted rows in file order, from 0."""
        stored = ", ".join(f'"{c.stored_name}"' for c in self.table.columns)
        if not any_rejected:
            self.accepted_sql = (
                f"SELECT __row - 1 AS row_no, {stored}, __digest FROM {self.p}_valid"
            )
            return
        self.sql(
            "CREATE TEMP TABLE {p}_accepted AS SELECT row_number() OVER (ORDER BY __row) - 1 AS row_no, "
            f"{stored}, __digest FROM {{p}}_valid WHERE __row NOT IN (SELECT __row FROM {{p}}_dups)"
        )
        self.accepted_sql = f"SELECT * FROM {self.p}_accepted"

    def leaf_hashes(self) -> pa.ChunkedArray:
        """The accepted rows' digests (their Merkle leaf hashes) in leaf order, as Arrow.

        Sorted by Arrow after the fetch: cheaper than an ORDER BY in DuckDB at this size.
        """
        table = self.con.execute(
            f"SELECT row_no, __digest FROM ({self.accepted_sql})"
        ).to_arrow_table()
        return table.sort_by("row_no").column("__digest")

    def problems(self) -> Any:
        """Every problem as (row, column, code, detail), ordered by row."""
        problems = row_problems_sql(self.table, self.vault.as_of)
        invalid = "FALSE" if self.invalid == 0 else "__row NOT IN (SELECT __row FROM {p}_valid)"
        return self.sql(
            "SELECT __row, NULL, 'unparsable', error_type FROM {p}_bad "
            "UNION ALL SELECT __row, p.column, p.code, p.detail FROM "
            f"(SELECT __row, unnest({problems}) AS p FROM {{p}}_stage WHERE {invalid}) "
            f"UNION ALL SELECT __row, '{self.table.key[0]}', 'duplicate', detail FROM {{p}}_dups "
            "ORDER BY 1"
        )

    def drop(self) -> None:
        """Drop every temporary table and view of this run (names start with its prefix)."""
        objects = self.con.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = 'temp' AND starts_with(table_name, ?)",
            [self.p],
        ).fetchall()
        for name, kind in objects:
            self.con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {name}")


def _write_report(run: _Run, path: Path, csv_lines: bool) -> int:
    """Write the rejection report; returns the number of distinct rejected rows."""
    cursor = run.problems()
    rows: set[int] = set()
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "line", "column", "code", "message_zh", "message_en"])
        while batch := cursor.fetchmany(10_000):
            for row, column, code, detail in batch:
                rows.add(row)
                zh, en = message(code, detail or "")
                w.writerow([row, row + 1 if csv_lines else "", column or "", code, zh, en])
    return len(rows)


def _receipt(record: dict[str, Any], report_dir: Path, already: bool = False) -> Receipt:
    report = report_dir / f"{record['contribution_id']}.csv"
    return Receipt(
        contribution_id=record["contribution_id"],
        provider=record["provider"],
        table=record["table_name"],
        file_name=record["file_name"],
        file_sha256=record["file_sha256"],
        format=record["format"],
        submitted=record["submitted"],
        accepted=record["accepted"],
        rejected=record["rejected"],
        status=record["status"],
        refusal=record["refusal"],
        merkle_root=record["merkle_root"],
        schema_digest=record["schema_digest"],
        received_at=record["received_at"],
        report=str(report) if report.exists() else None,
        already_loaded=already,
        anchor=record.get("anchor"),
        origin=record.get("origin"),
        attestation=record.get("attestation"),
    )


def _existing(con: Connection, provider: str, table: str, sha: str) -> dict[str, Any] | None:
    cur = con.execute(
        f"SELECT * FROM {alias(provider)}.contributions WHERE table_name = ? AND file_sha256 = ?",
        [table, sha],
    )
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


def _insert_record(con: Connection, record: dict[str, Any]) -> None:
    names = ", ".join(record)
    marks = ", ".join("?" for _ in record)
    con.execute(
        f"INSERT INTO {alias(record['provider'])}.contributions ({names}) VALUES ({marks})",
        list(record.values()),
    )


def ingest_file(
    vault: Vault,
    provider: str,
    table_name: str,
    path: Path | ContributionSource,
    con: Connection | None = None,
    limits: IngestLimits | None = None,
    supersedes: Supersession | None = None,
    attestation: Attestation | None = None,
) -> Receipt:
    """Ingest one contribution (a file, or a `vault.sealed.SealedUpload`); see the module
    docstring for the guarantees. It runs on ``con`` or else on a cursor of its own (its own
    transaction: readers on other cursors never wait for it nor see it half-done).
    ``limits`` default to the vault's (`VaultConfig.limits`). With an ``attestation`` (the
    provider's verified statement) the record's origin is ``provider`` and a file whose data
    rows differ from the stated count is refused as a whole; without one it is an
    ``operator`` load, and its receipt says so. With ``supersedes`` it is a
    correction (`Supersession`): refused (``correction_must_restate_the_record``, recorded)
    unless it is exactly one valid row restating that stored row, which it then replaces;
    `RowNotFound` if that row is not stored (or no longer).

    Raises `vault.limits.ContributionTooLarge` (a `ContributionRefused` without a receipt:
    nothing is recorded) when the header or footer, or the decoded size, exceeds a limit,
    before any row is staged; `ContributionRefused` (carrying the recorded receipt) when the
    file's columns make it unacceptable as a whole (a prohibited, unknown, duplicated,
    missing or nested column, or a header that cannot be read); `InputFileError` when the
    file cannot be read at all.
    """
    table = vault.registry.check_contributes(provider, table_name)
    source = as_source(path)
    cursor = con or vault.con.cursor()
    try:
        limits = limits or vault.config.limits
        return _ingest(vault, provider, table, source, cursor, limits, supersedes, attestation)
    finally:
        if con is None:
            cursor.close()


def _ingest(
    vault: Vault,
    provider: str,
    table: Table,
    source: ContributionSource,
    con: Connection,
    limits: IngestLimits,
    supersedes: Supersession | None,
    attestation: Attestation | None = None,
) -> Receipt:
    existing = _existing(con, provider, table.name, source.sha256)
    if existing is not None:
        receipt = _receipt(existing, vault.config.reports_dir, already=True)
        if receipt.status == "refused":
            raise ContributionRefused(receipt.refusal or "", None, receipt)
        return receipt
    if supersedes is not None:
        _check_superseded(vault, provider, table, supersedes.ref)
    cid = contribution_id(provider, table.name, source.sha256)
    run = _Run(vault, con, table, cid, supersedes)
    try:
        return _load(run, provider, source, limits, attestation)
    finally:
        run.drop()


def _load(
    run: _Run,
    provider: str,
    source: ContributionSource,
    limits: IngestLimits,
    attestation: Attestation | None = None,
) -> Receipt:
    vault, table = run.vault, run.table
    found = probe(source, limits)  # the header or footer alone, before any row is read
    record: dict[str, Any] = {
        "contribution_id": run.cid,
        "provider": provider,
        "table_name": table.name,
        "file_name": source.name,
        "file_sha256": source.sha256,
        "format": source.fmt,
        "schema_digest": vault.registry.digest,
        "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "origin": "provider" if attestation else "operator",
        "attestation": attestation.document if attestation else None,
    }
    refusal = found.refusal or _header_refusal(table, found.columns)
    if refusal is None:
        refusal = _stage(run, source, found, limits)
    if refusal is not None:
        return _refuse(run.con, vault, record, found.rows, refusal)
    submitted = run.one("SELECT count(*) FROM {p}_stage") + run.one("SELECT count(*) FROM {p}_bad")
    if attestation is not None and submitted != attestation.rows:
        stated = ("the file's data rows differ from the provider's signed statement", None)
        return _refuse(run.con, vault, record, submitted, stated)
    target = f"{alias(provider)}.{table.name}"
    run.validate(target)
    report_path = vault.config.reports_dir / f"{run.cid}.csv"
    rejected = _write_report(run, report_path, source.fmt == "csv")
    run.number_accepted(any_rejected=rejected > 0)
    accepted = run.one(f"SELECT count(*) FROM ({run.accepted_sql})")
    if accepted + rejected != submitted:  # fail closed: never record counts that do not add up
        raise ContributionRefused("row accounting failed", None)
    if rejected == 0:
        report_path.unlink()
    if run.supersedes is not None and not _restates(run, accepted, rejected):
        return _refuse(
            run.con, vault, record, submitted, ("correction_must_restate_the_record", None)
        )
    record |= {
        "submitted": submitted,
        "accepted": accepted,
        "rejected": rejected,
        "status": "accepted",
        "refusal": None,
    }
    _commit(run, target, record)
    vault.publish_receipts()
    return _receipt(record, vault.config.reports_dir)


def _stage(
    run: _Run, source: ContributionSource, found: Probe, limits: IngestLimits
) -> tuple[str, str | None] | None:
    """Stage the rows (a Parquet file's decoded size counted first); a refusal if its pages
    cannot be read."""
    with source.readable_by(run.con) as location:
        if source.fmt == "parquet":
            refusal = check_decoded(run.con, location, found, limits)
            if refusal is not None:
                return refusal
        staging.stage(run, location, source.fmt, found.columns)
    return None


def _merkle_root(leaves: pa.ChunkedArray, batch: int = 1 << 16) -> str:
    """RFC 6962 root over Arrow leaf hashes, in batches: a few MB of Python objects at a time
    instead of one list of millions."""
    frontier = merkle.Frontier()
    for offset in range(0, len(leaves), batch):
        frontier.extend(leaves.slice(offset, batch).to_pylist())
    return frontier.root().hex()


def _commit(run: _Run, target: str, record: dict[str, Any]) -> None:
    """Load the rows (with their digests) and the record in one transaction.

    The Merkle root is computed in a Python thread while DuckDB writes the rows (DuckDB
    releases the GIL), and recorded before the commit.
    """
    leaves = run.leaf_hashes()
    with ThreadPoolExecutor(max_workers=1) as pool:
        root = pool.submit(_merkle_root, leaves)
        stored = ", ".join(f'"{c.stored_name}"' for c in run.table.columns)
        con = run.con
        con.execute("BEGIN TRANSACTION")
        try:
            run.sql(
                f"INSERT INTO {target} SELECT '{run.cid}', row_no, __digest, {stored} "
                f"FROM ({run.accepted_sql})"
            )
            record["merkle_root"] = root.result()
            _insert_record(con, record)
            if run.supersedes is not None:
                _supersede(run, record)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def _check_superseded(vault: Vault, provider: str, table: Table, ref: RowRef) -> None:
    """The row a correction supersedes must be stored, in this provider's table."""
    found = find_row(vault, ref)  # RowNotFound
    if found.provider != provider or ref.table != table.name:
        raise RowNotFound(ref.contribution_id, ref.row)


def _restates(run: _Run, accepted: int, rejected: int) -> bool:
    """Whether a correction is exactly one valid row with the superseded row's key and
    subject (compared as stored: pseudonyms, not ID numbers)."""
    assert run.supersedes is not None
    if accepted != 1 or rejected != 0:
        return False
    found = find_row(run.vault, run.supersedes.ref)
    subject = run.table.subject_column
    assert subject is not None
    key, who = run.con.execute(
        f'SELECT CAST("{run.table.key_stored}" AS VARCHAR), "{subject.stored_name}" '
        f"FROM ({run.accepted_sql})"
    ).fetchone() or (None, None)
    return bool(key == found.key and who == found.subject)


def _supersede(run: _Run, record: dict[str, Any]) -> None:
    """Inside the commit's transaction: replace the superseded row, and say so."""
    assert run.supersedes is not None
    ref, provider = run.supersedes.ref, record["provider"]
    remove_row(run.con, provider, ref)
    on = dt.date.fromisoformat(record["received_at"][:10])
    record_change(run.con, provider, ref, "superseded", on, run.supersedes.reference,
                  run.cid, record["received_at"])  # fmt: skip


def _refuse(
    con: Connection,
    vault: Vault,
    record: dict[str, Any],
    submitted: int,
    refusal: tuple[str, str | None],
) -> Receipt:
    reason, column = refusal
    record |= {
        "submitted": submitted,
        "accepted": 0,
        "rejected": submitted,
        "status": "refused",
        "refusal": reason,
        "merkle_root": merkle.root([]).hex(),
    }
    _insert_record(con, record)
    vault.publish_receipts()
    receipt = _receipt(record, vault.config.reports_dir)
    raise ContributionRefused(reason, column, receipt)


def contribution_files(root: Path) -> list[tuple[str, str, Path]]:
    """(provider, table, path) for every ``<provider>/<table>.csv|.parquet`` under ``root``.

    Folders whose names start with ``_`` or ``.`` (such as the generator's ``_truth``) are skipped.
    """
    if not root.is_dir():
        raise InputFileError(str(root), "not a directory")
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] not in "_."):
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in (".csv", ".parquet"):
                found.append((folder.name, f.stem, f))
    return found


def ingest_directory(
    vault: Vault,
    root: Path,
    on_file: Callable[[str, str, Path], None] | None = None,
    workers: int = 2,
) -> list[Receipt | ContributionRefused]:
    """Ingest every contribution file under ``root``; a refused file does not stop the others.

    Every provider and table name is checked before anything is loaded. Up to ``workers``
    files are ingested at once, each on its own cursor (its own transaction); results come
    back in file order. Larger files start first, so the slowest one is not left for last.
    """
    files = contribution_files(root)
    for provider, table, _ in files:
        vault.registry.check_contributes(provider, table)

    def one(item: tuple[str, str, Path]) -> Receipt | ContributionRefused:
        provider, table, path = item
        if on_file:
            on_file(provider, table, path)
        cursor = vault.con.cursor()
        try:
            return ingest_file(vault, provider, table, path, cursor)
        except ContributionRefused as exc:
            return exc
        finally:
            cursor.close()

    order = sorted(range(len(files)), key=lambda i: -files[i][2].stat().st_size)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {i: pool.submit(one, files[i]) for i in order}
        return [futures[i].result() for i in range(len(files))]
