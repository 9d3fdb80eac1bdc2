"""The auditor's verifier: checks a snapshot of the audit trail without trusting the operator.

``verify_snapshot`` returns a ``Verdict`` or raises ``VerificationError`` naming the first
problem. Checks, in this order:

1. every checkpoint parses (c2sp.org/tlog-checkpoint), its file name matches its size, all
   share one origin, and the log's Ed25519 signature verifies under the *trusted* log key
   (``check="checkpoint"``, ``"checkpoint-signature"``);
2. every entry, in order: a valid entry of this format (``"entry"``), carrying its own
   position (``"entry-order"``: deleted, inserted or reordered entries), in RFC 8785
   canonical form (``"entry-canonical"``), hashing to the leaf the log recorded when one is
   there (``"leaf"``: names an edited entry), allowed by the access policy (``"policy"``);
3. the tree recomputed from the entries has each checkpoint's root at its size
   (``"checkpoint-root"``, naming the entry range since the previous checkpoint), no
   checkpoint claims more entries than there are (``"checkpoint-size"``: truncation), and
   no entry lies beyond the latest checkpoint (``"uncovered"``);
4. each pair of consecutive checkpoints is consistent (RFC 9162 §2.1.4), by a proof built
   from the recomputed tree (``"consistency"``);
5. each cosignature bundle is for a checkpoint of the snapshot, its signers are trusted
   witnesses, at least the threshold of them, and the BLS aggregate verifies
   (``"cosignature"``); and its anchor on the ledger binds root, size and bundle digest
   (``"anchor"``). With ``require_anchor`` a non-empty log needs at least one anchored
   checkpoint.

Trust: the log key and witness set come from the caller (``Trust``); where they come from
the snapshot instead (the operator's claim), the verdict's ``notes`` say so.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from audit.anchor import Anchorer
from audit.checkpoint import Checkpoint, SignedCheckpoint
from audit.cosign import CosignatureBundle, WitnessPolicy
from audit.entrycheck import Chunk, Problem, check_chunk
from audit.errors import (
    AnchorError,
    CheckpointError,
    CosignatureError,
    NoteError,
    ProofError,
    VerificationError,
)
from audit.export import Snapshot
from audit.merkle import HASH_SIZE, verify_consistency
from audit.note import NoteVerifier
from audit.policy import AccessPolicy
from audit.tree import MemoryLevels, StoredTree

__all__ = ["Progress", "Trust", "Verdict", "verify_snapshot"]

_CHUNK = 20_000
_PARALLEL_FROM = 100_000

Progress = Callable[[str, int, int], None]
"""``(stage, done, total)``: called as verification advances."""


@dataclass(frozen=True)
class Trust:
    """What the auditor trusts, obtained independently of the operator.

    ``log_key``: the log's pinned verifier key (else the snapshot's, noted).
    ``witnesses``: the trusted witness set (else the anchorer's, else the snapshot's).
    """

    log_key: NoteVerifier | None = None
    witnesses: WitnessPolicy | None = None


@dataclass
class Verdict:
    """A passed verification: what was covered and on what trust."""

    entries: int
    root: bytes
    checkpoints: list[int]
    cosigned: list[int]
    anchored: dict[int, str]
    policy_checked: bool
    anchors_checked: bool
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "ok": True,
            "entries": self.entries,
            "root": self.root.hex(),
            "checkpoints": len(self.checkpoints),
            "latest_checkpoint": self.checkpoints[-1] if self.checkpoints else None,
            "cosigned": self.cosigned,
            "anchored": {str(k): v for k, v in self.anchored.items()},
            "policy_checked": self.policy_checked,
            "anchors_checked": self.anchors_checked,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


def verify_snapshot(
    snapshot: Snapshot,
    trust: Trust,
    *,
    anchorer: Anchorer | None = None,
    policy: AccessPolicy | None = None,
    require_anchor: bool = True,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Verdict:
    """Verify ``snapshot``; return the verdict or raise ``VerificationError`` (first problem).

    Without ``anchorer`` anchors are not checked (the verdict says so and
    ``require_anchor`` must be False); without ``policy`` the access policy is not checked.
    Snapshots of 100,000 entries or more are checked in ``workers`` processes (default: one
    per CPU, up to 4, on machines with at least 4 CPUs; else in this process); the policy
    must then be picklable, and the caller's main module import-safe (spawn).
    """
    started = time.perf_counter()
    run = _Run(snapshot, trust, anchorer, policy, progress)
    run.workers = workers
    verdict = run.execute(require_anchor)
    verdict.seconds = time.perf_counter() - started
    return verdict


class _Run:
    def __init__(
        self,
        snapshot: Snapshot,
        trust: Trust,
        anchorer: Anchorer | None,
        policy: AccessPolicy | None,
        progress: Progress | None,
    ) -> None:
        self.snap = snapshot
        self.trust = trust
        self.anchorer = anchorer
        self.policy = policy
        self.progress = progress or (lambda stage, done, total: None)
        self.notes: list[str] = []
        self.tree = StoredTree(MemoryLevels())
        self.covered = max(snapshot.checkpoints, default=0)
        self.workers: int | None = None

    def execute(self, require_anchor: bool) -> Verdict:
        if require_anchor and self.anchorer is None:
            raise VerificationError("anchor", "anchors must be checked but no ledger was given")
        checkpoints = self._checkpoints()
        self._entries(checkpoints)
        self._consistency(checkpoints)
        cosigned, anchored = self._bundles(checkpoints)
        if require_anchor and self.tree.size and not anchored:
            raise VerificationError("anchor", "no checkpoint is cosigned and anchored")
        if self.policy is None:
            self.notes.append("access policy NOT checked: no approval/consent records supplied")
        return Verdict(
            entries=self.tree.size,
            root=self.tree.root(),
            checkpoints=[c.size for c in checkpoints],
            cosigned=cosigned,
            anchored=anchored,
            policy_checked=self.policy is not None,
            anchors_checked=self.anchorer is not None,
            notes=self.notes,
        )

    # -- 1. checkpoints ----------------------------------------------------------------

    def _checkpoints(self) -> list[Checkpoint]:
        key = self._log_key()
        result = []
        for size, data in sorted(self.snap.checkpoints.items()):
            signed = _parse_checkpoint(size, data)
            try:
                signed.verify(key)
            except (NoteError, CheckpointError) as exc:
                raise VerificationError(
                    "checkpoint-signature", f"log signature rejected: {exc}", checkpoint=size
                ) from None
            result.append(signed.checkpoint)
        if not result and self.snap.count:
            raise VerificationError("checkpoint", "entries but no checkpoint")
        return result

    def _log_key(self) -> NoteVerifier:
        if self.trust.log_key is not None:
            return self.trust.log_key
        if self.snap.log_key is None:
            raise VerificationError("checkpoint-signature", "no log key to verify checkpoints")
        self.notes.append("log key taken from the snapshot (pin it with --log-key)")
        return self.snap.log_key

    # -- 2 and 3. entries and roots ----------------------------------------------------

    def _entries(self, checkpoints: list[Checkpoint]) -> None:
        pending = list(checkpoints)
        self._match_roots(pending)
        with _pool(self.snap.count, self.workers) as pool:
            for leaves, problem in _results(pool, self._chunks()):
                self._add_leaves(leaves, pending)
                if problem is not None:
                    raise VerificationError(problem.check, problem.detail, entry=problem.entry,
                                            expected=problem.expected, actual=problem.actual)  # fmt: skip
                self.progress("entries", self.tree.size, self.snap.count)
        if pending:
            cp = pending[0]
            raise VerificationError(
                "checkpoint-size", "checkpoint claims more entries than there are",
                checkpoint=cp.size, expected=str(cp.size), actual=str(self.tree.size),
            )  # fmt: skip

    def _chunks(self) -> Iterator[Chunk]:
        stored = self.snap.leaf_hashes or b""
        batch: list[bytes] = []
        start = 0
        for data in self.snap.entries():
            batch.append(data)
            if len(batch) == _CHUNK:
                yield self._chunk(start, batch, stored)
                start, batch = start + len(batch), []
        if batch:
            yield self._chunk(start, batch, stored)

    def _chunk(self, start: int, batch: list[bytes], stored: bytes) -> Chunk:
        leaves = stored[start * HASH_SIZE : (start + len(batch)) * HASH_SIZE]
        return Chunk(start, batch, leaves, self.covered, self.policy)

    def _add_leaves(self, leaves: bytes, pending: list[Checkpoint]) -> None:
        for offset in range(0, len(leaves), HASH_SIZE):
            self.tree.append(leaves[offset : offset + HASH_SIZE])
            if pending and pending[0].size == self.tree.size:
                self._match_roots(pending)

    def _match_roots(self, pending: list[Checkpoint]) -> None:
        while pending and pending[0].size == self.tree.size:
            cp = pending.pop(0)
            calculated = self.tree.root()
            if calculated != cp.root:
                raise VerificationError(
                    "checkpoint-root",
                    f"root differs from the entries; a change lies in entries "
                    f"[{self._previous_size(cp.size)}, {cp.size})",
                    checkpoint=cp.size, expected=cp.root.hex(), actual=calculated.hex(),
                )  # fmt: skip

    def _previous_size(self, size: int) -> int:
        return max((s for s in self.snap.checkpoints if s < size), default=0)

    # -- 4. consistency ----------------------------------------------------------------

    def _consistency(self, checkpoints: list[Checkpoint]) -> None:
        for old, new in itertools.pairwise(checkpoints):
            proof = self.tree.consistency_proof(old.size, new.size)
            try:
                verify_consistency(old.size, new.size, proof, old.root, new.root)
            except ProofError:
                raise VerificationError(
                    "consistency",
                    f"checkpoint is not an extension of checkpoint {old.size}",
                    checkpoint=new.size,
                ) from None
        self.progress("checkpoints", len(checkpoints), len(checkpoints))

    # -- 5. cosignatures and anchors ---------------------------------------------------

    def _bundles(self, checkpoints: list[Checkpoint]) -> tuple[list[int], dict[int, str]]:
        by_size = {c.size: c for c in checkpoints}
        cosigned: list[int] = []
        anchored: dict[int, str] = {}
        if not self.snap.bundles:
            return cosigned, anchored
        today = self._witness_policy()
        historic = (
            self.trust.witnesses is None and self.anchorer is not None and bool(today.public_keys)
        )
        unknown = 0
        for done, (size, data) in enumerate(sorted(self.snap.bundles.items())):
            policy = today
            if historic:  # the set the bundle's witnesses were asked under (see `Anchorer`)
                assert self.anchorer is not None
                root = _bundle_root(data)
                then = None if root is None else self.anchorer.witness_policy_at_anchor(root)
                unknown += then is None
                policy = then or today
            bundle = self._bundle(size, data, by_size, policy)
            cosigned.append(size)
            if self.anchorer is not None:
                anchored[size] = _anchor(self.anchorer, bundle)
            self.progress("cosignatures", done + 1, len(self.snap.bundles))
        if unknown:
            self.notes.append(f"{unknown} cosignature bundle(s) checked against today's witness "
                              "set: the ledger could not say which set was in force when they "
                              "were anchored")  # fmt: skip
        return cosigned, anchored

    def _bundle(
        self, size: int, data: bytes, by_size: dict[int, Checkpoint], policy: WitnessPolicy
    ) -> CosignatureBundle:
        try:
            bundle = CosignatureBundle.from_json(data)
            if bundle.size != size or size not in by_size:
                raise CosignatureError(size, "bundle names no checkpoint of the snapshot")
            bundle.verify(by_size[size], policy)
        except CosignatureError as exc:
            raise VerificationError("cosignature", exc.reason, checkpoint=size) from None
        return bundle

    def _witness_policy(self) -> WitnessPolicy:
        if self.trust.witnesses is not None:
            return self.trust.witnesses
        if self.anchorer is not None:
            policy = self.anchorer.witness_policy()
            if policy.public_keys:
                return policy
            self.notes.append("the ledger's witness set is empty")
        self.notes.append("witness keys taken from the snapshot (the operator's claim)")
        keys = frozenset(k.public_key for k in self.snap.witness_keys)
        return WitnessPolicy(1, keys)


def _bundle_root(data: bytes) -> bytes | None:
    """The checkpoint root a stored bundle names, or None if it does not parse (`_bundle`
    then reports it)."""
    try:
        return CosignatureBundle.from_json(data).root
    except CosignatureError:
        return None


def _anchor(anchorer: Anchorer, bundle: CosignatureBundle) -> str:
    try:
        return anchorer.verify_checkpoint_anchor(bundle.size, bundle.root, bundle.digest())
    except AnchorError as exc:
        raise VerificationError("anchor", exc.reason, checkpoint=bundle.size) from None


def _parse_checkpoint(size: int, data: bytes) -> SignedCheckpoint:
    try:
        signed = SignedCheckpoint.parse(data)
    except (NoteError, CheckpointError) as exc:
        raise VerificationError("checkpoint", f"malformed: {exc.reason}", checkpoint=size) from None
    except UnicodeDecodeError:
        raise VerificationError("checkpoint", "malformed: not UTF-8", checkpoint=size) from None
    if signed.checkpoint.size != size:
        raise VerificationError(
            "checkpoint", "checkpoint file holds another size", checkpoint=size,
            expected=str(size), actual=str(signed.checkpoint.size),
        )  # fmt: skip
    return signed


@contextlib.contextmanager
def _pool(count: int, workers: int | None) -> Iterator[tuple[ProcessPoolExecutor, int] | None]:
    """Worker processes for large snapshots (spawned: safe in threaded callers)."""
    if workers is None:  # spawning pays off only with spare cores and many entries
        cores = os.cpu_count() or 1
        workers = min(cores, 4) if count >= _PARALLEL_FROM and cores >= 4 else 1
    if workers < 2:
        yield None
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield pool, workers


def _results(
    pool: tuple[ProcessPoolExecutor, int] | None, chunks: Iterator[Chunk]
) -> Iterator[tuple[bytes, Problem | None]]:
    """Results of ``check_chunk`` in chunk order, a bounded number in flight."""
    if pool is None:
        yield from map(check_chunk, chunks)
        return
    executor, workers = pool
    window: collections.deque[Future[tuple[bytes, Problem | None]]] = collections.deque()
    for chunk in chunks:
        window.append(executor.submit(check_chunk, chunk))
        if len(window) >= 2 * workers:
            yield window.popleft().result()
    while window:
        yield window.popleft().result()
