"""Snapshots of the audit trail, and the self-contained export directory an auditor takes away.

Export directory (``dexin-audit-export/1``)::

    manifest.json          {"format", "origin", "entries", "checkpoints", "cosignatures"}
    entries.jsonl          entry i on line i: its exact canonical bytes, then "\\n"
    leaves.bin             the leaf hashes the log stored (32 bytes each), to name edits
    checkpoints/<size:020d>.note     every signed checkpoint up to the snapshot
    cosignatures/<size:020d>.json    aggregate cosignature bundles (with anchor references)
    keys/log.vkey          the log's verifier key, as published by the operator
    keys/witnesses.txt     the witness vkeys that appear in the bundles

A snapshot stops at the latest checkpoint, so every exported entry is covered by a signed
checkpoint. Keys in an export are the operator's claim: an auditor pins the log key and
takes the witness set from the ledger (``audit.verify``). Exporting reads the log without
any lock, so it works while the gateway appends.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from audit.cosign import CosignatureBundle, WitnessPublicKey
from audit.errors import LogError
from audit.note import NoteVerifier
from audit.reader import LogReader
from audit.witness import BundleStore

__all__ = [
    "EXPORT_FORMAT",
    "Snapshot",
    "export_log",
    "load_export",
    "signers_of",
    "snapshot_log",
    "write_export",
]

EXPORT_FORMAT = "dexin-audit-export/1"


@dataclass
class Snapshot:
    """Everything the verifier reads, from an export or from a live log directory.

    ``entries()`` yields each entry's leaf data in log order; ``checkpoints`` and
    ``bundles`` map the size in the file name to the raw file content.
    """

    entries: Callable[[], Iterator[bytes]]
    count: int
    leaf_hashes: bytes | None
    checkpoints: dict[int, bytes]
    bundles: dict[int, bytes]
    log_key: NoteVerifier | None
    witness_keys: list[WitnessPublicKey] = field(default_factory=list)


def snapshot_log(reader: LogReader) -> Snapshot:
    """A snapshot of a live log up to its latest checkpoint (no lock is taken)."""
    sizes = reader.history.sizes()
    count = sizes[-1] if sizes else 0
    checkpoints = {s: reader.history.path(s).read_bytes() for s in sizes}
    store = BundleStore(reader.directory / "cosignatures")
    bundles = {
        s: (store.directory / f"{s:020d}.json").read_bytes() for s in store.sizes() if s <= count
    }
    return Snapshot(
        entries=lambda: reader.entries(limit=count),
        count=count,
        leaf_hashes=reader.leaf_hashes(count),
        checkpoints=checkpoints,
        bundles=bundles,
        log_key=reader.log_key(),
        witness_keys=signers_of(bundles),
    )


def export_log(
    reader: LogReader, out: Path, progress: Callable[[int], None] | None = None
) -> Snapshot:
    """Write the export directory ``out`` (which must not exist yet); return its snapshot.

    Raises LogError if the log holds fewer complete entries than its latest checkpoint.
    """
    snap = snapshot_log(reader)
    write_export(snap, out, str(reader.directory), progress)
    return snap


def write_export(
    snap: Snapshot, out: Path, source: str, progress: Callable[[int], None] | None = None
) -> None:
    """Write ``snap`` as the export directory ``out`` (which must not exist yet); raises
    LogError (naming ``source``) if fewer entries come than the snapshot counts."""
    out.mkdir(parents=True)
    written = _write_entries(out / "entries.jsonl", snap.entries(), progress)
    if written != snap.count:
        shutil.rmtree(out)
        raise LogError(source)
    (out / "leaves.bin").write_bytes(snap.leaf_hashes or b"")
    _write_files(out / "checkpoints", snap.checkpoints, ".note")
    _write_files(out / "cosignatures", snap.bundles, ".json")
    (out / "keys").mkdir()
    (out / "keys" / "log.vkey").write_text(_vkey(snap.log_key))
    (out / "keys" / "witnesses.txt").write_text("".join(k.vkey() + "\n" for k in snap.witness_keys))
    (out / "manifest.json").write_text(json.dumps(_manifest(snap), indent=2) + "\n")


def load_export(directory: Path) -> Snapshot:
    """Read an export directory (nothing is verified here). Raises LogError if unusable."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        raise LogError(str(directory)) from None
    if manifest.get("format") != EXPORT_FORMAT:
        raise LogError(str(directory))
    leaves = directory / "leaves.bin"
    return Snapshot(
        entries=lambda: _read_lines(directory / "entries.jsonl"),
        count=int(manifest.get("entries", 0)),
        leaf_hashes=leaves.read_bytes() if leaves.exists() else None,
        checkpoints=_read_files(directory / "checkpoints", ".note"),
        bundles=_read_files(directory / "cosignatures", ".json"),
        log_key=_read_vkey(directory / "keys" / "log.vkey"),
        witness_keys=_read_witnesses(directory / "keys" / "witnesses.txt"),
    )


def _write_entries(
    path: Path, entries: Iterator[bytes], progress: Callable[[int], None] | None
) -> int:
    count = 0
    with path.open("wb", buffering=1 << 20) as f:
        for data in entries:
            f.write(data + b"\n")
            count += 1
            if progress is not None and count % 10_000 == 0:
                progress(count)
    return count


def _read_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb", buffering=1 << 20) as f:
        for line in f:
            yield line[:-1] if line.endswith(b"\n") else line


def _write_files(directory: Path, files: dict[int, bytes], suffix: str) -> None:
    directory.mkdir()
    for size, data in files.items():
        (directory / f"{size:020d}{suffix}").write_bytes(data)


def _read_files(directory: Path, suffix: str) -> dict[int, bytes]:
    if not directory.exists():
        return {}
    found = {}
    for path in directory.iterdir():
        stem = path.name.removesuffix(suffix)
        if path.name.endswith(suffix) and len(stem) == 20 and stem.isdigit():
            found[int(stem)] = path.read_bytes()
    return dict(sorted(found.items()))


def signers_of(bundles: dict[int, bytes]) -> list[WitnessPublicKey]:
    """The witnesses that signed any of ``bundles`` (raw bundle files), each once."""
    keys: dict[str, WitnessPublicKey] = {}
    for data in bundles.values():
        for signer in CosignatureBundle.from_json(data).signers:
            keys[signer.vkey()] = signer
    return list(keys.values())


def _vkey(key: NoteVerifier | None) -> str:
    return "" if key is None else key.vkey() + "\n"


def _read_vkey(path: Path) -> NoteVerifier | None:
    text = path.read_text().strip() if path.exists() else ""
    return NoteVerifier.from_vkey(text) if text else None


def _read_witnesses(path: Path) -> list[WitnessPublicKey]:
    lines = path.read_text().split() if path.exists() else []
    return [WitnessPublicKey.from_vkey(line) for line in lines]


def _manifest(snap: Snapshot) -> dict[str, object]:
    return {
        "format": EXPORT_FORMAT,
        "origin": None if snap.log_key is None else snap.log_key.name,
        "entries": snap.count,
        "checkpoints": sorted(snap.checkpoints),
        "cosignatures": sorted(snap.bundles),
    }
