"""The encrypted vault of the 17 source tables: the schema registry, keys, ingest (row by row,
pseudonymised, digested, Merkle-rooted), the encrypted stores, derived tables, retention and
row proofs. The only package that imports DuckDB. Other packages import the names below
from ``vault`` itself, never its modules (`tests/test_architecture.py` holds them to it).

Names resolve lazily (PEP 562), so importing the package costs nothing until a name is
used: the CLI answers ``--help`` at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vault.digest import sql_row_digest as sql_row_digest
    from vault.errors import ContributionRefused as ContributionRefused
    from vault.errors import InvalidIdNumber as InvalidIdNumber
    from vault.errors import RowChangeRefused as RowChangeRefused
    from vault.errors import RowNotFound as RowNotFound
    from vault.errors import VaultBusy as VaultBusy
    from vault.errors import VaultError as VaultError
    from vault.errors import VaultNotInitialised as VaultNotInitialised
    from vault.ingest import Attestation as Attestation
    from vault.ingest import Receipt as Receipt
    from vault.ingest import Supersession as Supersession
    from vault.ingest import contribution_files as contribution_files
    from vault.ingest import ingest_directory as ingest_directory
    from vault.ingest import ingest_file as ingest_file
    from vault.ingest import stored_expr as stored_expr
    from vault.keys import Keyring as Keyring
    from vault.keys import LocalKeyProvider as LocalKeyProvider
    from vault.keys import create_key_file as create_key_file
    from vault.keys import master_key_from as master_key_from
    from vault.keys import read_key_file as read_key_file
    from vault.limits import ContributionTooLarge as ContributionTooLarge
    from vault.limits import IngestLimits as IngestLimits
    from vault.proofs import prove_row as prove_row
    from vault.pseudonym import HEX_CHARS as HEX_CHARS
    from vault.pseudonym import pseudonymise as pseudonymise
    from vault.registry import Column as Column
    from vault.registry import PublicationWindow as PublicationWindow
    from vault.registry import Registry as Registry
    from vault.registry import Table as Table
    from vault.registry import load_registry as load_registry
    from vault.retention import purge_expired as purge_expired
    from vault.rotation import rotate_derived_key as rotate_derived_key
    from vault.rotation import rotate_provider_key as rotate_provider_key
    from vault.rows import RowRef as RowRef
    from vault.rows import StoredRecord as StoredRecord
    from vault.rows import delete_row as delete_row
    from vault.rows import find_row as find_row
    from vault.rows import record_repair as record_repair
    from vault.rows import row_changes as row_changes
    from vault.rows import subject_records as subject_records
    from vault.rows import superseding as superseding
    from vault.sealed import SealedUpload as SealedUpload
    from vault.snapshots import SnapshotMissing as SnapshotMissing
    from vault.snapshots import SnapshotReader as SnapshotReader
    from vault.snapshots import VaultReadOnly as VaultReadOnly
    from vault.snapshots import current_snapshot as current_snapshot
    from vault.status import vault_status as vault_status
    from vault.store import APP_SECRET_PREFIX as APP_SECRET_PREFIX
    from vault.store import PSEUDONYM_KEY as PSEUDONYM_KEY
    from vault.store import RECEIPTS_FILE as RECEIPTS_FILE
    from vault.store import Vault as Vault
    from vault.store import VaultConfig as VaultConfig
    from vault.verify import ContributionCheck as ContributionCheck
    from vault.verify import check_contribution as check_contribution

_WHERE = {
    "APP_SECRET_PREFIX": "vault.store",
    "Column": "vault.registry",
    "ContributionCheck": "vault.verify",
    "ContributionRefused": "vault.errors",
    "ContributionTooLarge": "vault.limits",
    "HEX_CHARS": "vault.pseudonym",
    "IngestLimits": "vault.limits",
    "InvalidIdNumber": "vault.errors",
    "Keyring": "vault.keys",
    "LocalKeyProvider": "vault.keys",
    "PSEUDONYM_KEY": "vault.store",
    "PublicationWindow": "vault.registry",
    "RECEIPTS_FILE": "vault.store",
    "Attestation": "vault.ingest",
    "Receipt": "vault.ingest",
    "Registry": "vault.registry",
    "RowChangeRefused": "vault.errors",
    "RowNotFound": "vault.errors",
    "RowRef": "vault.rows",
    "SealedUpload": "vault.sealed",
    "SnapshotMissing": "vault.snapshots",
    "SnapshotReader": "vault.snapshots",
    "StoredRecord": "vault.rows",
    "Supersession": "vault.ingest",
    "Table": "vault.registry",
    "Vault": "vault.store",
    "VaultBusy": "vault.errors",
    "VaultConfig": "vault.store",
    "VaultError": "vault.errors",
    "VaultNotInitialised": "vault.errors",
    "VaultReadOnly": "vault.snapshots",
    "check_contribution": "vault.verify",
    "contribution_files": "vault.ingest",
    "create_key_file": "vault.keys",
    "current_snapshot": "vault.snapshots",
    "delete_row": "vault.rows",
    "find_row": "vault.rows",
    "ingest_directory": "vault.ingest",
    "ingest_file": "vault.ingest",
    "load_registry": "vault.registry",
    "master_key_from": "vault.keys",
    "prove_row": "vault.proofs",
    "pseudonymise": "vault.pseudonym",
    "purge_expired": "vault.retention",
    "read_key_file": "vault.keys",
    "record_repair": "vault.rows",
    "row_changes": "vault.rows",
    "rotate_derived_key": "vault.rotation",
    "rotate_provider_key": "vault.rotation",
    "sql_row_digest": "vault.digest",
    "stored_expr": "vault.ingest",
    "subject_records": "vault.rows",
    "superseding": "vault.rows",
    "vault_status": "vault.status",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value
